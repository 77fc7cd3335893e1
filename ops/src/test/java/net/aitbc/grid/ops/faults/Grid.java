package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ops.process.GridProcess;
import net.aitbc.grid.ops.process.Ports;
import net.aitbc.grid.transport.CoordinatorChannels;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.AfterTestExecutionCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A grid of real processes for one test (coordinator, workers, bridge), its keys and database, and
 * its log folder {@code target/fault-logs/<test>/}; every process is killed after the test, and
 * their log tails are printed when it failed.
 */
final class Grid implements BeforeEachCallback, AfterTestExecutionCallback, AfterEachCallback {
  static final Path TARGET = Path.of(System.getProperty("basedir", "."), "target");

  private final List<GridProcess> processes = new ArrayList<>();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final List<String> coordinatorOptions = new ArrayList<>();
  /** The seed of the coordinators' signing key (the contract's test vector's). */
  static final String SIGNING_SEED = "07".repeat(32);
  /** The owner of the worker key that {@link #startWorkers} uses unless told another. */
  static final String WORKER_OWNER = "gpu-farm";
  private @Nullable Path logDir;
  private @Nullable String testName;
  private @Nullable TestDatabase testDatabase;
  private @Nullable String dbUrl;
  private @Nullable String clientKey;
  private @Nullable String workerKey;
  private @Nullable String adminKey;
  /** Worker keys of owners other than the default one, by owner. */
  private final Map<String, String> ownerKeys = new LinkedHashMap<>();
  private @Nullable ManagedChannel channel;
  private int coordinatorPort;
  private int coordinatorStarts;
  private boolean failed;

