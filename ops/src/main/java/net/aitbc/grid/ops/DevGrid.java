package net.aitbc.grid.ops;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.aitbc.grid.bridge.Bridge;
import net.aitbc.grid.bridge.BridgeConfig;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything in one process for a first look: PostgreSQL (embedded unless a URL is given), the
 * coordinator, the REST bridge, and one worker with the embedded model (plus Ollama when one
 * answers). Closing it stops the parts in reverse order.
 */
public final class DevGrid implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(DevGrid.class);
  /** The client id of the dev client key. */
  public static final String DEV_CLIENT = "dev-client";

  private final List<AutoCloseable> parts = new ArrayList<>();
  private final Coordinator coordinator;
  private final Bridge bridge;
  private final WorkerNode worker;
  private final String clientKey;
  private final String database;

  /**
   * What to start.
   *
   * @param dbUrl an external PostgreSQL, or null for an embedded one
   * @param dbUser its user, or null
   * @param dbPassword its password, or null
   * @param dataDir where the embedded PostgreSQL keeps its data, or null for a throwaway folder
   * @param clientKey the client key to accept, or null to make one
   * @param grpcPort the coordinator's port (0: any free one)
   * @param httpPort the REST bridge's port (0: any free one)
   * @param metricsPort the Prometheus port (0: any free one, -1: none)
   * @param ollamaUrl an Ollama server to use if it answers, or null
   * @param concurrency jobs the worker runs at once
   */
  public record Options(@Nullable String dbUrl, @Nullable String dbUser, @Nullable String dbPassword,
      @Nullable Path dataDir, @Nullable String clientKey, int grpcPort, int httpPort, int metricsPort,
      @Nullable String ollamaUrl, int concurrency) {}

  private DevGrid(Options o) {
    try {
      String dbUrl = o.dbUrl();
      if (dbUrl == null) {
        EmbeddedPostgres pg = embeddedPostgres(o.dataDir());
        parts.add(pg);
        dbUrl = pg.getJdbcUrl("postgres", "postgres");
        database = "embedded PostgreSQL on port " + pg.getPort()
            + (o.dataDir() == null ? " (throwaway data)" : " (data in " + o.dataDir() + ")");
      } else {
        database = dbUrl;
      }
      coordinator = Coordinator.start(CoordinatorConfig.builder(dbUrl)
          .dbCredentials(o.dbUser(), o.dbPassword())
          .listen("127.0.0.1", o.grpcPort(), o.metricsPort())
          .build());
      parts.add(coordinator);
      if (o.clientKey() != null && !o.clientKey().isBlank()) {
        coordinator.addKey(o.clientKey(), Role.CLIENT, DEV_CLIENT);
        clientKey = o.clientKey();
      } else {
        clientKey = coordinator.createKey(Role.CLIENT, DEV_CLIENT);
      }
      bridge = Bridge.start(BridgeConfig.defaults()
          .withListen("127.0.0.1", o.httpPort())
          .withCoordinator("127.0.0.1:" + coordinator.grpcPort())
          .withEnv("dev"));
      parts.add(bridge);
      String ollama = o.ollamaUrl() != null && answers(o.ollamaUrl() + "/api/tags") ? o.ollamaUrl() : null;
      worker = WorkerNode.start(WorkerConfig.builder()
          .coordinator("127.0.0.1:" + coordinator.grpcPort())
          .apiKey(coordinator.createKey(Role.WORKER, "dev-worker"))
          .workerId("dev-worker")
          .concurrency(o.concurrency())
          .ollamaUrl(ollama)
          .drainTimeout(Duration.ofSeconds(5))
          .build());
      parts.add(worker);
      awaitRegistered(worker, Duration.ofSeconds(30));
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /** Starts every part; fails with the first part that cannot start. */
  public static DevGrid start(Options options) {
    return new DevGrid(options);
  }

  /** "Up" means the worker can take jobs: wait until its session is open. */
  private static void awaitRegistered(WorkerNode worker, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!worker.isRegistered()) {
      if (System.nanoTime() > deadline) {
        logger.warn("the worker has not registered within {}; jobs wait until it does", timeout);
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static EmbeddedPostgres embeddedPostgres(@Nullable Path dataDir) {
    try {
      // DevGrid.close stops it last; its own shutdown hook would stop it under the other parts.
      EmbeddedPostgres.Builder b = EmbeddedPostgres.builder().setRegisterShutdownHook(false);
      if (dataDir != null) {
        b.setDataDirectory(dataDir).setCleanDataDirectory(false);
      }
      return b.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL (" + e.getMessage()
          + "); run `grid dev --db-url jdbc:postgresql://host:5432/db` against an external one instead", e);
    }
  }

  private static boolean answers(String url) {
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build()) {
      HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(1)).build(),
          HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException | IllegalArgumentException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The client key that was made or accepted. */
  public String clientKey() {
    return clientKey;
  }

  /** The running coordinator. */
  public Coordinator coordinator() {
    return coordinator;
  }

  /** The REST bridge's port. */
  public int httpPort() {
    return bridge.port();
  }

  /** The worker. */
  public WorkerNode worker() {
    return worker;
  }

  /** Where the database is, in words. */
  public String database() {
    return database;
  }

  /** Stops the worker (draining it), the bridge, the coordinator and the database, in that order. */
  @Override
  public void close() {
    List<AutoCloseable> reversed = new ArrayList<>(parts);
    Collections.reverse(reversed);
    parts.clear();
    for (AutoCloseable part : reversed) {
      try {
        part.close();
      } catch (Exception e) {
        logger.warn("stopping {} failed: {}", part.getClass().getSimpleName(), e.toString());
      }
    }
  }
}
