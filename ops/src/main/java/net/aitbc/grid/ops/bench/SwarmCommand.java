package net.aitbc.grid.ops.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench swarm}: what a consensus over several workers costs against one plain job of
 * the same payload ({@link SwarmTimings}), and what comparing the results costs the coordinator
 * ({@link ComparisonTimings}).
 */
@Command(name = "swarm", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {
        "Swarm consensus: coordinate -> consensus over --collaborators real workers (the embedded model, in this JVM) "
            + "against plain jobs of the same payload, and the cost of comparing results.",
        "  e2e         a fresh coordinator (and database); each round runs, in rotating order: one plain job alone; "
            + "--collaborators plain jobs at once (the same load, no coordination); and a consensus task. Times are "
            + "the coordinator's, created to ended; the slowest member is the task's slowest member job, created to "
            + "ended. Target: the task within 1.2 x its slowest member. Medians over --rounds.",
        "  comparison  the coordinator's comparison code called directly: cosine of two 384-number embeddings, "
            + "bigram Jaccard of two 2,000-token texts, a decision over three results of each, and a result's parse; "
            + "CPU time per call of the timing thread.",
        ""})
final class SwarmCommand implements Callable<Integer> {
  static final List<String> PARTS = List.of("e2e", "comparison");

  @Spec CommandSpec spec;

  @Option(names = "--parts", defaultValue = "e2e,comparison", description = "comma list of parts (default: both)")
  String parts = "e2e,comparison";

  @Option(names = "--collaborators", defaultValue = "3",
      description = "workers started, and members of each task (default ${DEFAULT-VALUE})")
  int collaborators = 3;

  @Option(names = "--texts", defaultValue = "16",
      description = "sentences in the embedding payload: 1 is the swarm's probe size (default ${DEFAULT-VALUE})")
  int texts = 16;

  @Option(names = "--rounds", defaultValue = "7", description = "measured rounds (default ${DEFAULT-VALUE})")
  int rounds = 7;

  @Option(names = "--warmup-rounds", defaultValue = "3", description = "unmeasured rounds first (default ${DEFAULT-VALUE})")
  int warmupRounds = 3;

  @Option(names = "--iterations", defaultValue = "20000",
      description = "comparison: calls per timed batch at most; fewer for slow calls, so that a batch takes about "
          + "200 ms of CPU (default ${DEFAULT-VALUE})")
  int iterations = 20_000;

  @Option(names = "--batches", defaultValue = "7",
      description = "comparison: timed batches after the warm-up; the median is reported (default ${DEFAULT-VALUE})")
  int batches = 7;

  @Option(names = "--comparison-warmup", defaultValue = "1s", converter = Seconds.class,
      description = "comparison: CPU time spent warming up each operation first (default ${DEFAULT-VALUE})")
  Duration comparisonWarmup = Duration.ofSeconds(1);

  @Mixin CommonOptions common = new CommonOptions();

  @Override
  public Integer call() throws IOException {
    List<String> selected = BenchGrid.split(parts);
    for (String p : selected) {
      if (!PARTS.contains(p)) {
        throw new IllegalArgumentException("unknown part '" + p + "'; parts are " + String.join(", ", PARTS));
      }
    }
    if (collaborators < 1 || texts < 1 || rounds < 1 || warmupRounds < 0 || iterations < 1 || batches < 1
        || comparisonWarmup.isNegative()) {
      throw new IllegalArgumentException("--collaborators, --texts, --rounds, --iterations and --batches must be at "
          + "least 1, --warmup-rounds and --comparison-warmup at least 0");
    }
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("lib", "aitbc-grid");
    doc.put("bench", "swarm");
    Map<String, Object> params = new LinkedHashMap<>();
    params.put("collaborators", collaborators);
    params.put("texts", texts);
    params.put("rounds", rounds);
    params.put("warmup_rounds", warmupRounds);
    params.put("iterations", iterations);
    params.put("batches", batches);
    params.put("comparison_warmup_s", comparisonWarmup.toMillis() / 1000.0);
    params.put("coordinator_opts", common.coordinatorOpts);
    doc.put("params", params);
    doc.put("host", ProcFs.hostInfo());
    if (selected.contains("e2e")) {
      List<Map<String, Object>> done;
      try (BenchGrid grid = BenchGrid.start(common, out, false, List.of())) {
        done = SwarmTimings.run(grid, collaborators, texts, warmupRounds, rounds);
      }
      Map<String, Object> m = medians(done);
      doc.put("rounds", done);
      doc.put("medians", m);
      out.println();
      out.printf(Locale.ROOT, "median of %d round(s), an embedding of %d sentence(s), %d worker(s) on %d cores:%n",
          rounds, texts, collaborators, Runtime.getRuntime().availableProcessors());
      out.printf(Locale.ROOT, "  one plain job %s ms; %d plain jobs at once %s ms; consensus task %s ms (slowest member "
              + "%s ms; first member job made after %s ms; decision after the last member %s ms)%n", m.get("plain_ms"),
          collaborators, m.get("plain_at_once_ms"), m.get("swarm_ms"), m.get("slowest_member_ms"),
          m.get("start_lag_ms"), m.get("decision_lag_ms"));
      out.printf(Locale.ROOT, "  as the client saw them (polling every 5 ms): plain %s ms, at once %s ms, task %s ms; the "
              + "CreateJob call %s ms, the Coordinate call %s ms%n", m.get("plain_client_ms"),
          m.get("plain_at_once_client_ms"), m.get("swarm_client_ms"), m.get("create_call_ms"),
          m.get("coordinate_call_ms"));
      out.printf(Locale.ROOT, "  task / slowest member %s x (target <= 1.2: %s); task / plain job %s x; task / plain jobs "
              + "at once %s x%n", m.get("swarm_over_slowest_member"),
          ((Double) m.get("swarm_over_slowest_member")) <= 1.2 ? "met" : "not met", m.get("swarm_over_plain"),
          m.get("swarm_over_plain_at_once"));
    }
    if (selected.contains("comparison")) {
      Map<String, Object> c = ComparisonTimings.run(iterations, batches, comparisonWarmup);
      doc.put("comparison_ns", c);
      out.println();
      out.printf(Locale.ROOT, "comparison, CPU time per call (median of %d batches of up to %,d calls each):%n", batches, iterations);
      ComparisonTimings.lines(c).forEach(out::println);
    }
    out.flush();
    if (common.json != null) {
      Results.json().writeValue(common.json.toFile(), doc);
    }
    return 0;
  }

  /** The median over rounds of every numeric figure. */
  private static Map<String, Object> medians(List<Map<String, Object>> done) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String k : done.getFirst().keySet()) {
      List<Double> values = new ArrayList<>();
      for (Map<String, Object> r : done) {
        if (r.get(k) instanceof Number n) {
          values.add(n.doubleValue());
        }
      }
      if (!values.isEmpty()) {
        m.put(k, Math.round(EmbeddingBench.median(values) * 1000) / 1000.0);
      }
    }
    return m;
  }
}
