package net.aitbc.grid.ops.bench;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench workflows}: the workflow engine's throughput and its overhead per step, against
 * one job's dispatch latency measured on the same coordinator. Each round starts a fresh
 * coordinator and database; its bench workers complete {@code noop} jobs at once.
 */
@Command(name = "workflows", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {
        "Workflow executions of a three-step noop workflow a -> b -> c: executions per second, and the overhead per "
            + "step against one job's dispatch latency.",
        "Each round starts a fresh coordinator (and database), warms it up with --warmup-jobs plain jobs, and runs:",
        "  latency     the latency phase of `grid bench` (--latency-jobs at --latency-rate, one call at a time, idle "
            + "workers): one job's dispatch latency is its pickup, Assignment received - before CreateJob",
        "  solo        --solo-executions, one every 1/--solo-rate s: the engine idle between them",
        "  concurrent  --executions started at once (--in-flight ExecuteWorkflow calls outstanding), after "
            + "--warmup-executions unmeasured ones",
        "Step overhead: a step job's outcome -> the next step's job created, from the coordinator's timestamps in the "
            + "database; handoff: the same as the bench workers see it (OutcomeAck received -> next Assignment received).",
        "Executions/s: the first execution created -> the last one ended. Medians over --rounds."})
final class WorkflowsCommand implements Callable<Integer> {
  /** The steps, in the order they run. */
  static final List<String> STEPS = List.of("a", "b", "c");
  private static final String DEFINITION = "{\"steps\": {\"a\": {\"type\": \"noop\", \"payload\": {}},"
      + " \"b\": {\"type\": \"noop\", \"depends_on\": [\"a\"], \"payload\": {}},"
      + " \"c\": {\"type\": \"noop\", \"depends_on\": [\"b\"], \"payload\": {}}}}";

  @Spec CommandSpec spec;

  @Option(names = "--executions", defaultValue = "1000",
      description = "executions started at once in the concurrent run (default ${DEFAULT-VALUE})")
  int executions = 1000;

  @Option(names = "--rounds", defaultValue = "2", description = "rounds, each on a fresh coordinator (default ${DEFAULT-VALUE})")
  int rounds = 2;

  @Option(names = "--in-flight", defaultValue = "16",
      description = "ExecuteWorkflow calls outstanding at once; each holds a database connection, and the coordinator has "
          + "16 (default ${DEFAULT-VALUE})")
  int inFlight = 16;

  @Option(names = "--warmup-jobs", defaultValue = "5000",
      description = "plain noop jobs submitted and processed first, not measured (default ${DEFAULT-VALUE})")
  int warmupJobs = 5000;

  @Option(names = "--warmup-executions", defaultValue = "200",
      description = "executions run before the solo run, not measured (default ${DEFAULT-VALUE})")
  int warmupExecutions = 200;

  @Option(names = "--solo-executions", defaultValue = "50",
      description = "executions of the solo run; 0 for none (default ${DEFAULT-VALUE})")
  int soloExecutions = 50;

  @Option(names = "--solo-rate", defaultValue = "10", description = "solo executions a second (default ${DEFAULT-VALUE})")
  double soloRate = 10;

  @Option(names = "--run-timeout", defaultValue = "600s", converter = Seconds.class,
      description = "cap on each workflow run (warm-up, solo, concurrent); --phase-timeout caps the latency phase "
          + "(default ${DEFAULT-VALUE})")
  Duration runTimeout = Duration.ofMinutes(10);

  @Mixin CommonOptions common = new CommonOptions();

