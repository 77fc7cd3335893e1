package net.aitbc.grid.ops.bench;

import com.linecorp.armeria.client.ClientFactory;
import com.linecorp.armeria.client.Endpoint;
import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.SessionProtocol;
import io.grpc.ManagedChannel;
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
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import net.aitbc.grid.v1.JobServiceGrpc;
import org.jspecify.annotations.Nullable;

/** One run of {@code grid bench}: sets the grid up, runs the selected phases in order, reports. */
final class BenchRun {
  /** Untimed work (warm-up, top-ups) may take longer than a phase. */
  private static final Duration UNTIMED_CAP = Duration.ofMinutes(5);

  private final BenchCommand o;
  private final CommonOptions c;
  private final List<String> selected;
  private final PrintWriter out;
  private final Map<String, Results.Phase> phases = new LinkedHashMap<>();
  private final Map<String, Results.Phase> drains = new LinkedHashMap<>();
  private final List<String> timedOut = new ArrayList<>();
  /** Jobs acknowledged and not yet processed: what the next phase would find queued. */
  private int backlog;
  private @Nullable ClientFactory restFactory;
  private @Nullable WebClient rest;

  BenchRun(BenchCommand options, List<String> selected, PrintWriter out) {
    this.o = options;
    this.c = options.common;
    this.selected = selected;
    this.out = out;
  }

  /** Runs everything and prints the report; the result is also what --json writes. */
  Results.Run run() {
    long t0 = System.nanoTime();
    String startedAt = Instant.now().toString();
    boolean needsBridge = selected.contains("submit_rest") || selected.contains("submit_rest_async");
    Results.Run run;
    List<String> coordinatorArgs = o.signingKeyFile == null ? List.of()
        : List.of("--signing-key-file", o.signingKeyFile.toString());
    try (BenchGrid grid = BenchGrid.start(c, out, needsBridge, coordinatorArgs)) {
      try {
        if (needsBridge) {
          restFactory = ClientFactory.builder().build();
          rest = WebClient.builder(SessionProtocol.of(o.restProtocol), Endpoint.of("127.0.0.1", grid.bridgePort()))
              .factory(restFactory).responseTimeout(Duration.ofMillis(Submissions.CALL_DEADLINE_MS)).build();
        }
        Map<String, String> server = grid.db().serverSettings();
        warmUp(grid);
        for (String name : BenchCommand.PHASES) {
          if (selected.contains(name)) {
            runPhase(grid, name);
          }
        }
        drain(grid, "end");
        run = new Results.Run("aitbc-grid", startedAt, params(), ProcFs.hostInfo(), server, phases, drains, timedOut,
            grid.dbCheck(), grid.coordinator().log().toString(), BenchGrid.round3((System.nanoTime() - t0) / 1e9));
      } finally {
        if (restFactory != null) {
          restFactory.close();
        }
      }
    }
    Report.table(out, run);
    if (c.json != null) {
      try {
        Files.writeString(c.json, Results.json().writeValueAsString(run));
        out.println("wrote " + c.json);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot write " + c.json, e);
      }
    }
    if (!o.peers.isEmpty()) {
      PeerComparison.print(out, List.of(Results.json().valueToTree(run)), PeerComparison.readPeers(o.peers));
    }
    out.flush();
    return run;
  }

  private void runPhase(BenchGrid grid, String name) {
    if (!name.equals("process")) {
      // Each phase but `process` starts with nothing queued, like the peers' phases.
      drain(grid, "before_" + name);
    }
    Results.Phase result = switch (name) {
      case "submit_grpc" -> submitGrpc(grid);
      case "submit_grpc_async" -> submitGrpcAsync(grid);
      case "submit_rest" -> submitRest(grid);
      case "submit_rest_async" -> submitRestAsync(grid);
      case "process" -> process(grid);
      case "latency" -> latency(grid);
      case "embedding" -> grid.phase(String.format(Locale.ROOT, "%d sentences × %d rounds, concurrency %d: grid vs direct",
          o.embeddingJobs, o.embeddingRounds, o.embeddingConcurrency),
          w -> EmbeddingBench.run(grid, grid.db().workerKey(), o.embeddingJobs, o.embeddingConcurrency,
              o.embeddingRounds, o.embeddingBatching.batching(), w));
      default -> throw new IllegalArgumentException(name);
    };
    record(name, result, phases);
  }

  private void record(String name, Results.Phase result, Map<String, Results.Phase> into) {
    into.put(name, result);
    if (result.timedOut()) {
      timedOut.add(name);
    }
    out.println(Report.line(into == drains ? "drain " + name : name, result));
    out.flush();
  }

  // ---- submit rows