  @Override
  public void beforeEach(ExtensionContext context) throws IOException {
    String cls = context.getRequiredTestClass().getSimpleName();
    testName = countTests(context) > 1 ? cls + "." + context.getRequiredTestMethod().getName() : cls;
    logDir = TARGET.resolve("fault-logs").resolve(testName);
    if (Files.exists(logDir)) {
      try (Stream<Path> old = Files.walk(logDir)) {
        old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    Files.createDirectories(logDir);
    coordinatorPort = Ports.free();
  }

  private static long countTests(ExtensionContext context) {
    return Stream.of(context.getRequiredTestClass().getDeclaredMethods())
        .filter(m -> m.isAnnotationPresent(org.junit.jupiter.api.Test.class)).count();
  }

  @Override
  public void afterTestExecution(ExtensionContext context) {
    failed = context.getExecutionException().isPresent();
    if (failed) {
      for (GridProcess p : processes) {
        System.err.println(p.tail(60));
      }
      if (testDatabase != null) {
        System.err.println("database kept for inspection: " + dbUrl);
      }
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (channel != null) {
      channel.shutdownNow();
    }
    processes.forEach(GridProcess::destroy);
    for (AutoCloseable r : resources.reversed()) {
      try {
        r.close();
      } catch (Exception e) {
        System.err.println("cleanup: " + e);
      }
    }
    if (testDatabase != null && !failed) {
      testDatabase.close();
    }
  }

  /** The test's name as its logs and report use it. */
  String name() {
    return testName;
  }

  Path logDir() {
    return logDir;
  }

  /** Closes this after the test (after every process is gone). */
  <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  /** A fresh database on the test server, migrated, with a client and a worker key. */
  Grid withFreshDatabase() {
    testDatabase = TestDatabase.create();
    return withDatabase(testDatabase.url());
  }

  /** Migrates the database at {@code url} and stores a client, a worker and an admin key in it. */
  Grid withDatabase(String url) {
    dbUrl = url;
    try (var ds = Database.pool(url, null, null, 2)) {
      Database.migrate(ds);
      KeyStore keys = new KeyStore(Database.dsl(ds));
      ApiKeys generator = new ApiKeys();
      clientKey = generator.generate(Role.CLIENT);
      // No rate limit for the load generator: the tests measure faults, not admission control.
      keys.add(clientKey, Role.CLIENT, "client-a", new KeyLimits(1, 0.0, null, null));
      workerKey = generator.generate(Role.WORKER);
      keys.add(workerKey, Role.WORKER, WORKER_OWNER, KeyLimits.DEFAULT);
      adminKey = generator.generate(Role.ADMIN);
      keys.add(adminKey, Role.ADMIN, "ops", KeyLimits.DEFAULT);
    }
    return this;
  }

  String dbUrl() {
    return dbUrl;
  }

  String clientKey() {
    return clientKey;
  }

  /** An admin key (deposits). */
  String adminKey() {
    return adminKey;
  }

  /** Stores a worker key of {@code owner} (so that its workers' earnings go to that owner); returns it. */
  String workerKeyOf(String owner) {
    String key = new ApiKeys().generate(Role.WORKER);
    try (var ds = Database.pool(dbUrl, null, null, 1)) {
      new KeyStore(Database.dsl(ds)).add(key, Role.WORKER, owner, KeyLimits.DEFAULT);
    }
    ownerKeys.put(owner, key);
    return key;
  }

  /** Every key of this grid: none may appear in any log. */
  List<String> keys() {
    List<String> all = new ArrayList<>(List.of(clientKey, workerKey, adminKey));
    all.addAll(ownerKeys.values());
    return all;
  }

  int coordinatorPort() {
    return coordinatorPort;
  }

  /** Adds options to every later start of the coordinator (e.g. its signing key and how it seals blocks). */
  Grid coordinatorOptions(String... options) {
    coordinatorOptions.addAll(List.of(options));
    return this;
  }

  /** Starts {@code grid coordinator} on this grid's port (the same one after a restart) and waits until it listens. */
  GridProcess startCoordinator() {
    return startCoordinator(coordinatorPort);
  }

  /**
   * Starts {@code grid coordinator} on {@code port} (a replica, when another runs on the grid's
   * database) and waits until it listens.
   */
  GridProcess startCoordinator(int port) {
    coordinatorStarts++;
    String name = coordinatorStarts == 1 ? "coordinator" : "coordinator-" + coordinatorStarts;
    List<String> args = new ArrayList<>(List.of("coordinator", "--db-url", dbUrl, "--port",
        Integer.toString(port), "--metrics-port", "-1", "--lease", "3s", "--heartbeat", "1s",
        "--max-attempts", "10"));
    args.addAll(coordinatorOptions);
    // Every fault test runs with receipts, so that its invariants cover them (a key given in the
    // options wins over this one).
    Map<String, String> env = coordinatorOptions.contains("--signing-key-file") ? Map.of()
        : Map.of("AITBC_SIGNING_KEY", SIGNING_SEED);
    GridProcess p = start(name, List.of(), env, args.toArray(String[]::new));
    return p.awaitLog("coordinator listening on", Duration.ofSeconds(60));
  }

  /**
   * Starts {@code grid worker --noop} and waits until it has registered. Its key travels in the
   * environment, not on the command line; its stream session logs each outcome's acknowledgement.
   */
  GridProcess startWorker(String id, int concurrency, Duration drainTimeout) {
    return startWorkers(concurrency, drainTimeout, id).getFirst();
  }

  /** Starts several workers at once and waits until each has registered. */
  List<GridProcess> startWorkers(int concurrency, Duration drainTimeout, String... ids) {
    Map<String, String> keys = new LinkedHashMap<>();
    for (String id : ids) {
      keys.put(id, workerKey);
    }
    return startWorkers(concurrency, drainTimeout, keys);
  }

  /** Starts workers at once, each with its own worker key (by worker id), and waits until each has registered. */
  List<GridProcess> startWorkers(int concurrency, Duration drainTimeout, Map<String, String> keyById) {
    return startWorkers("127.0.0.1:" + coordinatorPort, concurrency, drainTimeout, keyById);
  }

  /**
   * Starts workers at once that dial {@code coordinators} (one address, or a comma-separated list of
   * replicas, tried in order), and waits until each has registered.
   */
  List<GridProcess> startWorkers(String coordinators, int concurrency, Duration drainTimeout, String... ids) {
    Map<String, String> keys = new LinkedHashMap<>();
    for (String id : ids) {
      keys.put(id, workerKey);
    }
    return startWorkers(coordinators, concurrency, drainTimeout, keys);
  }

  private List<GridProcess> startWorkers(String coordinators, int concurrency, Duration drainTimeout,
      Map<String, String> keyById) {
    List<GridProcess> started = new ArrayList<>();
    for (var e : keyById.entrySet()) {
      String id = e.getKey();
      started.add(start("worker-" + id,
          List.of("-Dorg.slf4j.simpleLogger.log.net.aitbc.grid.worker.session.StreamSession=debug"),
          Map.of("AITBC_WORKER_KEY", e.getValue()),
          "worker", "--coordinator", coordinators, "--worker-id", id,
          "--concurrency", Integer.toString(concurrency), "--no-embedded", "--noop",
          "--state-dir", logDir.resolve("worker-" + id + "-state").toString(),
          "--drain-timeout", drainTimeout.toMillis() + "ms"));
    }
    started.forEach(p -> p.awaitLog("\\] registered;", Duration.ofSeconds(60)));
    return started;
  }

  /**
   * Starts {@code grid worker --noop} with its embedded model (the {@code embedding} type) and waits
   * until it has registered; its heap is larger than the lean default, for the model.
   */
  GridProcess startEmbeddingWorker(String id, int concurrency) {
    GridProcess p = start("worker-" + id, List.of("-Xmx512m"), Map.of("AITBC_WORKER_KEY", workerKey),
        "worker", "--coordinator", "127.0.0.1:" + coordinatorPort, "--worker-id", id,
        "--concurrency", Integer.toString(concurrency), "--noop",
        "--state-dir", logDir.resolve("worker-" + id + "-state").toString());
    return p.awaitLog("\\] registered;", Duration.ofSeconds(60));
  }

  /** Starts {@code grid bridge} on a free port; returns its port once it listens. */
  int startBridge() {
    int port = Ports.free();
    start("bridge", List.of(), Map.of(), "bridge", "--port", Integer.toString(port), "--coordinator",
        "127.0.0.1:" + coordinatorPort).awaitLog("bridge listening on", Duration.ofSeconds(30));
    return port;
  }

  private GridProcess start(String name, List<String> jvm, Map<String, String> env, String... args) {
    GridProcess p = GridProcess.builder(name, logDir.resolve(name + ".log"))
        .jvmOptions(GridProcess.LEAN_JVM_OPTIONS).jvmOptions(jvm).env(env).start(args);
    processes.add(p);
    return p;
  }

  /** Every process started, in order. */
  List<GridProcess> processes() {
    return List.copyOf(processes);
  }

  /** The log files of every worker process. */
  List<Path> workerLogs() {
    return processes.stream().filter(p -> p.name().startsWith("worker-")).map(GridProcess::log).toList();
  }

  /** A channel to the coordinator (it reconnects by itself after a restart). */
  ManagedChannel channel() {
    if (channel == null) {
      channel = GrpcClients.channel(coordinatorPort);
    }
    return channel;
  }

  /** A channel to these coordinators (a comma-separated list of replicas, tried in order), closed after the test. */
  ManagedChannel channel(String coordinators) {
    ManagedChannel c = CoordinatorChannels.forTarget(coordinators, null).build();
    resources.add(c::shutdownNow);
    return c;
  }

  /** Runs a typed query on a new connection to the grid's database. */
  <T> T query(Function<DSLContext, T> query) {
    try (Connection c = DriverManager.getConnection(dbUrl)) {
      return query.apply(DSL.using(c, SQLDialect.POSTGRES));
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read " + dbUrl, e);
    }
  }

  /** How many jobs are in this state now. */
  int count(JobState state) {
    return query(db -> db.fetchCount(JOB, JOB.STATE.eq(state)));
  }

  /** How many jobs of this worker are in this state now. */
  int count(JobState state, String workerId) {
    return query(db -> db.fetchCount(JOB, JOB.STATE.eq(state).and(JOB.WORKER_ID.eq(workerId))));
  }
}
