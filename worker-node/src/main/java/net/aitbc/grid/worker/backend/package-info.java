/**
 * Execution backends (embedded ONNX model, Ollama, OpenAI-compatible servers) and the router that
 * picks one.
 */
@NullMarked
package net.aitbc.grid.worker.backend;

import org.jspecify.annotations.NullMarked;
