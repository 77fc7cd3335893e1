package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.transport.CoordinatorChannels;
import net.aitbc.grid.transport.ServerTls;
import org.jspecify.annotations.Nullable;

/**
 * Everything a bridge needs to start. {@link #defaults()} gives the values the aitbc CLI expects.
 *
 * @param host the address the HTTP server binds to
 * @param port the HTTP port; 0 picks a free one
 * @param coordinator the coordinator's gRPC address: {@code host:port}, replicas as {@code
 *     host1:port,host2:port}, or a target such as {@code dns:///grid.example:9090}
 * @param callDeadline how long each gRPC call to the coordinator may take
 * @param maxRequestBytes the largest request body accepted; larger ones get 413
 * @param env the environment label reported by the health route
 * @param tls the certificate and key the REST listener serves HTTPS with; null serves plain HTTP
 * @param coordinatorTls TLS to the coordinator; null connects in plaintext
 */
public record BridgeConfig(
    String host, int port, String coordinator, Duration callDeadline, long maxRequestBytes, String env,
    @Nullable ServerTls tls, @Nullable ClientTls coordinatorTls) {

  /** The CLI's default port ({@code http://127.0.0.1:8000}). */
  public static final int DEFAULT_PORT = 8000;
  /** Where a coordinator listens by default. */
  public static final String DEFAULT_COORDINATOR = "127.0.0.1:9090";

  /** Checks the values. */
  public BridgeConfig {
    requireNonNull(host, "host");
    requireNonNull(coordinator, "coordinator");
    requireNonNull(callDeadline, "callDeadline");
    requireNonNull(env, "env");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
    }
    CoordinatorChannels.checkTarget(coordinator);
    if (callDeadline.isNegative() || callDeadline.isZero()) {
      throw new IllegalArgumentException("callDeadline must be positive, not " + callDeadline);
    }
    if (maxRequestBytes < 1) {
      throw new IllegalArgumentException("maxRequestBytes must be positive, not " + maxRequestBytes);
    }
    if (tls != null && tls.checksClientCertificates()) {
      throw new IllegalArgumentException("the bridge takes no client CA: REST callers authenticate with X-Api-Key");
    }
  }

  /** 127.0.0.1:8000 in front of a coordinator at 127.0.0.1:9090, 10 s per call, 1 MiB bodies, env "dev". */
  public static BridgeConfig defaults() {
    return new BridgeConfig("127.0.0.1", DEFAULT_PORT, DEFAULT_COORDINATOR, Duration.ofSeconds(10), 1 << 20, "dev",
        null, null);
  }

  /** A copy that listens on {@code host:port}. */
  public BridgeConfig withListen(String host, int port) {
    return new BridgeConfig(host, port, coordinator, callDeadline, maxRequestBytes, env, tls, coordinatorTls);
  }

  /** A copy that forwards to the coordinator at {@code target} (see {@link #coordinator()}). */
  public BridgeConfig withCoordinator(String target) {
    return new BridgeConfig(host, port, target, callDeadline, maxRequestBytes, env, tls, coordinatorTls);
  }

  /** A copy whose calls to the coordinator may take this long. */
  public BridgeConfig withCallDeadline(Duration callDeadline) {
    return new BridgeConfig(host, port, coordinator, callDeadline, maxRequestBytes, env, tls, coordinatorTls);
  }

  /** A copy with this environment label. */
  public BridgeConfig withEnv(String env) {
    return new BridgeConfig(host, port, coordinator, callDeadline, maxRequestBytes, env, tls, coordinatorTls);
  }

  /** A copy that serves HTTPS with these files (null: plain HTTP). */
  public BridgeConfig withTls(@Nullable ServerTls tls) {
    return new BridgeConfig(host, port, coordinator, callDeadline, maxRequestBytes, env, tls, coordinatorTls);
  }

  /** A copy that reaches the coordinator over TLS (null: plaintext). */
  public BridgeConfig withCoordinatorTls(@Nullable ClientTls coordinatorTls) {
    return new BridgeConfig(host, port, coordinator, callDeadline, maxRequestBytes, env, tls, coordinatorTls);
  }
}
