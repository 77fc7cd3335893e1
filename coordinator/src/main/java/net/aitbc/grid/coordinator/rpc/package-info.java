/**
 * The gRPC services: validate what clients and workers send, map between protocol messages and the
 * domain's types, hand off to the scheduler, and write each worker stream through one writer.
 */
@NullMarked
package net.aitbc.grid.coordinator.rpc;

import org.jspecify.annotations.NullMarked;
