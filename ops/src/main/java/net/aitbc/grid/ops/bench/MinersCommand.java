package net.aitbc.grid.ops.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.JobServiceGrpc;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench miners}: REST miners (the aitbc CLI's {@code miner mine}: poll, then the result,
 * through the bridge) next to stream workers in the same run, on the same coordinator.
 */
@Command(name = "miners", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {
        "REST miners next to stream workers: --miners miners, each a thread with its own HTTP/1.1 connection to the",
        "bridge (in this JVM), doing what `aitbc miner mine` does: POST /v1/miners/poll, then POST /v1/miners/{id}/result.",
        "Each round drains a backlog of --n noop jobs three ways, in this order: the miners; as many stream bench",
        "workers granting one credit at a time (a miner's pace: one job, then its outcome); stream workers with",
        "--worker-credits credits (their usual prefetch). The rate is jobs over first pick-up to last accepted outcome.",
        "For the miners, a poll's latency is its round trip when it brings a job. Then the wake-up: --latency-jobs",
        "jobs at --latency-rate/s, one call at a time, to idle miners long-polling, and to idle stream workers: the",
        "time from just before CreateJob to the poll's answer (the Assignment, for a stream worker)."})
final class MinersCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--n", defaultValue = "20000", description = "jobs per drain (default ${DEFAULT-VALUE})")
  int n = 20_000;

  @Option(names = "--miners", defaultValue = "8", description = "REST miners, and stream workers of the "
      + "one-credit drain (default ${DEFAULT-VALUE})")
  int miners = 8;

  @Option(names = "--rounds", defaultValue = "3", description = "rounds of the three drains (default ${DEFAULT-VALUE})")
  int rounds = 3;

  @Option(names = "--warmup-jobs", defaultValue = "20000",
      description = "jobs drained by the miners and by the stream workers before anything is measured, so that "
          + "both JVMs have compiled their paths (default ${DEFAULT-VALUE})")
  int warmupJobs = 20_000;

  @Mixin CommonOptions common = new CommonOptions();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (n < 1 || miners < 1 || rounds < 1 || warmupJobs < 0 || common.workers < 1 || common.workerCredits < 1) {
      throw new IllegalArgumentException("--n, --miners, --rounds, --workers and --worker-credits must be at least 1");
    }
    List<Results.Phase> phases = new ArrayList<>();
    boolean clean = true;
    try (BenchGrid grid = BenchGrid.start(common, out, true, List.of())) {
      String key = grid.db().addWorkerKey("bench-miners");
      if (warmupJobs > 0) {
        long start = System.nanoTime();
        backlog(grid, warmupJobs);
        drain(grid, key, warmupJobs, System.nanoTime() + Duration.ofMinutes(5).toNanos(), null);
        grid.warmUp(warmupJobs, 8, 256, miners, common.workerCredits, null);
        grid.say("warm-up: %,d jobs through the miners and %,d through stream workers in %.1f s (not measured)",
            warmupJobs, warmupJobs, (System.nanoTime() - start) / 1e9);
      }
      for (int round = 1; round <= rounds; round++) {
        backlog(grid, n);
        Results.Phase m = grid.phase(String.format(Locale.ROOT, "%d REST miners drain %,d jobs", miners, n),
            w -> drain(grid, key, n, grid.deadline(), w));
        backlog(grid, n);
        Results.Phase one = grid.phase(String.format(Locale.ROOT, "%d stream workers, 1 credit, drain %,d jobs",
            miners, n), w -> grid.process(n, miners, 1, grid.deadline(), w));
        backlog(grid, n);
        Results.Phase many = grid.phase(String.format(Locale.ROOT, "%d stream workers, %d credits, drain %,d jobs",
            common.workers, common.workerCredits, n),
            w -> grid.process(n, common.workers, common.workerCredits, grid.deadline(), w));
        for (Results.Phase p : List.of(m, one, many)) {
          clean &= p.errors() == 0 && !p.timedOut();
          phases.add(p);
        }
        out.println(Report.line("miners r" + round, m));
        out.println(Report.line("stream-1 r" + round, one));
        out.println(Report.line("stream-N r" + round, many));
        out.flush();
      }
      Results.Phase wake = grid.phase(String.format(Locale.ROOT, "%,d jobs at %s/s to %d idle long-polling miners",
          common.latencyJobs, BenchRun.fmt(common.latencyRate), miners), w -> wake(grid, key, w));
      Results.Phase streamWake = grid.latencyPhase(miners, 1);
      out.println(Report.line("miners wake-up", wake));
      out.println(Report.line("stream pickup", streamWake));
      clean &= wake.errors() == 0 && !wake.timedOut() && streamWake.errors() == 0;
      summary(out, phases, wake, streamWake);
    }
    out.flush();
    return clean ? 0 : 2;
  }

  private void backlog(BenchGrid grid, int jobs) {
    JobServiceGrpc.JobServiceStub stub = grid.asyncStub();
    Submissions.Log log = Submissions.inFlight(jobs, 256, grid.deadline(), () -> Submissions.createJobAsync(stub));
    grid.acknowledged(log.ok());
    if (log.errors() > 0) {
      throw new IllegalStateException("the backlog could not be queued: " + log.errorKinds());
    }
  }

  /**
   * The miners drain {@code jobs} queued jobs: each polls, and sends the result of what it got. The
   * window opens once they have registered.
   */
  private BenchGrid.Measured drain(BenchGrid grid, String key, int jobs, long deadline,
      BenchGrid.@Nullable Window w) {
    List<BenchMiner> list = new ArrayList<>();
    for (int i = 1; i <= miners; i++) {
      BenchMiner m = new BenchMiner(grid.bridgePort(), key, "bench-miner-" + i);
      m.register();
      list.add(m);
    }
    AtomicInteger done = new AtomicInteger();
    AtomicInteger errors = new AtomicInteger();
    AtomicInteger empty = new AtomicInteger();
    AtomicLong last = new AtomicLong();
    long[] polls = new long[jobs + miners];
    AtomicInteger polled = new AtomicInteger();
    Map<String, String> kinds = new ConcurrentHashMap<>();
    if (w != null) {
      w.start();
    }
    long t0 = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    for (BenchMiner m : list) {
      threads.add(Thread.ofPlatform().name(m.id()).start(() -> {
        while (done.get() < jobs && System.nanoTime() < deadline) {
          try {
            long s = System.nanoTime();
            String job = m.poll(1);
            if (job == null) {
              empty.incrementAndGet();
              continue;
            }
            int i = polled.getAndIncrement();
            if (i < polls.length) {
              polls[i] = System.nanoTime() - s;
            }
            if (m.complete(job) == 200) {
              done.incrementAndGet();
              last.accumulateAndGet(System.nanoTime(), Math::max);
            } else {
              errors.incrementAndGet();
            }
          } catch (RuntimeException e) {
            errors.incrementAndGet();
            kinds.putIfAbsent(e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
          }
        }
      }));
    }
    // The window closes with the last outcome, not after the miners' last empty polls.
    while (done.get() < jobs && errors.get() == 0 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(200_000);
    }
    if (w != null) {
      w.stop();
    }
    threads.forEach(BenchMinersJoin::join);
    list.forEach(m -> {
      m.deregister();
      m.close();
    });
    grid.accepted(done.get());
    double seconds = done.get() == 0 ? 0 : (last.get() - t0) / 1e9;
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("miners", miners);
    details.put("empty_polls", empty.get());
    return new BenchGrid.Measured(done.get(), errors.get(), kinds.isEmpty() ? null : Map.copyOf(kinds),
        BenchGrid.round3(seconds), Results.Latency.ofNanos(polls, Math.min(polled.get(), polls.length)), null, null,
        details, done.get() < jobs);
  }

  /**
   * Idle miners long-poll while jobs go out one at a time at the latency rate; a job's pick-up is
   * from just before its CreateJob to the poll's answer with it.
   */
  private BenchGrid.Measured wake(BenchGrid grid, String key, BenchGrid.Window w) {
    List<BenchMiner> list = new ArrayList<>();
    Map<String, Long> received = new ConcurrentHashMap<>();
    AtomicInteger errors = new AtomicInteger();
    int jobs = common.latencyJobs;
    long deadline = grid.deadline();
    for (int i = 1; i <= miners; i++) {
      BenchMiner m = new BenchMiner(grid.bridgePort(), key, "bench-waiting-miner-" + i);
      m.register();
      list.add(m);
    }
    List<Thread> threads = new ArrayList<>();
    for (BenchMiner m : list) {
      threads.add(Thread.ofPlatform().name(m.id()).start(() -> {
        while (received.size() < jobs && System.nanoTime() < deadline) {
          try {
            String job = m.poll(5);
            if (job != null) {
              received.put(job, System.nanoTime());
              if (m.complete(job) != 200) {
                errors.incrementAndGet();
              }
            }
          } catch (RuntimeException e) {
            errors.incrementAndGet();
          }
        }
      }));
    }
    // As the stream workers' latency phase: a second for every miner to be waiting.
    LockSupport.parkNanos(Duration.ofSeconds(1).toNanos());
    JobServiceGrpc.JobServiceBlockingStub stub = grid.blockingStub();
    String[] ids = new String[jobs];
    long[] before = new long[jobs];
    long interval = (long) (1e9 / common.latencyRate);
    w.start();
    long t0 = System.nanoTime();
    int sent = 0;
    for (int i = 0; i < jobs && System.nanoTime() < deadline; i++) {
      long due = t0 + i * interval;
      for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
        LockSupport.parkNanos(wait);
      }
      long te = System.nanoTime();
      CreateJobResponse r = stub.createJob(Submissions.NOOP);
      ids[sent] = r.getJob().getJobId();
      before[sent] = te;
      sent++;
    }
    double sendSecs = (System.nanoTime() - t0) / 1e9;
    grid.acknowledged(sent);
    while (received.size() < sent && System.nanoTime() < deadline) {
      LockSupport.parkNanos(1_000_000);
    }
    w.stop();
    threads.forEach(BenchMinersJoin::join);
    list.forEach(m -> {
      m.deregister();
      m.close();
    });
    grid.accepted(received.size());
    long[] pickup = new long[sent];
    int np = 0;
    for (int i = 0; i < sent; i++) {
      Long at = received.get(ids[i]);
      if (at != null) {
        pickup[np++] = at - before[i];
      }
    }
    return new BenchGrid.Measured(np, errors.get(), null, BenchGrid.round3(sendSecs), null, null,
        Results.Latency.ofNanos(pickup, np), Map.of("miners", miners), np < jobs);
  }

  private static void summary(PrintWriter out, List<Results.Phase> phases, Results.Phase wake, Results.Phase stream) {
    List<Long> m = new ArrayList<>();
    List<Long> one = new ArrayList<>();
    List<Long> many = new ArrayList<>();
    List<Double> p50 = new ArrayList<>();
    List<Double> p99 = new ArrayList<>();
    for (int i = 0; i + 2 < phases.size(); i += 3) {
      m.add(phases.get(i).jobsPerS());
      one.add(phases.get(i + 1).jobsPerS());
      many.add(phases.get(i + 2).jobsPerS());
      Results.Latency l = phases.get(i).latency();
      if (l != null && l.p50Ms() != null) {
        p50.add(l.p50Ms());
        p99.add(l.p99Ms());
      }
    }
    out.printf(Locale.ROOT, "medians of %d rounds: REST miners %,d jobs/s (a poll with a job: p50 %.2f ms, p99 %.2f ms);"
        + " stream workers with 1 credit %,d jobs/s, with their usual credits %,d jobs/s%n", m.size(), median(m),
        medianD(p50), medianD(p99), median(one), median(many));
    out.printf(Locale.ROOT, "wake-up, from just before CreateJob: REST miner's long poll p50 %s ms p99 %s ms; "
        + "stream worker's Assignment p50 %s ms p99 %s ms%n", ms(wake.pickup(), true), ms(wake.pickup(), false),
        ms(stream.pickup(), true), ms(stream.pickup(), false));
  }

  private static String ms(Results.Latency l, boolean p50) {
    Double v = l == null ? null : p50 ? l.p50Ms() : l.p99Ms();
    return v == null ? "-" : String.format(Locale.ROOT, "%.2f", v);
  }

  private static long median(List<Long> values) {
    List<Long> s = values.stream().sorted().toList();
    return s.isEmpty() ? 0 : s.get(s.size() / 2);
  }

  private static double medianD(List<Double> values) {
    List<Double> s = values.stream().sorted().toList();
    return s.isEmpty() ? Double.NaN : s.get(s.size() / 2);
  }

  /** Joins a thread, passing on an interrupt. */
  private static final class BenchMinersJoin {
    private BenchMinersJoin() {}

    static void join(Thread t) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
