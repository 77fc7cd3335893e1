package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.server.GracefulShutdown;
import com.linecorp.armeria.server.Server;
import com.linecorp.armeria.server.ServerBuilder;
import com.linecorp.armeria.server.file.HttpFile;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.transport.CoordinatorChannels;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running bridge: an Armeria HTTP server that speaks the aitbc CLI's REST dialect and forwards
 * every call to the coordinator (JobService, ReceiptService, ExplorerService, PaymentService,
 * WorkflowService, SwarmService, MinerService) over one gRPC channel.
 * It keeps no state.
 */
public final class Bridge implements AutoCloseable {
  /** The version the health route reports. */
  public static final String VERSION = "0.1.0";

  private static final Logger logger = LoggerFactory.getLogger(Bridge.class);
  private static final Duration QUIET_PERIOD = Duration.ofMillis(500);
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
  /** Results can be large; the coordinator accepts 16 MiB from workers. */
  private static final int MAX_GRPC_MESSAGE = 32 << 20;
  /**
   * The coordinator's error descriptions can quote a client's input at length (the grpc-message
   * trailer). Over grpc-java's default of 8 KiB such a trailer fails the call, and from 10 KiB the
   * whole HTTP/2 connection, every other caller's calls on it included. Bodies are at most 1 MiB, so
   * their quotes fit.
   */
  private static final int MAX_GRPC_METADATA = 4 << 20;
  private static final String OPENAPI = "net/aitbc/grid/bridge/openapi.json";

  private final Server server;
  private final ManagedChannel channel;
  private boolean closed;

  private Bridge(Server server, ManagedChannel channel) {
    this.server = server;
    this.channel = channel;
  }

  /** Connects to the coordinator (lazily) and starts serving HTTP. */
  public static Bridge start(BridgeConfig config) {
    requireNonNull(config, "config");
    // Over every address of the target (pick_first): calls move to a live replica by themselves.
    ManagedChannel channel = CoordinatorChannels.forTarget(config.coordinator(), config.coordinatorTls())
        .maxInboundMessageSize(MAX_GRPC_MESSAGE)
        .maxInboundMetadataSize(MAX_GRPC_METADATA)
        .build();
    InetSocketAddress address = new InetSocketAddress(config.host(), config.port());
    // Its own registry rather than Micrometer's global one: bridges in one JVM do not share meters.
    ServerBuilder sb = Server.builder().meterRegistry(new SimpleMeterRegistry());
    if (config.tls() == null) {
      sb.http(address);
    } else {
      sb.https(address).tls(config.tls().cert().toFile(), config.tls().key().toFile());
    }
    configure(sb, config, channel);
    Server server = sb.build();
    try {
      server.start().join();
    } catch (CompletionException | IllegalStateException e) {
      server.stop();
      channel.shutdownNow();
      throw new IllegalStateException("cannot listen on " + config.host() + ":" + config.port(),
          e instanceof CompletionException ? e.getCause() : e);
    }
    Bridge bridge = new Bridge(server, channel);
    logger.info("bridge listening on {}://{}:{} (env {}), coordinator at {}{}", config.tls() == null ? "http" : "https",
        config.host(), bridge.port(), config.env(), config.coordinator(),
        config.coordinatorTls() == null ? "" : " over TLS");
    return bridge;
  }

  /**
   * Wires every route, the limits and the JSON error bodies into {@code sb}, forwarding to the
   * coordinator over {@code coordinator}. Shared by {@link #start} and tests.
   */
  public static void configure(ServerBuilder sb, BridgeConfig config, Channel coordinator) {
    CoordinatorClient client = new CoordinatorClient(coordinator, config.callDeadline());
    // Set on purpose (Armeria's default is 10 s): three coordinator deadlines, so that a slow
    // coordinator gets our 504 rather than Armeria's timeout. The event stream clears it.
    sb.requestTimeout(config.callDeadline().multipliedBy(3))
        .maxRequestLength(config.maxRequestBytes())
        .gracefulShutdown(GracefulShutdown.builder().quietPeriod(QUIET_PERIOD).timeout(SHUTDOWN_TIMEOUT).build())
        .errorHandler(HttpErrors.serverErrorHandler(config.maxRequestBytes()));
    for (Object routes : List.of(new JobRoutes(client), new ReceiptRoutes(client), new ExplorerRoutes(client),
        new PaymentRoutes(client), new AgentNetworkRoutes(client), new AgentReceiptRoutes(client),
        new MinerRoutes(client))) {
      sb.annotatedService()
          .decorator(delegate -> delegate.decorate(ApiKey::require))
          .exceptionHandlers(HttpErrors.exceptionHandler())
          .build(routes);
    }
    AgentRoutes agents = new AgentRoutes(client);
    for (String prefix : AgentRoutes.PREFIXES) {
      sb.annotatedService()
          .pathPrefix(prefix)
          .decorator(delegate -> delegate.decorate(ApiKey::require))
          .exceptionHandlers(HttpErrors.exceptionHandler())
          .build(agents);
    }
    SwarmRoutes swarms = new SwarmRoutes(client);
    for (String prefix : SwarmRoutes.PREFIXES) {
      sb.annotatedService()
          .pathPrefix(prefix)
          .decorator(delegate -> delegate.decorate(ApiKey::require))
          .exceptionHandlers(HttpErrors.exceptionHandler())
          .build(swarms);
    }
    HealthService health = new HealthService(client, config.env());
    sb.route().get("/health").build(health);
    sb.route().get("/v1/health").build(health);
    sb.route().get("/openapi.json").build(HttpFile.of(Bridge.class.getClassLoader(), OPENAPI).asService());
  }

  /** The HTTP port it listens on. */
  public int port() {
    return server.activeLocalPort();
  }

  /** Stops taking requests, lets those in flight finish (within the shutdown timeout), then closes the channel. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stop().join();
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      channel.shutdownNow();
    }
    logger.info("bridge stopped");
  }
}