  @Override
  public Integer call() throws IOException {
    if (executions < 1 || rounds < 1 || inFlight < 1 || warmupJobs < 0 || warmupExecutions < 0 || soloExecutions < 0
        || soloRate <= 0 || common.workers < 1 || common.workerCredits < 1 || common.latencyJobs < 1) {
      throw new IllegalArgumentException("--executions, --rounds, --in-flight, --workers, --worker-credits and "
          + "--latency-jobs must be at least 1, the warm-ups and --solo-executions at least 0, --solo-rate above 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    List<Map<String, Object>> done = new ArrayList<>();
    int errors = 0;
    for (int round = 1; round <= rounds; round++) {
      Map<String, Object> r = round(out, round);
      errors += (int) r.get("errors");
      done.add(r);
    }
    Map<String, Object> m = medians(done);
    out.println();
    out.printf(Locale.ROOT, "median of %d round(s), %,d concurrent executions of a -> b -> c (noop), %d bench workers:%n",
        rounds, executions, common.workers);
    out.printf(Locale.ROOT, "  concurrent: %s executions/s; step overhead p50 %s ms, p99 %s ms; handoff at the workers p50 "
        + "%s ms, p99 %s ms%n", m.get("executions_per_s"), m.get("step_overhead_p50_ms"), m.get("step_overhead_p99_ms"),
        m.get("handoff_p50_ms"), m.get("handoff_p99_ms"));
    out.printf(Locale.ROOT, "  solo:       step overhead p50 %s ms, p99 %s ms; handoff p50 %s ms, p99 %s ms%n",
        m.get("solo_step_overhead_p50_ms"), m.get("solo_step_overhead_p99_ms"), m.get("solo_handoff_p50_ms"),
        m.get("solo_handoff_p99_ms"));
    out.printf(Locale.ROOT, "  one job's dispatch latency (pickup) p50 %s ms, p99 %s ms%n", m.get("dispatch_p50_ms"),
        m.get("dispatch_p99_ms"));
    out.printf(Locale.ROOT, "  target: step overhead below one job's dispatch latency (p50): concurrent %s, solo %s%n",
        verdict(m.get("step_overhead_p50_ms"), m.get("dispatch_p50_ms")),
        verdict(m.get("solo_step_overhead_p50_ms"), m.get("dispatch_p50_ms")));
    if (errors > 0) {
      out.printf(Locale.ROOT, "  %d error(s): see the rounds above%n", errors);
    }
    out.flush();
    if (common.json != null) {
      Map<String, Object> doc = new LinkedHashMap<>();
      doc.put("lib", "aitbc-grid");
      doc.put("bench", "workflows");
      Map<String, Object> params = new LinkedHashMap<>();
      params.put("executions", executions);
      params.put("rounds", rounds);
      params.put("in_flight", inFlight);
      params.put("warmup_jobs", warmupJobs);
      params.put("warmup_executions", warmupExecutions);
      params.put("solo_executions", soloExecutions);
      params.put("solo_rate", soloRate);
      params.put("latency_jobs", common.latencyJobs);
      params.put("latency_rate", common.latencyRate);
      params.put("workers", common.workers);
      params.put("worker_credits", common.workerCredits);
      params.put("coordinator_opts", common.coordinatorOpts);
      doc.put("params", params);
      doc.put("host", ProcFs.hostInfo());
      doc.put("rounds", done);
      doc.put("medians", m);
      Results.json().writeValue(common.json.toFile(), doc);
    }
    return errors == 0 ? 0 : 2;
  }

  private static String verdict(@Nullable Object overhead, @Nullable Object dispatch) {
    if (overhead == null || dispatch == null) {
      return "not measured";
    }
    double ratio = (Double) overhead / (Double) dispatch;
    return String.format(Locale.ROOT, "%s (%.2f x)", ratio < 1 ? "met" : "not met", ratio);
  }

  /** One round on a fresh grid: warm-up, the latency phase, then the workflow runs. */
  private Map<String, Object> round(PrintWriter out, int round) {
    Map<String, Object> r = new LinkedHashMap<>();
    int errors = 0;
    try (BenchGrid grid = BenchGrid.start(common, out, false, List.of())) {
      grid.warmUp(warmupJobs, 8, 256, common.workers, common.workerCredits, null);
      Results.Phase latency = grid.latencyPhase(common.workers, common.workerCredits);
      out.println(Report.line("latency", latency));
      errors += latency.errors() + (latency.timedOut() ? 1 : 0);
      r.put("latency", latency);

      // Times kept for every job: the handoffs are read from them.
      Tracker tracker = new Tracker(true);
      ManagedChannel channel = Grpc.channel(grid.coordinator().grpcPort());
      try (WorkerPool pool = grid.workers("bench-worker", common.workers, common.workerCredits, tracker)) {
        String key = grid.db().clientKey();
        WorkflowServiceGrpc.WorkflowServiceStub stub = Grpc.withKey(WorkflowServiceGrpc.newStub(channel), key);
        String workflow = Grpc.withKey(WorkflowServiceGrpc.newBlockingStub(channel), key)
            .createWorkflow(CreateWorkflowRequest.newBuilder().setName("bench-a-b-c").setDefinitionJson(DEFINITION)
                .build()).getWorkflow().getWorkflowId();
        long start = System.nanoTime();
        Executions.Batch warm = Executions.startAll(stub, workflow, warmupExecutions, inFlight, deadline());
        boolean warmed = Executions.awaitEnded(grid.db().url(), warm.ids().size(), deadline());
        errors += warm.errors().size() + (warmed ? 0 : 1);
        grid.say("round %d: warm-up of %,d executions took %.1f s%s", round, warm.ids().size(),
            (System.nanoTime() - start) / 1e9, warmed ? "" : " (TIMED OUT)");
        int ended = warm.ids().size();

        if (soloExecutions > 0) {
          Executions.Batch solo = Executions.startPaced(stub, workflow, soloExecutions, soloRate, deadline());
          ended += solo.ids().size();
          boolean all = Executions.awaitEnded(grid.db().url(), ended, deadline());
          WorkflowTimings t = WorkflowTimings.read(grid.db().url(), solo.ids(), STEPS, tracker);
          errors += solo.errors().size() + t.executions() - t.completed() + (all ? 0 : 1);
          r.put("solo", t);
          say(grid, round, "solo", t);
        }

        int before = ended;
        Executions.Batch[] concurrent = new Executions.Batch[1];
        Map<String, Object> engine = new LinkedHashMap<>();
        Results.Phase phase = grid.phase("concurrent executions", w -> {
          try (EngineSampler sampler = EngineSampler.start(grid.db().url(), grid.coordinator().pid(), 100)) {
            w.start();
            concurrent[0] = Executions.startAll(stub, workflow, executions, inFlight, deadline());
            boolean all = Executions.awaitEnded(grid.db().url(), before + concurrent[0].ids().size(), deadline());
            w.stop();
            engine.putAll(sampler.stop());
            return new BenchGrid.Measured(concurrent[0].ids().size(), concurrent[0].errors().size(),
                concurrent[0].errorKinds(), BenchGrid.round3(w.seconds()), null, null, null, null, !all);
          }
        });
        WorkflowTimings t = WorkflowTimings.read(grid.db().url(), concurrent[0].ids(), STEPS, tracker);
        errors += phase.errors() + t.executions() - t.completed() + (phase.timedOut() ? 1 : 0);
        r.put("concurrent", t);
        r.put("concurrent_phase", phase);
        r.put("engine", engine);
        say(grid, round, "concurrent", t);
        grid.say("round %d engine: %s", round, engine);
        out.println(Report.line("concurrent", phase));
        r.put("outcomes_accepted", tracker.accepted());
      } finally {
        Grpc.close(List.of(channel));
      }
    }
    r.put("errors", errors);
    return r;
  }

  private long deadline() {
    return System.nanoTime() + runTimeout.toNanos();
  }

  private static void say(BenchGrid grid, int round, String run, WorkflowTimings t) {
    grid.say("round %d %-10s: %,d of %,d executions completed in %.2f s, %.1f/s; step overhead p50/p99 %s/%s ms, "
            + "handoff p50/p99 %s/%s ms; start p50 %s ms, finish p50 %s ms, execution p50/p99 %s/%s ms",
        round, run, t.completed(), t.executions(), t.seconds(), t.executionsPerS(), t.stepOverhead().p50Ms(),
        t.stepOverhead().p99Ms(), t.handoff() == null ? null : t.handoff().p50Ms(),
        t.handoff() == null ? null : t.handoff().p99Ms(), t.startOverhead().p50Ms(), t.finishOverhead().p50Ms(),
        t.e2e().p50Ms(), t.e2e().p99Ms());
  }

  /** The medians over rounds of the figures the report quotes. */
  private Map<String, Object> medians(List<Map<String, Object>> done) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("executions_per_s", median(done, r -> timings(r, "concurrent").executionsPerS()));
    m.put("step_overhead_p50_ms", median(done, r -> timings(r, "concurrent").stepOverhead().p50Ms()));
    m.put("step_overhead_p99_ms", median(done, r -> timings(r, "concurrent").stepOverhead().p99Ms()));
    m.put("handoff_p50_ms", median(done, r -> handoff(r, "concurrent", true)));
    m.put("handoff_p99_ms", median(done, r -> handoff(r, "concurrent", false)));
    if (soloExecutions > 0) {
      m.put("solo_step_overhead_p50_ms", median(done, r -> timings(r, "solo").stepOverhead().p50Ms()));
      m.put("solo_step_overhead_p99_ms", median(done, r -> timings(r, "solo").stepOverhead().p99Ms()));
      m.put("solo_handoff_p50_ms", median(done, r -> handoff(r, "solo", true)));
      m.put("solo_handoff_p99_ms", median(done, r -> handoff(r, "solo", false)));
    }
    m.put("dispatch_p50_ms", median(done, r -> pickup(r).p50Ms()));
    m.put("dispatch_p99_ms", median(done, r -> pickup(r).p99Ms()));
    return m;
  }

  private static WorkflowTimings timings(Map<String, Object> round, String run) {
    return (WorkflowTimings) round.get(run);
  }

  private static @Nullable Double handoff(Map<String, Object> round, String run, boolean p50) {
    Results.Latency h = timings(round, run).handoff();
    return h == null ? null : p50 ? h.p50Ms() : h.p99Ms();
  }

  private static Results.Latency pickup(Map<String, Object> round) {
    Results.Latency p = ((Results.Phase) round.get("latency")).pickup();
    return p == null ? Results.Latency.ofNanos(new long[0], 0) : p;
  }

  /** The median of a figure over rounds (the mean of the middle two of an even count), leaving out rounds without it. */
  private static @Nullable Double median(List<Map<String, Object>> done,
      Function<Map<String, Object>, @Nullable Double> figure) {
    List<Double> values = done.stream().map(figure).filter(Objects::nonNull).sorted(Comparator.naturalOrder()).toList();
    if (values.isEmpty()) {
      return null;
    }
    int mid = values.size() / 2;
    double m = values.size() % 2 == 1 ? values.get(mid) : (values.get(mid - 1) + values.get(mid)) / 2;
    return Math.round(m * 1000) / 1000.0;
  }
}
