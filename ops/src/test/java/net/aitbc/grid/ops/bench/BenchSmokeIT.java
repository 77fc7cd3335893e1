package net.aitbc.grid.ops.bench;

import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.ops.CliRun;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code grid bench} and its subcommands (scale, compare, receipts, ledger, payments, transfers,
 * workflows, swarm, miners) with tiny numbers
 * against a fresh database: they finish, every phase did all its jobs without errors, the
 * database holds exactly what was acknowledged, and the JSON reads back. Timings are never
 * asserted: this machine is shared and its numbers are for the benchmark's report only.
 */
class BenchSmokeIT {
  /** The tests' server: the machine's, AITBC_TEST_DB_URL's, or an embedded one (TestDatabase decides). */
  private static final String SERVER = TestDatabase.server();
  private static final String DB = "grid_test_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private static final Path LOGS = Path.of(System.getProperty("basedir", "."), "target", "bench-smoke");
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Lean coordinator JVM: the machine has two cores and the suite runs other JVMs beside it. */
  private static final String COORDINATOR_OPTS = "-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";

  private static CliRun grid(String... args) {
    return CliRun.run(new CommandLine(new BenchCommand()), args);
  }

  @AfterAll
  static void dropDatabase() throws SQLException {
    try (Connection c = DriverManager.getConnection(SERVER)) {
      DSL.using(c, SQLDialect.POSTGRES).dropDatabaseIfExists(DB).execute();
    }
  }

