package net.aitbc.grid.ops.bench;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** gRPC channels and stubs for the benchmark's clients and workers: plaintext TCP on loopback. */
final class Grpc {
  private static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

  private Grpc() {}

  /**
   * A channel (one TCP connection) to the coordinator, connected before it is returned so that no
   * phase pays for connection setup. Callbacks run on the transport's event loop: they only record
   * a time or queue a message, and a thread hop would add latency that is not the grid's.
   */
  static ManagedChannel channel(int port) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor()
        .maxInboundMessageSize(16 << 20).build();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    ConnectivityState state = channel.getState(true);
    while (state != ConnectivityState.READY) {
      if (System.nanoTime() > deadline) {
        channel.shutdownNow();
        throw new IllegalStateException("cannot connect to the coordinator on port " + port + " (" + state + ")");
      }
      LockSupport.parkNanos(1_000_000);
      state = channel.getState(true);
    }
    return channel;
  }

  /** The stub, sending this API key with every call. */
  static <S extends AbstractStub<S>> S withKey(S stub, String key) {
    Metadata headers = new Metadata();
    headers.put(API_KEY, key);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** Shuts channels down and waits briefly for them. */
  static void close(Iterable<ManagedChannel> channels) {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      try {
        c.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
