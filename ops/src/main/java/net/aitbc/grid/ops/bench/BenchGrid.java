package net.aitbc.grid.ops.bench;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import net.aitbc.grid.bridge.Bridge;
import net.aitbc.grid.bridge.BridgeConfig;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc;
import org.jspecify.annotations.Nullable;

/**
 * The grid under test, on loopback: the benchmark's database, the coordinator in its own JVM, the
 * REST bridge in this one (when asked for), a client channel; and the way every phase is run:
 * wait for a quiet host, CHECKPOINT, then measure CPU and the coordinator's memory around the work.
 */
final class BenchGrid implements AutoCloseable {
  /** Peers' driver: workers get this long to reach their idle state before the latency run. */
  private static final long LATENCY_WARMUP_NANOS = 1_000_000_000L;

  private final CommonOptions options;
  private final PrintWriter out;
  private final BenchDatabase db;
  private final CoordinatorProcess coordinator;
  private final CpuMeter cpu;
  private final @Nullable Bridge bridge;
  private final ManagedChannel clientChannel;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("bench-heartbeats").daemon().factory());
  private final ExecutorService signing =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("bench-signer-", 0).factory());
  private long submissionsAcknowledged;
  private long outcomesAccepted;

  private BenchGrid(CommonOptions options, PrintWriter out, BenchDatabase db, CoordinatorProcess coordinator,
      @Nullable Bridge bridge, ManagedChannel clientChannel) {
    this.options = options;
    this.out = out;
    this.db = db;
    this.coordinator = coordinator;
    this.cpu = new CpuMeter(coordinator.pid());
    this.bridge = bridge;
    this.clientChannel = clientChannel;
  }

  /**
   * Creates the database, starts the coordinator with these extra arguments and, if asked, the
   * bridge; says where everything is on {@code out}.
   */
  static BenchGrid start(CommonOptions options, PrintWriter out, boolean withBridge, List<String> coordinatorArgs) {
    BenchDatabase db = options.reuseDb ? BenchDatabase.reuse(options.dbUrl, options.dbName)
        : BenchDatabase.recreate(options.dbUrl, options.dbName);
    Path logDir = options.logDir != null ? options.logDir
        : Path.of(System.getProperty("java.io.tmpdir"), "grid-bench",
            LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    CoordinatorProcess coordinator = null;
    Bridge bridge = null;
    try {
      List<String> jvm = Arrays.stream(options.coordinatorOpts.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
      coordinator = CoordinatorProcess.start(db.url(), jvm, coordinatorArgs, logDir.resolve("coordinator.log"));
      if (withBridge) {
        bridge = Bridge.start(BridgeConfig.defaults().withListen("127.0.0.1", 0)
            .withCoordinator("127.0.0.1:" + coordinator.grpcPort()).withEnv("bench"));
      }
      ManagedChannel channel = Grpc.channel(coordinator.grpcPort());
      out.printf("coordinator pid %d on 127.0.0.1:%d (%s), log %s%s; database %s%n", coordinator.pid(),
          coordinator.grpcPort(), options.coordinatorOpts, coordinator.log(),
          bridge == null ? "" : "; REST bridge (in this JVM) on 127.0.0.1:" + bridge.port(), db.url());
      out.flush();
      return new BenchGrid(options, out, db, coordinator, bridge, channel);
    } catch (RuntimeException e) {
      if (bridge != null) {
        bridge.close();
      }
      if (coordinator != null) {
        coordinator.close();
      }
      db.close();
      throw e;
    }
  }

  /** The benchmark's database. */
  BenchDatabase db() {
    return db;
  }

  /** The coordinator's JVM. */
  CoordinatorProcess coordinator() {
    return coordinator;
  }

  /** The bridge's port; fails when the grid was started without it. */
  int bridgePort() {
    if (bridge == null) {
      throw new IllegalStateException("started without the REST bridge");
    }
    return bridge.port();
  }

  /** A blocking JobService stub with the client key, on the shared client channel. */
  JobServiceGrpc.JobServiceBlockingStub blockingStub() {
    return Grpc.withKey(JobServiceGrpc.newBlockingStub(clientChannel), db.clientKey());
  }

  /** An asynchronous JobService stub with the client key, on the shared client channel. */
  JobServiceGrpc.JobServiceStub asyncStub() {
    return Grpc.withKey(JobServiceGrpc.newStub(clientChannel), db.clientKey());
  }

  /** A blocking ExplorerService stub with the client key (the ledger's sync status). */
  ExplorerServiceGrpc.ExplorerServiceBlockingStub explorer() {
    return Grpc.withKey(ExplorerServiceGrpc.newBlockingStub(clientChannel), db.clientKey());
  }

  /** Where bench workers sign their outcomes: a virtual thread per batch, off the event loops. */
  ExecutorService signing() {
    return signing;
  }

  /** The scheduler all bench workers' heartbeats share. */
  ScheduledExecutorService timer() {
    return timer;
  }

  /** Opens {@code count} bench workers, one TCP connection each, and waits until they have registered. */
  WorkerPool workers(String prefix, int count, int credits, Tracker tracker) {
    WorkerPool pool = WorkerPool.open(coordinator.grpcPort(), db.workerKey(), prefix, count, 1, credits,
        Math.max(1, credits / 10), count, tracker, timer, signing);
    pool.awaitRegistered(Duration.ofSeconds(60));
    return pool;
  }

  /** Counts an acknowledged submission toward the end-of-run check against the database. */
  void acknowledged(long submissions) {
    submissionsAcknowledged += submissions;
  }

  /** The deadline of a phase starting now. */
  long deadline() {
    return System.nanoTime() + options.phaseTimeout.toNanos();
  }

  // ---- phases

  /** Marks the measured interval inside a phase; unmarked, it is the whole body. */
  static final class Window {
    private final BenchGrid grid;
    private CpuMeter.@Nullable Snapshot start;
    private CpuMeter.@Nullable Snapshot end;
    private CoordinatorProcess.@Nullable Scrape before;

    private Window(BenchGrid grid) {
      this.grid = grid;
    }

    /** The measured interval starts now. */
    void start() {
      before = grid.coordinator.scrape();
      start = grid.cpu.snapshot();
    }

    /** The measured interval ends now. */
    void stop() {
      end = grid.cpu.snapshot();
    }

    /** Seconds between start and stop. */
    double seconds() {
      if (start == null || end == null) {
        throw new IllegalStateException("the window was not started and stopped");
      }
      return (end.nanos() - start.nanos()) / 1e9;
    }
  }

  /** What a phase's body measured; CPU, memory and the quiet gate are added around it. */
  record Measured(int jobs, int errors, @Nullable Map<String, String> errorKinds, double seconds,
      Results.@Nullable Latency latency, Results.@Nullable Latency e2e, Results.@Nullable Latency pickup,
      @Nullable Map<String, Object> details, boolean timedOut) {}

  /** The work of a phase. */
  @FunctionalInterface
  interface Body {
    /** Does the work, marking the measured interval on {@code window} if it is not the whole body. */
    Measured run(Window window);
  }

  /** Runs a phase as the peers' driver does: quiet gate, CHECKPOINT, then the body between CPU snapshots. */
  Results.Phase phase(String what, Body body) {
    Results.Gate gate = CpuMeter.quietGate(options.gateMaxBusy, options.gateMaxWait);
    db.checkpoint();
    Window w = new Window(this);
    Measured m = body.run(w);
    if (w.start == null) {
      throw new IllegalStateException("a phase body must start its window");
    }
    if (w.end == null) {
      w.stop();
    }
    Results.Cpu c = CpuMeter.delta(w.start, w.end);
    Results.Memory memory = coordinator.memory(w.before);
    return new Results.Phase(what, m.jobs(), m.errors(), m.errorKinds(), m.seconds(),
        m.seconds() > 0 ? Math.round(m.jobs() / m.seconds()) : 0, m.latency(), m.e2e(), m.pickup(), m.details(),
        c, memory, gate, c.otherCores() > CommonOptions.NOISY_OTHER_CORES, m.timedOut());
  }

  /** A submission phase's result from its call log and wall time. */
  Measured submitted(Submissions.Log log, int n, Window w) {
    acknowledged(log.ok());
    return new Measured(log.ok(), log.errors(), log.errorKinds(), round3(w.seconds()), log.latency(), null, null, null,
        log.ok() + log.errors() < n);
  }

  /**
   * Starts {@code workers} bench workers on a backlog of {@code backlog} queued jobs; the rate is
   * backlog / (first Assignment received → last accepted OutcomeAck received).
   */
  Measured process(int backlog, int workers, int credits, long deadline, Window w) {
    Tracker tracker = new Tracker(false);
    tracker.expect(backlog);
    w.start();
    boolean done;
    long lost;
    long signatures;
    long signed;
    try (WorkerPool pool = workers("bench-worker", workers, credits, tracker)) {
      done = tracker.await(deadline);
      w.stop();
      lost = pool.lostStreams();
      signatures = pool.signatures();
      signed = pool.signedOutcomes();
    }
    outcomesAccepted += tracker.accepted();
    double secs = tracker.accepted() == 0 ? 0 : (tracker.lastAccepted() - tracker.firstAssigned()) / 1e9;
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("backlog", backlog);
    details.put("workers", workers);
    details.put("credits_per_worker", credits);
    details.put("remaining_in_db_after", db.counts().unfinished());
    if (lost > 0) {
      details.put("streams_lost", lost);
    }
    if (signatures > 0) {
      details.put("worker_signatures", signatures);
      details.put("outcomes_per_worker_signature", round3((double) signed / signatures));
    }
    return new Measured(tracker.accepted(), tracker.refused() + tracker.revokedCount(),
        tracker.refused() == 0 ? null : Map.copyOf(tracker.refusals()), round3(secs), null, null, null, details, !done);
  }

  /**
   * Submits {@code jobs} jobs one at a time at {@code rate} per second (open-loop schedule, each
   * call awaited) to workers that are already running and idle; latency = accepted OutcomeAck at
   * the worker − the moment just before CreateJob; pickup = Assignment received − the same moment.
   */
  Measured latency(int jobs, double rate, Tracker tracker, long deadline) {
    JobServiceGrpc.JobServiceBlockingStub stub = blockingStub();
    String[] ids = new String[jobs];
    long[] before = new long[jobs];
    Submissions.Log errors = new Submissions.Log(0);
    long interval = (long) (1e9 / rate);
    long t0 = System.nanoTime();
    int sent = 0;
    for (int i = 0; i < jobs && System.nanoTime() < deadline; i++) {
      long due = t0 + i * interval;
      for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
        LockSupport.parkNanos(wait);
      }
      long te = System.nanoTime();
      try {
        CreateJobResponse r = stub.withDeadlineAfter(Submissions.CALL_DEADLINE_MS, TimeUnit.MILLISECONDS)
            .createJob(Submissions.NOOP);
        ids[sent] = r.getJob().getJobId();
        before[sent] = te;
        sent++;
      } catch (StatusRuntimeException e) {
        errors.failed(new Submissions.Failure("gRPC " + e.getStatus().getCode(), String.valueOf(e.getStatus().getDescription())));
      }
    }
    double sendSecs = (System.nanoTime() - t0) / 1e9;
    acknowledged(sent);
    tracker.expect(sent);
    boolean done = tracker.await(deadline + 5_000_000_000L);
    outcomesAccepted += tracker.accepted();
    long[] e2e = new long[sent];
    long[] pickup = new long[sent];
    int ne = 0;
    int np = 0;
    for (int i = 0; i < sent; i++) {
      Long acked = tracker.acceptedAt(ids[i]);
      if (acked != null) {
        e2e[ne++] = acked - before[i];
      }
      Long assigned = tracker.assignedAt(ids[i]);
      if (assigned != null) {
        pickup[np++] = assigned - before[i];
      }
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("target_rate_per_s", rate);
    details.put("achieved_send_rate_per_s", Math.round(sent / sendSecs));
    Map<String, String> kinds = errors.errorKinds();
    if (tracker.refused() > 0) {
      kinds = kinds == null ? new LinkedHashMap<>() : new LinkedHashMap<>(kinds);
      for (var r : tracker.refusals().entrySet()) {
        kinds.put("outcome refused", r.getKey() + " (job " + r.getValue() + ")");
      }
    }
    return new Measured(ne, errors.errors() + tracker.refused(), kinds, round3(sendSecs), null,
        Results.Latency.ofNanos(e2e, ne), Results.Latency.ofNanos(pickup, np), details, !done || sent < jobs);
  }

  /**
   * The latency phase with {@code workers} fresh bench workers: they connect, get a second to
   * reach their idle state (as the peers' workers do), then the jobs go out one at a time.
   */
  Results.Phase latencyPhase(int workers, int credits) {
    return phase(String.format(Locale.ROOT, "%,d jobs at %s/s, one call at a time, %d idle workers",
        options.latencyJobs, BenchRun.fmt(options.latencyRate), workers), w -> {
          Tracker tracker = new Tracker(true);
          try (WorkerPool pool = workers("bench-latency", workers, credits, tracker)) {
            LockSupport.parkNanos(LATENCY_WARMUP_NANOS);
            w.start();
            Measured m = latency(options.latencyJobs, options.latencyRate, tracker, deadline());
            w.stop();
            return m;
          }
        });
  }

  /**
   * Runs {@code jobs} jobs through every submit path (gRPC closed loop and in flight, and REST
   * when {@code rest} is given) and the bench workers before anything is measured: a JVM that
   * just started runs its first thousands of calls interpreted, which a coordinator in production
   * has long left behind. Not measured; says how long it took.
   */
  void warmUp(int jobs, int producers, int inFlight, int workers, int credits,
      @Nullable Supplier<CompletableFuture<Submissions.@Nullable Failure>> rest) {
    if (jobs <= 0) {
      return;
    }
    long start = System.nanoTime();
    long cap = start + Duration.ofMinutes(5).toNanos();
    int share = Math.max(1, jobs / (rest == null ? 2 : 4));
    JobServiceGrpc.JobServiceBlockingStub blocking = blockingStub();
    JobServiceGrpc.JobServiceStub async = asyncStub();
    List<Submissions.Log> logs = new ArrayList<>();
    logs.add(Submissions.closedLoop(share, producers, cap, p -> Submissions.createJob(blocking)));
    logs.add(Submissions.inFlight(share, inFlight, cap, () -> Submissions.createJobAsync(async)));
    if (rest != null) {
      logs.add(Submissions.closedLoop(share, producers, cap, p -> rest.get().join()));
      logs.add(Submissions.inFlight(share, inFlight, cap, rest));
    }
    int ok = logs.stream().mapToInt(Submissions.Log::ok).sum();
    acknowledged(ok);
    Tracker tracker = new Tracker(false);
    tracker.expect(ok);
    try (WorkerPool pool = workers("bench-warmup", workers, credits, tracker)) {
      tracker.await(cap);
    }
    accepted(tracker.accepted());
    say("warm-up: %d jobs submitted and processed in %.1f s (not measured)", ok, (System.nanoTime() - start) / 1e9);
  }

  /** The submissions acknowledged and outcomes accepted so far, against the database's rows. */
  Results.DbCheck dbCheck() {
    BenchDatabase.Counts c = db.counts();
    return new Results.DbCheck(submissionsAcknowledged, c.all(), outcomesAccepted, c.completed(), c.unfinished());
  }

  /** Counts outcomes accepted outside {@link #process} and {@link #latency} (e.g. embedding jobs). */
  void accepted(long outcomes) {
    outcomesAccepted += outcomes;
  }

  /** Rounds to three decimals. */
  static double round3(double x) {
    return Math.round(x * 1000) / 1000.0;
  }

  /** Prints a line now (progress goes to the same place as the table). */
  void say(String format, Object... args) {
    out.printf(format + "%n", args);
    out.flush();
  }

  @Override
  public void close() {
    clientChannel.shutdownNow();
    if (bridge != null) {
      bridge.close();
    }
    coordinator.close();
    timer.shutdownNow();
    signing.shutdownNow();
    db.close();
  }

  /** Lists of phases for picocli help and checks. */
  static List<String> split(String commaList) {
    List<String> out = new ArrayList<>();
    for (String s : commaList.split(",")) {
      if (!s.isBlank()) {
        out.add(s.trim());
      }
    }
    return out;
  }
}
