package net.aitbc.grid.ops.bench;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.aitbc.grid.ops.EmbeddingBatchingOptions;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code grid bench}: the grid's throughput and latency on loopback, measured the way the peers are. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    subcommands = {ScaleCommand.class, CompareCommand.class, ReceiptsCommand.class, LedgerCommand.class,
        PaymentsCommand.class, TransfersCommand.class, WorkflowsCommand.class, SwarmCommand.class,
        MinersCommand.class, CacheCommand.class},
    description = {
        "Measures the grid's throughput and latency on this machine, as the PostgreSQL job-queue peers are measured.",
        "It starts its own coordinator (a child JVM), REST bridge and bench workers on loopback over a database it",
        "creates, and runs the selected phases in this order:",
        "  submit_grpc        N CreateJob calls from --producers closed-loop producers, a connection each",
        "  process            --workers bench workers drain a backlog of exactly N queued jobs",
        "  submit_grpc_async  N CreateJob calls from one caller with up to --in-flight outstanding",
        "  submit_rest        N POST /v1/jobs through the bridge from --producers closed-loop producers",
        "  submit_rest_async  the same with up to --in-flight outstanding",
        "  latency            --latency-jobs jobs at --latency-rate/s, one call at a time, idle workers",
        "  embedding          embedding jobs through a real worker against the model called directly",
        "A submission counts once acknowledged (committed), an outcome once its OutcomeAck (committed) arrives.",
        "What a submit phase leaves queued is drained, and reported as a drain, before the next phase.",
        "Subcommands: scale (10,000 connected workers), compare (grid runs next to the peers' runs), receipts and ledger",
        "(what receipts cost, sealing and proofs), payments (paid against unpaid jobs), transfers (the ledger's rate),",
        "workflows (workflow executions: throughput and overhead per step), swarm (a consensus over real workers against",
        "a plain job, and what comparing results costs), miners (REST miners next to stream workers).",
        ""})
public final class BenchCommand implements Callable<Integer> {
  /** Every phase, in the order they run. */
  static final List<String> PHASES = List.of("submit_grpc", "process", "submit_grpc_async", "submit_rest",
      "submit_rest_async", "latency", "embedding");

  @Spec CommandSpec spec;

  @Option(names = "--n", defaultValue = "50000", description = "jobs per throughput phase (default ${DEFAULT-VALUE})")
  int n = 50_000;

  @Option(names = "--producers", defaultValue = "8",
      description = "closed-loop producers of the submit rows, each awaiting its call (default ${DEFAULT-VALUE})")
  int producers = 8;

  @Option(names = "--in-flight", defaultValue = "256",
      description = "calls one caller keeps in flight in the *_async submit rows (default ${DEFAULT-VALUE})")
  int inFlight = 256;

  @Mixin CommonOptions common = new CommonOptions();

  @Option(names = "--signing-key-file",
      description = "run the coordinator with this signing key: receipts on (workers sign, blocks are sealed)")
  @Nullable Path signingKeyFile;

  @Option(names = "--phases", defaultValue = "submit_grpc,submit_grpc_async,submit_rest,submit_rest_async,process,latency,embedding",
      description = "comma list of phases to run; they always run in the order above (default: all)")
  String phases = String.join(",", PHASES);

  @Option(names = "--warmup-jobs", defaultValue = "30000",
      description = "jobs submitted (gRPC and REST) and processed before the first phase, not measured, so that both "
          + "JVMs are warm as in production; 0 for none (default ${DEFAULT-VALUE})")
  int warmupJobs = 30000;

  @Option(names = "--rest-protocol", defaultValue = "h1c",
      description = "how the REST client talks to the bridge: h1c (HTTP/1.1, a pooled connection per outstanding "
          + "request, as curl and most clients) or h2c (HTTP/2 without TLS, multiplexed) (default ${DEFAULT-VALUE})")
  String restProtocol = "h1c";

  @Option(names = "--embedding-jobs", defaultValue = "200",
      description = "sentences per embedding round (default ${DEFAULT-VALUE})")
  int embeddingJobs = 200;

  @Option(names = "--embedding-concurrency", defaultValue = "2",
      description = "sentences embedded at once, directly and by the grid's worker (default ${DEFAULT-VALUE})")
  int embeddingConcurrency = 2;

  @Mixin EmbeddingBatchingOptions embeddingBatching = new EmbeddingBatchingOptions();

  @Option(names = "--embedding-rounds", defaultValue = "3",
      description = "alternating direct/grid rounds; medians are reported (default ${DEFAULT-VALUE})")
  int embeddingRounds = 3;

  @Option(names = "--peers", split = ",",
      description = "folder(s) with the peers' result JSON (run-all.sh output): print grid/peer ratios")
  List<Path> peers = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<String> selected = BenchGrid.split(phases);
    for (String p : selected) {
      if (!PHASES.contains(p)) {
        throw new IllegalArgumentException("unknown phase '" + p + "'; phases are " + String.join(", ", PHASES));
      }
    }
    if (n < 1 || producers < 1 || inFlight < 1 || common.workers < 1 || common.workerCredits < 1) {
      throw new IllegalArgumentException("--n, --producers, --in-flight, --workers and --worker-credits must be at least 1");
    }
    Results.Run run = new BenchRun(this, selected, out).run();
    boolean clean = run.timedOut().isEmpty() && run.phases().values().stream().allMatch(p -> p.errors() == 0);
    // 2, not 1: the run finished and its numbers stand, but something in it deserves a look.
    return clean ? 0 : 2;
  }
}
