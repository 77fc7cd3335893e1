/**
 * Real {@code grid} processes started from Java: the benchmark's coordinator and the tests that
 * send real signals to real processes share this launcher and its free-port helper.
 */
@NullMarked
package net.aitbc.grid.ops.process;

import org.jspecify.annotations.NullMarked;
