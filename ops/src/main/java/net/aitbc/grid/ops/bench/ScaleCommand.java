package net.aitbc.grid.ops.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench scale}: thousands of worker streams on one coordinator at once, each a real
 * gRPC stream over TCP that registers, grants a credit and heartbeats; reports how long they took
 * to register, the coordinator's heap and CPU with them connected, and the latency phase with them
 * next to the same phase with a few workers.
 */
@Command(name = "scale", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {
        "Many workers on one coordinator: footprint, and latency with them connected.",
        "Connects --scale-workers simulated workers (real gRPC streams over TCP, --streams-per-connection to a "
            + "connection, heartbeating every heartbeat interval with jitter, 1 credit each) to a fresh coordinator, "
            + "and reports registration time, the coordinator's heap (max seen, and live after a full GC), RSS, CPU, "
            + "and the latency phase with them next to the same phase with --workers bench workers."})
final class ScaleCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--scale-workers", defaultValue = "10000",
      description = "worker streams to connect (default ${DEFAULT-VALUE})")
  int scaleWorkers = 10_000;

  @Option(names = "--streams-per-connection", defaultValue = "100",
      description = "worker streams multiplexed on one TCP connection (default ${DEFAULT-VALUE})")
  int perConnection = 100;

  @Option(names = "--connect-concurrency", defaultValue = "500",
      description = "registrations in flight at once while connecting (default ${DEFAULT-VALUE})")
  int connecting = 500;

  @Option(names = "--settle", defaultValue = "30s", converter = Seconds.class,
      description = "how long the workers sit idle and heartbeat before the latency phase (default ${DEFAULT-VALUE})")
  Duration settle = Duration.ofSeconds(30);

  @Option(names = "--lease", defaultValue = "30s", description = "the coordinator's --lease (default ${DEFAULT-VALUE})")
  String lease = "30s";

  @Option(names = "--heartbeat", defaultValue = "10s",
      description = "the coordinator's --heartbeat (default ${DEFAULT-VALUE})")
  String heartbeat = "10s";

  @Option(names = "--warmup-jobs", defaultValue = "30000",
      description = "jobs submitted and processed before the baseline, not measured, so that the coordinator's JVM is "
          + "warm (default ${DEFAULT-VALUE})")
  int warmupJobs = 30000;

  @Mixin CommonOptions common = new CommonOptions();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (scaleWorkers < 1 || perConnection < 1 || connecting < 1) {
      throw new IllegalArgumentException("--scale-workers, --streams-per-connection and --connect-concurrency must be at least 1");
    }
    long t0 = System.nanoTime();
    String startedAt = Instant.now().toString();
    Map<String, Results.Phase> phases = new LinkedHashMap<>();
    Map<String, Object> scale = new LinkedHashMap<>();
    List<String> timedOut = new ArrayList<>();
    Results.ScaleRun run;
    try (BenchGrid grid = BenchGrid.start(common, out, false, List.of("--lease", lease, "--heartbeat", heartbeat))) {
      Map<String, String> server = grid.db().serverSettings();
      CoordinatorProcess coordinator = grid.coordinator();
      grid.warmUp(warmupJobs, 8, 256, common.workers, common.workerCredits, null);
      String baseline = "latency_" + common.workers + "_workers";
      phases.put(baseline, grid.latencyPhase(common.workers, common.workerCredits));
      out.println(Report.line(baseline, phases.get(baseline)));

      // What is live before any worker connects, so that the footprint per worker can be told.
      Double liveBefore = coordinator.collectGarbage() ? coordinator.scrape().heapUsed() : null;
      if (liveBefore != null) {
        scale.put("heap_live_before_workers_mb", CoordinatorProcess.mb(liveBefore));
      }
      HeapWatch watch = HeapWatch.start(coordinator);
      Tracker tracker = new Tracker(true);
      long connectStart = System.nanoTime();
      try (WorkerPool pool = WorkerPool.open(coordinator.grpcPort(), grid.db().workerKey(), "scale", scaleWorkers,
          perConnection, 1, 1, connecting, tracker, grid.timer(), grid.signing())) {
        pool.awaitRegistered(Duration.ofMinutes(10));
        double registerSeconds = (System.nanoTime() - connectStart) / 1e9;
        CoordinatorProcess.Scrape connected = coordinator.scrape();
        scale.put("workers", scaleWorkers);
        scale.put("tcp_connections", pool.connections());
        scale.put("streams_per_connection", perConnection);
        scale.put("open_files_limit", ProcFs.openFilesLimit());
        scale.put("register_seconds", BenchGrid.round3(registerSeconds));
        scale.put("workers_connected_metric_after_register", connected.workersConnected());
        out.printf(Locale.ROOT, "%d workers registered in %.1f s over %d TCP connections (coordinator reports %s connected)%n",
            scaleWorkers, registerSeconds, pool.connections(), connected.workersConnected());
        out.flush();

        String idle = "idle_" + scaleWorkers + "_workers";
        phases.put(idle, grid.phase(String.format(Locale.ROOT, "%,d workers connected and heartbeating for %ds, no jobs",
            scaleWorkers, settle.toSeconds()), w -> {
              w.start();
              LockSupport.parkNanos(settle.toNanos());
              w.stop();
              return new BenchGrid.Measured(0, 0, null, BenchGrid.round3(w.seconds()), null, null, null, null, false);
            }));
        out.println(Report.line(idle, phases.get(idle)));
        scale.put("heap_used_mb_after_settle", phases.get(idle).coordinator().heapUsedMb());

        String loaded = "latency_" + scaleWorkers + "_workers";
        phases.put(loaded, grid.phase(String.format(Locale.ROOT, "%,d jobs at %s/s, one call at a time, %,d connected workers",
            common.latencyJobs, BenchRun.fmt(common.latencyRate), scaleWorkers), w -> {
              w.start();
              BenchGrid.Measured m = grid.latency(common.latencyJobs, common.latencyRate, tracker, grid.deadline());
              w.stop();
              return m;
            }));
        out.println(Report.line(loaded, phases.get(loaded)));
        scale.put("workers_connected_metric_after_latency", coordinator.scrape().workersConnected());
        scale.put("streams_lost", pool.lostStreams());
        scale.put("heap_max_seen_mb", watch.stop());
        scale.put("heap_samples", watch.samples());
        ProcFs.Rss rss = ProcFs.rss(coordinator.pid());
        scale.put("rss_mb", CoordinatorProcess.mb(rss.current()));
        scale.put("rss_peak_mb", CoordinatorProcess.mb(rss.peak()));
        if (coordinator.collectGarbage()) {
          Double live = coordinator.scrape().heapUsed();
          scale.put("heap_live_after_full_gc_mb", live == null ? null : CoordinatorProcess.mb(live));
          if (live != null && liveBefore != null) {
            scale.put("heap_live_per_worker_kb", Math.round((live - liveBefore) / scaleWorkers / 1024 * 10) / 10.0);
          }
        }
        scale.put("coordinator_xmx", common.coordinatorOpts);
      }
      phases.forEach((k, v) -> {
        if (v.timedOut()) {
          timedOut.add(k);
        }
      });
      run = new Results.ScaleRun("aitbc-grid", startedAt, params(), ProcFs.hostInfo(), server, scale, phases,
          timedOut, coordinator.log().toString(), BenchGrid.round3((System.nanoTime() - t0) / 1e9));
    }
    print(out, run);
    if (common.json != null) {
      try {
        Files.writeString(common.json, Results.json().writeValueAsString(run));
        out.println("wrote " + common.json);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + common.json, e);
      }
    }
    out.flush();
    return timedOut.isEmpty() ? 0 : 2;
  }

  private void print(PrintWriter out, Results.ScaleRun run) {
    out.println();
    out.println("| phase | what | jobs | err | p50 | p90 | p99 | max (ms) | pickup p50 / p99 | cores: coord / pg / bench / other | coord RSS / heap (MB) |");
    out.println("|---|---|---:|---:|---:|---:|---:|---:|---|---|---|");
    run.phases().forEach((name, p) -> {
      Results.Latency l = p.e2e();
      Results.Cpu c = p.cpu();
      out.printf(Locale.ROOT, "| %s | %s | %d | %d | %s | %s | %s | %s | %s | %.2f / %.2f / %.2f / %.2f | %s |%n", name,
          p.what(), p.jobs(), p.errors(), l == null ? "" : Report.ms(l.p50Ms()), l == null ? "" : Report.ms(l.p90Ms()),
          l == null ? "" : Report.ms(l.p99Ms()), l == null ? "" : Report.ms(l.maxMs()),
          p.pickup() == null ? "" : Report.ms(p.pickup().p50Ms()) + " / " + Report.ms(p.pickup().p99Ms()),
          c.coordinatorCores(), c.postgresCores(), c.benchCores(), c.otherCores(), Report.memory(p.coordinator()));
    });
    out.println();
    run.scale().forEach((k, v) -> out.println("  " + k + ": " + v));
    Results.Phase loaded = run.phases().get("latency_" + scaleWorkers + "_workers");
    out.println();
    out.println("Targets (informational):");
    Object live = run.scale().get("heap_live_after_full_gc_mb");
    Object max = run.scale().get("heap_max_seen_mb");
    Report.target(out, "coordinator heap with " + scaleWorkers + " workers < 1 GiB (max seen)",
        max instanceof Number n ? n.doubleValue() : null, 1024, false);
    Report.target(out, "coordinator heap live after a full GC < 1 GiB", live instanceof Number n ? n.doubleValue() : null,
        1024, false);
    if (loaded != null && loaded.e2e() != null) {
      Report.target(out, "latency p50 ≤ 1 ms with " + scaleWorkers + " workers", loaded.e2e().p50Ms(), 1, false);
      Report.target(out, "latency p99 ≤ 3 ms with " + scaleWorkers + " workers", loaded.e2e().p99Ms(), 3, false);
    }
  }

  private Map<String, Object> params() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("scale_workers", scaleWorkers);
    p.put("warmup_jobs", warmupJobs);
    p.put("streams_per_connection", perConnection);
    p.put("connect_concurrency", connecting);
    p.put("settle_s", settle.toSeconds());
    p.put("lease", lease);
    p.put("heartbeat", heartbeat);
    p.put("baseline_workers", common.workers);
    p.put("worker_credits", common.workerCredits);
    p.put("latency_jobs", common.latencyJobs);
    p.put("latency_rate", common.latencyRate);
    p.put("coordinator_opts", common.coordinatorOpts);
    p.put("gate_max_busy", common.gateMaxBusy);
    p.put("gate_max_wait_s", common.gateMaxWait.toMillis() / 1000.0);
    return p;
  }

  /** Scrapes the coordinator's heap once a second in the background and keeps the largest value. */
  private static final class HeapWatch {
    private final Thread thread;
    private volatile boolean running = true;
    private volatile double maxBytes;
    private volatile int samples;

    private HeapWatch(CoordinatorProcess coordinator) {
      thread = Thread.ofPlatform().daemon().name("bench-heap-watch").start(() -> {
        while (running) {
          Double used = coordinator.scrape().heapUsed();
          if (used != null) {
            maxBytes = Math.max(maxBytes, used);
            samples++;
          }
          LockSupport.parkNanos(1_000_000_000L);
        }
      });
    }

    /** Starts watching. */
    static HeapWatch start(CoordinatorProcess coordinator) {
      return new HeapWatch(coordinator);
    }

    /** Stops and returns the largest heap seen, in MB. */
    double stop() {
      running = false;
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return CoordinatorProcess.mb(maxBytes);
    }

    /** How many scrapes answered. */
    int samples() {
      return samples;
    }
  }
}