  private Results.Phase submitGrpc(BenchGrid grid) {
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      // One connection per producer: concurrent clients, not one client multiplexing.
      List<JobServiceGrpc.JobServiceBlockingStub> stubs = new ArrayList<>();
      for (int p = 0; p < o.producers; p++) {
        ManagedChannel ch = Grpc.channel(grid.coordinator().grpcPort());
        channels.add(ch);
        stubs.add(Grpc.withKey(JobServiceGrpc.newBlockingStub(ch), grid.db().clientKey()));
      }
      return submitPhase(grid, String.format(Locale.ROOT, "CreateJob, %d closed-loop producers, %d connections",
          o.producers, o.producers), w -> Submissions.closedLoop(o.n, o.producers, grid.deadline(),
          p -> Submissions.createJob(stubs.get(p))));
    } finally {
      Grpc.close(channels);
    }
  }

  private Results.Phase submitGrpcAsync(BenchGrid grid) {
    ManagedChannel ch = Grpc.channel(grid.coordinator().grpcPort());
    try {
      JobServiceGrpc.JobServiceStub stub = Grpc.withKey(JobServiceGrpc.newStub(ch), grid.db().clientKey());
      return submitPhase(grid, String.format(Locale.ROOT, "CreateJob, one caller, ≤%d in flight, 1 connection", o.inFlight),
          w -> Submissions.inFlight(o.n, o.inFlight, grid.deadline(), () -> Submissions.createJobAsync(stub)));
    } finally {
      Grpc.close(List.of(ch));
    }
  }

  private Results.Phase submitRest(BenchGrid grid) {
    Function<WebClient, CompletableFuture<Submissions.@Nullable Failure>> post =
        Submissions.restCreate(grid.db().clientKey());
    WebClient client = restClient();
    return submitPhase(grid, String.format(Locale.ROOT, "POST /v1/jobs via bridge, %d closed-loop producers, %s",
        o.producers, o.restProtocol), w -> Submissions.closedLoop(o.n, o.producers, grid.deadline(), p -> {
          try {
            return post.apply(client).join();
          } catch (RuntimeException e) {
            return new Submissions.Failure("client " + e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
          }
        }));
  }

  private Results.Phase submitRestAsync(BenchGrid grid) {
    Function<WebClient, CompletableFuture<Submissions.@Nullable Failure>> post =
        Submissions.restCreate(grid.db().clientKey());
    WebClient client = restClient();
    return submitPhase(grid, String.format(Locale.ROOT, "POST /v1/jobs via bridge, one caller, ≤%d in flight, %s",
        o.inFlight, o.restProtocol), w -> Submissions.inFlight(o.n, o.inFlight, grid.deadline(), () -> post.apply(client)));
  }

  private WebClient restClient() {
    if (rest == null) {
      throw new IllegalStateException("no REST client");
    }
    return rest;
  }

  private Results.Phase submitPhase(BenchGrid grid, String what, Function<BenchGrid.Window, Submissions.Log> loop) {
    Results.Phase p = grid.phase(what, w -> {
      w.start();
      Submissions.Log log = loop.apply(w);
      w.stop();
      return grid.submitted(log, o.n, w);
    });
    backlog += p.jobs();
    return p;
  }

  // ---- workers

  /** Processes a backlog of exactly N: tops it up (untimed) when the submit phase before it was not run or failed. */
  private Results.Phase process(BenchGrid grid) {
    if (backlog > o.n) {
      drain(grid, "before_process");
    }
    if (backlog < o.n) {
      int missing = o.n - backlog;
      long start = System.nanoTime();
      JobServiceGrpc.JobServiceStub stub = grid.asyncStub();
      Submissions.Log log = Submissions.inFlight(missing, o.inFlight, System.nanoTime() + UNTIMED_CAP.toNanos(),
          () -> Submissions.createJobAsync(stub));
      grid.acknowledged(log.ok());
      backlog += log.ok();
      grid.say("process: submitted %d jobs for the backlog first (not measured, %.1f s)%s", log.ok(),
          (System.nanoTime() - start) / 1e9, log.errors() > 0 ? "; errors: " + log.errorKinds() : "");
    }
    int jobs = backlog;
    Results.Phase p = grid.phase(String.format(Locale.ROOT, "backlog of %,d, %d workers × %d credits", jobs, c.workers,
        c.workerCredits), w -> grid.process(jobs, c.workers, c.workerCredits, grid.deadline(), w));
    backlog -= p.jobs();
    return p;
  }

  /** Processes whatever the submit phases left queued, as a measured phase of its own (reported under drains). */
  private void drain(BenchGrid grid, String name) {
    if (backlog <= 0) {
      return;
    }
    int jobs = backlog;
    Results.Phase p = grid.phase(String.format(Locale.ROOT, "backlog of %,d, %d workers × %d credits", jobs, c.workers,
        c.workerCredits), w -> grid.process(jobs, c.workers, c.workerCredits, grid.deadline(), w));
    backlog -= p.jobs();
    record(name, p, drains);
    if (backlog > 0) {
      grid.say("warning: %d jobs still queued after draining", backlog);
    }
  }

  private Results.Phase latency(BenchGrid grid) {
    return grid.latencyPhase(c.workers, c.workerCredits);
  }

  // ---- warm-up

  private void warmUp(BenchGrid grid) {
    WebClient client = rest;
    var post = Submissions.restCreate(grid.db().clientKey());
    grid.warmUp(o.warmupJobs, o.producers, o.inFlight, c.workers, c.workerCredits,
        client == null ? null : () -> post.apply(client));
  }

  private Map<String, Object> params() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("n", o.n);
    p.put("producers", o.producers);
    p.put("in_flight", o.inFlight);
    p.put("latency_jobs", c.latencyJobs);
    p.put("latency_rate", c.latencyRate);
    p.put("workers", c.workers);
    p.put("worker_credits", c.workerCredits);
    p.put("warmup_jobs", o.warmupJobs);
    p.put("rest_protocol", o.restProtocol);
    p.put("embedding_jobs", o.embeddingJobs);
    p.put("embedding_concurrency", o.embeddingConcurrency);
    p.put("embedding_rounds", o.embeddingRounds);
    p.put("embedding_batch_window_ms", o.embeddingBatching.batching().window().toMillis());
    p.put("embedding_max_batch", o.embeddingBatching.batching().maxBatch());
    p.put("phases", selected);
    p.put("phase_timeout_s", c.phaseTimeout.toSeconds());
    p.put("gate_max_busy", c.gateMaxBusy);
    p.put("gate_max_wait_s", c.gateMaxWait.toMillis() / 1000.0);
    p.put("coordinator_opts", c.coordinatorOpts);
    p.put("db", c.dbName);
    p.put("payload", Submissions.PAYLOAD);
    return p;
  }

  /** A number without a trailing .0 when it is whole. */
  static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
