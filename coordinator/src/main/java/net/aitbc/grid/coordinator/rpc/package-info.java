/** The gRPC services: validate, map between proto and store types, and hand off to the scheduler. */
@NullMarked
package net.aitbc.grid.coordinator.rpc;

import org.jspecify.annotations.NullMarked;
