/**
 * How grid processes reach a coordinator: {@link net.aitbc.grid.transport.CoordinatorChannels}
 * builds the one kind of channel every client of the coordinator uses (one address, a
 * comma-separated list tried in order, or any gRPC target such as {@code dns:///name:port}), over
 * plaintext or TLS ({@link net.aitbc.grid.transport.ClientTls}); {@link
 * net.aitbc.grid.transport.ServerTls} names the PEM files a listener serves TLS with.
 */
@NullMarked
package net.aitbc.grid.transport;

import org.jspecify.annotations.NullMarked;
