/** The REST bridge: the aitbc CLI's {@code /v1} HTTP dialect, translated to gRPC calls to the coordinator. */
@NullMarked
package net.aitbc.grid.bridge;

import org.jspecify.annotations.NullMarked;
