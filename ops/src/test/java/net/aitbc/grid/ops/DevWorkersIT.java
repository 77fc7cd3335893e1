package net.aitbc.grid.ops;

import static net.aitbc.grid.db.Tables.WORKER_KEY;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.ops.testing.SwarmCli;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grid dev --workers 3 --worker-swarm embedding-eu}: three distinct workers, each with its
 * own id, owner, state directory and Ed25519 key, all connected, and embedding jobs submitted
 * through the REST bridge spread over them, each receipt naming the worker that ran its job; the
 * CLI's {@code swarm} commands reach a consensus over three real results (README "Trying it with
 * grid dev").
 */
class DevWorkersIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "dev-workers-key";
  private static final List<String> IDS = List.of("dev-worker", "dev-worker-2", "dev-worker-3");

  @TempDir static Path stateRoot;
  private static TestDatabase db;
  private static DevGrid grid;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    db = TestDatabase.create();
    // One job at a time each, so that a burst of jobs has to spread.
    grid = DevGrid.start(new DevGrid.Options(db.url(), null, null, null, KEY, 0, 0, 0, null, 1, null)
        .withWorkers(new DevGrid.Workers(3, List.of("embedding-eu"), stateRoot)));
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stop() {
    if (http != null) {
      http.close();
    }
    if (grid != null) {
      grid.close();
    }
    db.close();
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.header("X-Api-Key", KEY).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + grid.httpPort() + path);
  }

  @Test
  void threeWorkersConnectEachWithItsOwnIdOwnerAndKey() throws Exception {
    assertThat(grid.workers()).extracting(WorkerNode::workerId).containsExactlyElementsOf(IDS);
    assertThat(grid.worker().workerId()).isEqualTo("dev-worker");
    assertThat(grid.workers()).allSatisfy(w -> {
      assertThat(w.isRegistered()).isTrue();
      assertThat(w.config().swarms()).containsExactly("embedding-eu");
      assertThat(w.capabilities().getJobTypesList()).contains("embedding", "noop");
      assertThat(w.config().stateDir()).isEqualTo(stateRoot.resolve(w.workerId()));
    });
    Map<String, String> keyFiles = new TreeMap<>();
    for (String id : IDS) {
      keyFiles.put(id, SigningKey.load(stateRoot.resolve(id).resolve(WorkerConfig.KEY_FILE)).keyId());
    }
    assertThat(Set.copyOf(keyFiles.values())).hasSize(3);

    try (Connection c = DriverManager.getConnection(grid.jdbcUrl())) {
      DSLContext sql = DSL.using(c, SQLDialect.POSTGRES);
      // The coordinator pinned each worker's own key, under an owner of its own.
      Map<String, String> owners = new HashMap<>();
      Map<String, String> pinned = new TreeMap<>();
      sql.selectFrom(WORKER_KEY).fetch().forEach(r -> {
        owners.put(r.getWorkerId(), r.getOwnerId());
        pinned.put(r.getWorkerId(), VerifyingKey.fromBytes(r.getPublicKey()).keyId());
      });
      assertThat(owners).containsOnlyKeys(IDS);
      IDS.forEach(id -> assertThat(owners.get(id)).isEqualTo(id));
      assertThat(pinned).isEqualTo(keyFiles);
      assertThat(sql.selectDistinct(WORKER_SESSION.WORKER_ID).from(WORKER_SESSION)
          .where(WORKER_SESSION.CLOSED_AT.isNull()).fetch(WORKER_SESSION.WORKER_ID)).containsExactlyInAnyOrderElementsOf(IDS);
    }
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + grid.coordinator().metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("grid_workers_connected 3.0");

    String banner = DevCommand.banner(grid);
    for (String id : IDS) {
      assertThat(banner).containsPattern("(?m)^  worker        " + id + ": embedding, noop with .*; swarms embedding-eu$");
    }
  }

  @Test
  void embeddingJobsSpreadOverTheWorkersAndEachReceiptNamesItsProvider() throws Exception {
    // Long enough (tens of texts) that a burst of them cannot all be done by one worker in turn.
    String texts = IntStream.range(0, 24).mapToObj(i -> "\"text " + i + " about swarms of workers that agree\"")
        .collect(Collectors.joining(","));
    String body = "{\"payload\":{\"type\":\"embedding\",\"input\":[" + texts + "]},\"ttl_seconds\":120}";
    List<String> jobIds = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/v1/jobs"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      jobIds.add(JSON.readTree(created.body()).get("job_id").asText());
    }
    Map<String, String> providers = new TreeMap<>();
    List<JsonNode> vectors = new ArrayList<>();
    for (String jobId : jobIds) {
      await().atMost(60, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
          .until(() -> send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId + "/result"))).statusCode() == 200);
      JsonNode result = JSON.readTree(send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId + "/result"))).body());
      assertThat(result.get("state").asText()).isEqualTo("COMPLETED");
      JsonNode embeddings = result.get("result").get("embeddings");
      assertThat(embeddings).hasSize(24).allSatisfy(v -> assertThat(v).hasSize(384));
      vectors.add(embeddings.get(0));
      String assigned = JSON.readTree(send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId))).body())
          .get("assigned_miner_id").asText();
      assertThat(result.get("receipt").get("provider").asText()).isEqualTo(assigned);
      providers.put(jobId, assigned);
    }
    assertThat(IDS).containsAll(providers.values());
    assertThat(Set.copyOf(providers.values())).as("who ran the jobs: %s", providers).hasSizeGreaterThanOrEqualTo(2);
    // The same model everywhere: honest workers agree to the last bit.
    assertThat(Set.copyOf(vectors)).hasSize(1);
    System.out.println("[DevWorkersIT] jobs per worker: " + providers.values().stream()
        .collect(Collectors.groupingBy(p -> p, TreeMap::new, Collectors.counting())));
  }

  @Test
  void theCliSwarmCommandsReachAConsensusOverThreeRealResults() {
    try (SwarmCli cli = new SwarmCli(grid.httpPort(), KEY)) {
      // aitbc swarm join --role task-coordinator --capability embedding --priority normal
      JsonNode joined = cli.join("task-coordinator", "embedding", null, "normal").expect(201);
      assertThat(joined.get("swarm_id").asText()).matches("[0-9a-f]{32}");
      // aitbc swarm coordinate --task embedding --collaborators 3 --strategy consensus
      JsonNode started = cli.coordinate("embedding", 3, "consensus", 3600).expect(202);
      String taskId = started.get("task_id").asText();
      // aitbc swarm status TASK_ID, until it ends
      JsonNode t = cli.awaitEnded(taskId, java.time.Duration.ofSeconds(60));
      assertThat(t.get("status").asText()).as(t.toString()).isEqualTo("completed");
      assertThat(t.get("progress").asInt()).isEqualTo(100);
      assertThat(t.get("total_collaborators").asInt()).isEqualTo(3);
      assertThat(t.get("members")).extracting(m -> m.get("worker_id").asText()).containsExactlyInAnyOrderElementsOf(IDS);
      assertThat(t.get("members")).allSatisfy(m -> assertThat(m.get("vote").asText()).isEqualTo("agree"));
      JsonNode d = t.get("decision");
      assertThat(d.get("consensus_reached").asBoolean()).isTrue();
      assertThat(d.get("explanation").asText()).isEqualTo("3 of 3 results agree (share 1.000 >= threshold 0.660)");
      assertThat(d.get("groups")).singleElement().satisfies(g -> assertThat(g.get("share").asDouble()).isEqualTo(1.0));
      assertThat(t.get("result").get("embedding")).hasSize(384);

      // aitbc swarm consensus TASK_ID (the CLI's default threshold, 0.7)
      JsonNode again = cli.consensus(taskId, 0.7).expect(200);
      assertThat(again.get("consensus_reached").asBoolean()).isTrue();
      assertThat(again.get("agreeing_workers")).hasSize(3);

      // The workers started with --worker-swarm embedding-eu gained reputation there.
      JsonNode swarm = cli.list("embedding-eu").expect(200).get("swarms").get(0);
      IDS.forEach(id -> assertThat(SwarmCli.member(swarm, id).get("reputation").asDouble()).isGreaterThan(0.5));
      // aitbc swarm leave SWARM_ID
      assertThat(cli.leave(joined.get("swarm_id").asText()).expect(200).get("status").asText()).isEqualTo("left");
      System.out.println("[DevWorkersIT] " + d.get("explanation").asText() + " (" + d.get("rule").asText() + ")");
    }
  }
}
