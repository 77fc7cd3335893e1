package net.aitbc.grid.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import net.aitbc.grid.bridge.Bridge;
import net.aitbc.grid.bridge.BridgeConfig;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.EmbeddingBatching;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything in one process for a first look: PostgreSQL (embedded unless a URL is given), the
 * coordinator, the REST bridge, and one worker (or several, each its own) with the embedded model
 * and noop jobs (plus Ollama when one answers). Closing it stops the parts in reverse order.
 */
public final class DevGrid implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(DevGrid.class);
  /** The client id of the dev client key. */
  public static final String DEV_CLIENT = "dev-client";
  /** The owner (client id) of the dev worker key for REST miners. */
  public static final String DEV_MINERS = "dev-miners";
  /** What the dev client is credited with at start, so that paying for jobs works on a first look. */
  public static final String DEV_FUNDS = "1000";
  /** The currency of {@link #DEV_FUNDS}. */
  public static final String DEV_CURRENCY = "AITBC";
  /** The signing key's file in a data directory: kept, so that the ledger stays verifiable across runs. */
  public static final String SIGNING_KEY_FILE = "signing.key";
  /** The file with the coordinator's key id, for {@code grid verify --public-key}. */
  public static final String PUBLIC_KEY_FILE = "coordinator.pub";

  private final List<AutoCloseable> parts = new ArrayList<>();
  private final Coordinator coordinator;
  private final Bridge bridge;
  private final List<WorkerNode> workers;
  private final String clientKey;
  private final String minerKey;
  private final String clientBalance;
  private final String database;
  private final String jdbcUrl;
  private final SigningKey signingKey;
  private final String signingKeyOrigin;
  private final Path publicKeyFile;

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
   * @param concurrency jobs each worker runs at once
   * @param durable whether the embedded PostgreSQL puts every commit on disk before it is
   *     acknowledged; null: durable with a data directory, fast without one
   * @param ledger the signing key and how blocks are sealed
   * @param workers how many workers, and the swarms they join
   * @param workerKey the worker key to accept for REST miners (the aitbc CLI's {@code miner} commands),
   *     or null to make one
   */
  public record Options(@Nullable String dbUrl, @Nullable String dbUser, @Nullable String dbPassword,
      @Nullable Path dataDir, @Nullable String clientKey, int grpcPort, int httpPort, int metricsPort,
      @Nullable String ollamaUrl, int concurrency, @Nullable Boolean durable, Ledger ledger, Workers workers,
      @Nullable String workerKey) {
    /** Options with one worker in no swarm. */
    public Options(@Nullable String dbUrl, @Nullable String dbUser, @Nullable String dbPassword,
        @Nullable Path dataDir, @Nullable String clientKey, int grpcPort, int httpPort, int metricsPort,
        @Nullable String ollamaUrl, int concurrency, @Nullable Boolean durable, Ledger ledger) {
      this(dbUrl, dbUser, dbPassword, dataDir, clientKey, grpcPort, httpPort, metricsPort, ollamaUrl, concurrency,
          durable, ledger, Workers.DEFAULTS, null);
    }

    /** Checks that the miners' key is not the client's (one key has one role). */
    public Options {
      if (workerKey != null && !workerKey.isBlank() && workerKey.equals(clientKey)) {
        throw new IllegalArgumentException("--worker-key must differ from --client-key: a key has one role");
      }
    }

    /** Options with the default ledger settings (a throwaway key, or the data directory's) and one worker. */
    public Options(@Nullable String dbUrl, @Nullable String dbUser, @Nullable String dbPassword,
        @Nullable Path dataDir, @Nullable String clientKey, int grpcPort, int httpPort, int metricsPort,
        @Nullable String ollamaUrl, int concurrency, @Nullable Boolean durable) {
      this(dbUrl, dbUser, dbPassword, dataDir, clientKey, grpcPort, httpPort, metricsPort, ollamaUrl, concurrency,
          durable, Ledger.DEFAULTS);
    }

    /** These options with {@code workers} instead. */
    public Options withWorkers(Workers workers) {
      return new Options(dbUrl, dbUser, dbPassword, dataDir, clientKey, grpcPort, httpPort, metricsPort, ollamaUrl,
          concurrency, durable, ledger, workers, workerKey);
    }

    /** These options with this worker key for REST miners. */
    public Options withWorkerKey(@Nullable String key) {
      return new Options(dbUrl, dbUser, dbPassword, dataDir, clientKey, grpcPort, httpPort, metricsPort, ollamaUrl,
          concurrency, durable, ledger, workers, key);
    }
  }

  /**
   * The dev workers ({@code grid dev --workers N --worker-swarm NAME}): each has its own worker id
   * ({@code dev-worker}, then {@code dev-worker-2}, …), worker key (its id as owner), state directory
   * and Ed25519 key; all run the one embedded model, loaded once.
   *
   * @param count how many, 1 to 16
   * @param swarms the swarms each joins by name when it registers
   * @param stateRoot where worker {@code id} keeps its key ({@code stateRoot/id}), or null: the first
   *     worker in the default state directory (where the single dev worker always kept it), the
   *     others next to it ({@code aitbc-dev-worker-2}, …)
   * @param embeddingBatching how the shared embedded model batches the workers' embedding jobs
   */
  public record Workers(int count, List<String> swarms, @Nullable Path stateRoot,
      EmbeddingBatching embeddingBatching) {
    /** One worker in no swarm, keeping its key where it always did. */
    public static final Workers DEFAULTS = new Workers(1, List.of(), null);

    /** Workers without embedding batching, the default ({@link EmbeddingBatching#OFF}). */
    public Workers(int count, List<String> swarms, @Nullable Path stateRoot) {
      this(count, swarms, stateRoot, EmbeddingBatching.OFF);
    }

    /** Checks the count and the names, naming the options. */
    public Workers {
      if (count < 1 || count > DevWorkers.MAX) {
        throw new IllegalArgumentException("--workers must be from 1 to " + DevWorkers.MAX + ", got " + count);
      }
      for (String swarm : swarms) {
        try {
          WorkerConfig.checkSwarmName(swarm);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("--worker-swarm: " + e.getMessage(), e);
        }
      }
      swarms = List.copyOf(swarms);
      Objects.requireNonNull(embeddingBatching, "embeddingBatching");
    }
  }

  /**
   * Receipts and the ledger in dev mode: there is always a signing key.
   *
   * @param signingKey the key to sign with; null: {@value #SIGNING_KEY_FILE} in the data directory
   *     (made on the first run), or a throwaway one without a data directory
   * @param blocksEvery receipts per block
   * @param blockInterval how long a receipt may wait for its block
   * @param unitPrice the price per unit of workers that advertise none
   * @param jobRetention how long finished jobs are kept (zero: forever)
   * @param resultCacheTtl how long results of deterministic jobs answer identical ones (zero: no cache)
   * @param resultCacheMaxBytes the most bytes of results the cache keeps
   */
  public record Ledger(@Nullable SigningKey signingKey, int blocksEvery, Duration blockInterval, BigDecimal unitPrice,
      Duration jobRetention, Duration resultCacheTtl, long resultCacheMaxBytes) {
    /** The coordinator's defaults, and the dev key. */
    public static final Ledger DEFAULTS = new Ledger(null, 1000, Duration.ofSeconds(1), new BigDecimal("0.02"),
        CoordinatorConfig.Retention.DEFAULT_JOBS, Duration.ZERO, 256L << 20);
  }

  private DevGrid(Options o, BooleanSupplier stopRequested) {
    try {
      String dbUrl = o.dbUrl();
      if (dbUrl == null) {
        DevPostgres pg = DevPostgres.start(o.dataDir(),
            o.durable() != null ? o.durable() : o.dataDir() != null);
        parts.add(pg);
        dbUrl = pg.jdbcUrl();
        database = pg.describe();
      } else {
        database = dbUrl;
      }
      jdbcUrl = dbUrl;
      // After PostgreSQL: its initdb wants an empty data directory.
      if (o.ledger().signingKey() != null) {
        signingKey = o.ledger().signingKey();
        signingKeyOrigin = "as configured";
      } else if (o.dataDir() != null) {
        Path file = o.dataDir().resolve(SIGNING_KEY_FILE);
        signingKey = SigningKey.loadOrCreate(file);
        signingKeyOrigin = "kept in " + file;
      } else {
        signingKey = SigningKey.generate();
        signingKeyOrigin = "throwaway";
      }
      publicKeyFile = writePublicKey(o.dataDir(), signingKey);
      checkStop(stopRequested);
      coordinator = Coordinator.start(CoordinatorConfig.builder(dbUrl)
          .dbCredentials(o.dbUser(), o.dbPassword())
          .listen("127.0.0.1", o.grpcPort(), o.metricsPort())
          .signingKey(signingKey)
          .blocks(o.ledger().blocksEvery(), o.ledger().blockInterval())
          .defaultUnitPrice(o.ledger().unitPrice())
          .retention(o.ledger().jobRetention(), LedgerOptions.RETENTION_EVERY)
          .resultCache(o.ledger().resultCacheTtl(), o.ledger().resultCacheMaxBytes())
          .build());
      parts.add(coordinator);
      if (o.clientKey() != null && !o.clientKey().isBlank()) {
        coordinator.addKey(o.clientKey(), Role.CLIENT, DEV_CLIENT);
        clientKey = o.clientKey();
      } else {
        clientKey = coordinator.createKey(Role.CLIENT, DEV_CLIENT);
      }
      if (o.workerKey() != null && !o.workerKey().isBlank()) {
        coordinator.addKey(o.workerKey(), Role.WORKER, DEV_MINERS);
        minerKey = o.workerKey();
      } else {
        minerKey = coordinator.createKey(Role.WORKER, DEV_MINERS);
      }
      clientBalance = fund(coordinator);
      bridge = Bridge.start(BridgeConfig.defaults()
          .withListen("127.0.0.1", o.httpPort())
          .withCoordinator("127.0.0.1:" + coordinator.grpcPort())
          .withEnv("dev"));
      parts.add(bridge);
      checkStop(stopRequested);
      String ollama = o.ollamaUrl() != null && answers(o.ollamaUrl() + "/api/tags") ? o.ollamaUrl() : null;
      DevWorkers started = DevWorkers.start(coordinator, o.workers(), o.concurrency(), ollama, stopRequested);
      parts.add(started);
      workers = started.nodes();
      for (WorkerNode worker : workers) {
        awaitRegistered(worker, Duration.ofSeconds(30), stopRequested);
      }
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("cannot prepare the signing key: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Writes the key id to {@value #PUBLIC_KEY_FILE} in the data directory, or in a temporary folder
   * that closing removes.
   */
  private Path writePublicKey(@Nullable Path dataDir, SigningKey key) throws IOException {
    Path dir;
    if (dataDir != null) {
      dir = Files.createDirectories(dataDir);
    } else {
      Path temp = Files.createTempDirectory("grid-dev-");
      dir = temp;
      parts.add(() -> {
        Files.deleteIfExists(temp.resolve(PUBLIC_KEY_FILE));
        Files.deleteIfExists(temp);
      });
    }
    Path file = dir.resolve(PUBLIC_KEY_FILE);
    Files.writeString(file, key.keyId() + "\n", StandardCharsets.UTF_8);
    return file;
  }

  /** Starts every part; fails with the first part that cannot start. */
  public static DevGrid start(Options options) {
    return new DevGrid(options, () -> false);
  }

  /**
   * Starts every part, checking {@code stopRequested} between them: when it says stop, closes
   * what was started and throws {@link Startup.Stopped}.
   */
  static DevGrid start(Options options, BooleanSupplier stopRequested) {
    return new DevGrid(options, stopRequested);
  }

  private static void checkStop(BooleanSupplier stopRequested) {
    if (stopRequested.getAsBoolean()) {
      throw new Startup.Stopped("grid dev stopped before it was up");
    }
  }

  /** "Up" means the workers can take jobs: wait until each one's session is open. */
  private static void awaitRegistered(WorkerNode worker, Duration timeout, BooleanSupplier stopRequested) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!worker.isRegistered() && !stopRequested.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        logger.warn("[worker={}] has not registered within {}; jobs wait until it does", worker.workerId(), timeout);
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

  /**
   * Credits the dev client with {@link #DEV_FUNDS} through PaymentService, as an admin would. Once
   * per database: a kept data directory is not credited again. Returns the client's balance.
   */
  private static String fund(Coordinator coordinator) {
    try (Accounts accounts = new Accounts("127.0.0.1:" + coordinator.grpcPort(), null,
        coordinator.createKey(Role.ADMIN, "dev-admin"))) {
      return accounts.deposit(DEV_CLIENT, DEV_FUNDS, DEV_CURRENCY, "grid-dev-funds:" + DEV_CLIENT).getBalance();
    }
  }

  /** The dev client's balance in {@link #DEV_CURRENCY} after it was funded at start. */
  public String clientBalance() {
    return clientBalance;
  }

  /** The client key that was made or accepted. */
  public String clientKey() {
    return clientKey;
  }

  /**
   * The worker key that was made or accepted for REST miners (the aitbc CLI's {@code miner} commands),
   * owned by {@link #DEV_MINERS}; the embedded workers have keys of their own.
   */
  public String minerKey() {
    return minerKey;
  }

  /** The running coordinator. */
  public Coordinator coordinator() {
    return coordinator;
  }

  /** The REST bridge's port. */
  public int httpPort() {
    return bridge.port();
  }

  /** The first worker, {@code dev-worker}. */
  public WorkerNode worker() {
    return workers.getFirst();
  }

  /** Every worker, the first one first. */
  public List<WorkerNode> workers() {
    return workers;
  }

  /** Where the database is and whether its commits are durable, in words. */
  public String database() {
    return database;
  }

  /** The key id (base64url public key) that receipts and blocks are signed with. */
  public String signingKeyId() {
    return signingKey.keyId();
  }

  /** Where the signing key came from, in words: throwaway, kept in a file, or as configured. */
  public String signingKeyOrigin() {
    return signingKeyOrigin;
  }

  /** The file holding the signing key's id, for {@code grid verify --public-key}. */
  public Path publicKeyFile() {
    return publicKeyFile;
  }

  /** The JDBC URL of the grid's database. */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  /** Stops the workers (draining them), the bridge, the coordinator and the database, in that order. */
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