  @Test
  void everyPhaseDoesAllItsJobsAndTheDatabaseHoldsWhatWasAcknowledged(@TempDir Path tmp) throws IOException {
    Path json = tmp.resolve("grid.json");
    CliRun run = grid("--n", "200", "--latency-jobs", "50", "--latency-rate", "200", "--embedding-jobs", "5",
        "--embedding-rounds", "1", "--warmup-jobs", "40", "--workers", "2", "--worker-credits", "50",
        "--gate-max-wait", "0s", "--db-url", SERVER, "--db-name", DB, "--coordinator-opts", COORDINATOR_OPTS,
        "--log-dir", LOGS.resolve("bench").toString(), "--json", json.toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();

    JsonNode result = JSON.readTree(Files.readString(json));
    assertThat(result.path("lib").asText()).isEqualTo("aitbc-grid");
    JsonNode phases = result.path("phases");
    assertThat(phases.fieldNames()).toIterable().containsExactlyElementsOf(BenchCommand.PHASES);
    for (String p : List.of("submit_grpc", "submit_grpc_async", "submit_rest", "submit_rest_async", "process")) {
      assertThat(phases.path(p).path("jobs").asInt()).as(p).isEqualTo(200);
      assertThat(phases.path(p).path("errors").asInt()).as(p).isZero();
      assertThat(phases.path(p).path("timed_out").asBoolean()).as(p).isFalse();
      assertThat(phases.path(p).path("cpu").has("coordinator_cores")).as(p).isTrue();
    }
    assertThat(phases.at("/submit_grpc/latency/n").asInt()).isEqualTo(200);
    assertThat(phases.at("/process/details/remaining_in_db_after").asInt()).isZero();
    assertThat(phases.at("/latency/jobs").asInt()).isEqualTo(50);
    assertThat(phases.at("/latency/e2e/n").asInt()).isEqualTo(50);
    assertThat(phases.at("/latency/pickup/n").asInt()).isEqualTo(50);
    assertThat(phases.at("/embedding/jobs").asInt()).isEqualTo(5);
    assertThat(phases.at("/embedding/errors").asInt()).isZero();
    assertThat(phases.at("/embedding/details/direct_jobs_per_s").asDouble()).isPositive();
    // Every submit phase after the first leaves a backlog that is drained before the next phase.
    assertThat(result.path("drains").size()).isEqualTo(3);

    JsonNode db = result.path("db_check");
    assertThat(db.path("jobs_in_db").asLong()).isEqualTo(db.path("submissions_acknowledged").asLong());
    assertThat(db.path("completed_in_db").asLong()).isEqualTo(db.path("outcomes_accepted").asLong())
        .isEqualTo(db.path("jobs_in_db").asLong());
    assertThat(db.path("unfinished_in_db").asLong()).isZero();
    assertThat(run.out()).contains("| submit_grpc", "| latency", "Targets");

    // The same file read back as a grid run, next to a peer run of the peers' shape.
    Path peers = Files.createDirectory(tmp.resolve("peers"));
    Files.writeString(peers.resolve("gw-batched.run1.json"), "{\"profile\":\"gw-batched\",\"lib\":\"graphile-worker\","
        + "\"phases\":{\"enqueue_single\":{\"jobs_per_s\":1000},\"process_1\":{\"jobs_per_s\":40000},"
        + "\"latency\":{\"e2e\":{\"p50_ms\":11.9,\"p99_ms\":15.9},\"pickup\":{\"p50_ms\":2}}}}\n");
    CliRun compare = grid("compare", "--grid", json.toString(), "--peers", peers.toString());
    assertThat(compare.status()).as(compare.err()).isZero();
    assertThat(compare.out()).contains("gw-batched", "grid/gw-batched", "process a backlog of N");
  }

  @Test
  void receiptsAndLedgerBenchmarksRunBothModesAndProveWhatTheySealed() {
    CliRun receipts = grid("receipts", "--rounds", "1", "--n", "200", "--warmup-jobs", "40", "--blocks-every", "50",
        "--block-interval", "50ms", "--workers", "2", "--worker-credits", "50", "--gate-max-wait", "0s", "--db-url",
        SERVER, "--db-name", DB, "--coordinator-opts", COORDINATOR_OPTS, "--log-dir", LOGS.resolve("receipts").toString());
    assertThat(receipts.status()).as(receipts.out() + receipts.err()).isZero();
    assertThat(receipts.out()).contains("receipts off:", "receipts on :", "(200 jobs, 0 errors); all receipts sealed",
        "ratio on/off");

    // Every proof it times is verified against the sealed root, or the command fails.
    CliRun ledger = grid("ledger", "--receipts", "300", "--blocks-every", "50", "--proofs", "20", "--db-url", SERVER,
        "--db-name", DB);
    assertThat(ledger.status()).as(ledger.out() + ledger.err()).isZero();
    assertThat(ledger.out()).contains("Ed25519", "sealed 300 receipts into 6 blocks", "inclusion proof at 300 leaves",
        "consistency proof to 300 leaves");
  }

  @Test
  void paymentsAndTransfersBenchmarksRunBothModesAndEveryPaymentIsReleased() {
    // Exit 0 only if no call failed and every paid job's escrow ended released (warm-up's 40 and the 200).
    CliRun paid = grid("payments", "--rounds", "1", "--n", "200", "--warmup-jobs", "40", "--workers", "2",
        "--worker-credits", "50", "--gate-max-wait", "0s", "--db-url", SERVER, "--db-name", DB, "--coordinator-opts",
        COORDINATOR_OPTS, "--log-dir", LOGS.resolve("payments").toString());
    assertThat(paid.status()).as(paid.out() + paid.err()).isZero();
    assertThat(paid.out()).contains("round 1, unpaid: ", "round 1, paid  : ", "(200 jobs, 0 errors)",
        "240 released of 240", "ratio paid/unpaid");

    // Fails unless exactly three transfers were made per paid job and every completion was accepted.
    CliRun ledger = grid("transfers", "--rounds", "1", "--jobs", "300", "--batch", "50", "--threads", "2",
        "--warmup-jobs", "50", "--db-url", SERVER, "--db-name", DB);
    assertThat(ledger.status()).as(ledger.out() + ledger.err()).isZero();
    assertThat(ledger.out()).contains("round 1, unpaid: 300 jobs", "round 1, paid  : 300 jobs", "transfers/s");
  }

  @Test
  void workflowsRunsEveryExecutionToTheEndWithOneJobPerStep(@TempDir Path tmp) throws Exception {
    Path json = tmp.resolve("workflows.json");
    CliRun run = grid("workflows", "--executions", "30", "--rounds", "1", "--warmup-jobs", "20", "--latency-jobs", "10",
        "--latency-rate", "100", "--warmup-executions", "5", "--solo-executions", "3", "--solo-rate", "20",
        "--workers", "2", "--worker-credits", "20", "--gate-max-wait", "0s", "--db-url", SERVER, "--db-name", DB,
        "--coordinator-opts", COORDINATOR_OPTS, "--log-dir", LOGS.resolve("workflows").toString(),
        "--json", json.toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("executions/s", "one job's dispatch latency (pickup)",
        "target: step overhead below one job's dispatch latency");

    JsonNode result = JSON.readTree(Files.readString(json));
    JsonNode round = result.at("/rounds/0");
    assertThat(round.path("errors").asInt()).isZero();
    assertThat(round.at("/latency/pickup/n").asInt()).isEqualTo(10);
    for (String r : List.of("solo", "concurrent")) {
      int n = r.equals("solo") ? 3 : 30;
      assertThat(round.at("/" + r + "/executions").asInt()).as(r).isEqualTo(n);
      assertThat(round.at("/" + r + "/completed").asInt()).as(r).isEqualTo(n);
      // Two step pairs per execution (a -> b, b -> c), seen in the database and by the workers.
      assertThat(round.at("/" + r + "/step_overhead/n").asInt()).as(r).isEqualTo(2 * n);
      assertThat(round.at("/" + r + "/handoff/n").asInt()).as(r).isEqualTo(2 * n);
      assertThat(round.at("/" + r + "/e2e/n").asInt()).as(r).isEqualTo(n);
    }
    assertThat(round.at("/engine/samples").asInt()).isPositive();
    assertThat(result.at("/medians/executions_per_s").asDouble()).isPositive();
    assertThat(result.at("/medians/dispatch_p50_ms").isNumber()).isTrue();

    // 38 executions (5 + 3 + 30), each completed with exactly one job per step.
    String url = SERVER.replaceFirst("/[^/?]*(\\?|$)", "/" + DB + "$1");
    try (Connection c = DriverManager.getConnection(url)) {
      var db = DSL.using(c, SQLDialect.POSTGRES);
      assertThat(db.fetchCount(EXECUTION, EXECUTION.STATUS.eq(ExecutionStatus.completed))).isEqualTo(38);
      assertThat(db.fetchCount(JOB, JOB.EXECUTION_ID.isNotNull())).isEqualTo(3 * 38);
      assertThat(db.fetchCount(db.selectDistinct(JOB.REQUEST_ID).from(JOB).where(JOB.EXECUTION_ID.isNotNull())))
          .isEqualTo(3 * 38);
    }
  }

  @Test
  void scaleConnectsEveryWorkerAndRunsTheLatencyPhaseWithThem(@TempDir Path tmp) throws IOException {
    Path json = tmp.resolve("scale.json");
    CliRun run = grid("scale", "--scale-workers", "50", "--streams-per-connection", "10", "--settle", "1s", "--warmup-jobs", "20",
        "--latency-jobs", "30", "--latency-rate", "100", "--workers", "2", "--worker-credits", "20",
        "--gate-max-wait", "0s", "--db-url", SERVER, "--db-name", DB, "--coordinator-opts", COORDINATOR_OPTS,
        "--log-dir", LOGS.resolve("scale").toString(), "--json", json.toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();

    JsonNode result = JSON.readTree(Files.readString(json));
    JsonNode scale = result.path("scale");
    assertThat(scale.path("workers").asInt()).isEqualTo(50);
    assertThat(scale.path("tcp_connections").asInt()).isEqualTo(5);
    assertThat(scale.path("workers_connected_metric_after_register").asDouble()).isEqualTo(50);
    assertThat(scale.path("workers_connected_metric_after_latency").asDouble()).isEqualTo(50);
    assertThat(scale.path("streams_lost").asInt()).isZero();
    assertThat(scale.path("heap_max_seen_mb").asDouble()).isPositive();
    for (String p : List.of("latency_2_workers", "latency_50_workers")) {
      assertThat(result.at("/phases/" + p + "/jobs").asInt()).as(p).isEqualTo(30);
      assertThat(result.at("/phases/" + p + "/errors").asInt()).as(p).isZero();
      assertThat(result.at("/phases/" + p + "/e2e/n").asInt()).as(p).isEqualTo(30);
    }
  }

  @Test
  void swarmRunsConsensusTasksOverRealWorkersAndTimesTheComparison(@TempDir Path tmp) throws Exception {
    Path json = tmp.resolve("swarm.json");
    CliRun run = grid("swarm", "--rounds", "1", "--warmup-rounds", "0", "--texts", "2", "--iterations", "50",
        "--batches", "1", "--comparison-warmup", "0s", "--gate-max-wait", "0s", "--db-url", SERVER, "--db-name", DB,
        "--coordinator-opts", COORDINATOR_OPTS, "--log-dir", LOGS.resolve("swarm").toString(), "--json", json.toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("task / slowest member", "bigram Jaccard");

    JsonNode result = JSON.readTree(Files.readString(json));
    JsonNode round = result.at("/rounds/0");
    assertThat(round.path("agreeing").asInt()).isEqualTo(3);
    assertThat(round.path("plain_at_once_workers").asInt()).isBetween(1, 3);
    assertThat(round.path("swarm_ms").asDouble()).isGreaterThanOrEqualTo(round.path("slowest_member_ms").asDouble());
    assertThat(result.at("/medians/swarm_over_slowest_member").asDouble()).isPositive();
    assertThat(result.at("/comparison_ns/embedding_similarity").asDouble()).isPositive();
    assertThat(result.at("/comparison_ns/similarities/embedding_turned").asDouble()).isBetween(0.94, 0.96);
    assertThat(result.at("/comparison_ns/similarities/text_5pct_noise").asDouble()).isGreaterThan(0.6);
    assertThat(result.at("/comparison_ns/similarities/text_50pct_noise").asDouble()).isLessThan(0.6);
  }

  @Test
  void minersDrainAndWakeNextToStreamWorkers() {
    // Exit 0 only if every drain did all its jobs without an error and every wake-up job was picked up.
    CliRun run = grid("miners", "--n", "100", "--rounds", "1", "--miners", "3", "--warmup-jobs", "30",
        "--latency-jobs", "20", "--latency-rate", "50", "--workers", "2", "--worker-credits", "50",
        "--gate-max-wait", "0s", "--db-url", SERVER, "--db-name", DB, "--coordinator-opts", COORDINATOR_OPTS,
        "--log-dir", LOGS.resolve("miners").toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("miners r1", "stream-1 r1", "stream-N r1", "miners wake-up", "stream pickup",
        "medians of 1 rounds: REST miners", "wake-up, from just before CreateJob");
  }

  @Test
  void cacheAnswersHitsAndMissesAndTimesBoth() {
    CliRun run = grid("cache", "--n", "50", "--warmup", "10", "--rounds", "1", "--gate-max-wait", "0s",
        "--db-url", SERVER, "--db-name", DB, "--coordinator-opts", COORDINATOR_OPTS,
        "--log-dir", LOGS.resolve("cache").toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("round 1: 50 hits", "misses (run by a worker)", "median of 1 rounds: hits p50");
  }
}
