package net.aitbc.grid.coordinator.testing;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.transport.CoordinatorChannels;
import org.jspecify.annotations.Nullable;

/** Real gRPC clients over TCP for tests. */
public final class GrpcClients {
  private static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

  private GrpcClients() {}

  /** A plaintext channel to a local port. */
  public static ManagedChannel channel(int port) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
  }

  /** A channel to {@code target} (see {@link CoordinatorChannels}), over TLS unless {@code tls} is null. */
  public static ManagedChannel channel(String target, @Nullable ClientTls tls) {
    return CoordinatorChannels.forTarget(target, tls).build();
  }

  /** The stub, sending this API key with every call. */
  public static <S extends AbstractStub<S>> S withKey(S stub, String key) {
    Metadata headers = new Metadata();
    headers.put(API_KEY, key);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }
}
