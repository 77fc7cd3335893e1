package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The all-in-one dev mode as a user meets it: embedded PostgreSQL, coordinator, bridge and a worker
 * with the embedded model, driven with the README's curl request.
 */
class DevGridIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "dev-key-for-tests";

  private static DevGrid grid;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    grid = DevGrid.start(new DevGrid.Options(null, null, null, null, KEY, 0, 0, 0, null, 2, null));
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stop() {
    http.close();
    grid.close();
  }

  private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(request.header("X-Api-Key", KEY).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + grid.httpPort() + path);
  }

  @Test
  void readmeCurlSubmitsAnEmbeddingJobWhoseResultHas384Numbers() throws Exception {
    HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/v1/jobs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"payload\":{\"type\":\"embedding\",\"prompt\":\"hello grid\"},\"ttl_seconds\":60}")));
    assertThat(created.statusCode()).isEqualTo(201);
    String jobId = JSON.readTree(created.body()).get("job_id").asText();
    assertThat(jobId).matches("[0-9a-f]{32}");

    await().atMost(30, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
        .until(() -> send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId + "/result"))).statusCode() == 200);
    JsonNode result = JSON.readTree(send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId + "/result"))).body());
    assertThat(result.get("state").asText()).isEqualTo("COMPLETED");
    JsonNode embedding = result.get("result").get("embedding");
    assertThat(embedding).hasSize(384);
    embedding.forEach(x -> assertThat(Double.isFinite(x.asDouble())).isTrue());

    JsonNode status = JSON.readTree(send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId))).body());
    assertThat(status.get("assigned_miner_id").asText()).isEqualTo("dev-worker");
  }

  @Test
  void completedJobsGetReceiptsThatGridVerifyChecksWithTheBannersPublicKey() throws Exception {
    HttpResponse<String> created = send(HttpRequest.newBuilder(uri("/v1/jobs"))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(
            "{\"payload\":{\"type\":\"embedding\",\"prompt\":\"a receipt please\"},\"ttl_seconds\":60}")));
    String jobId = JSON.readTree(created.body()).get("job_id").asText();
    await().atMost(30, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
        .until(() -> send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId + "/result"))).statusCode() == 200);
    String result = send(HttpRequest.newBuilder(uri("/v1/jobs/" + jobId + "/result"))).body();
    assertThat(JSON.readTree(result).get("receipt").get("signature").get("key_id").asText()).isEqualTo(grid.signingKeyId());
    assertThat(DevCommand.banner(grid)).contains("signing key   " + grid.signingKeyId() + "   (throwaway)",
        "public key    " + grid.publicKeyFile(), "grid verify ledger --url http://127.0.0.1:" + grid.httpPort());
    assertThat(java.nio.file.Files.readString(grid.publicKeyFile()).trim()).isEqualTo(grid.signingKeyId());

    await().atMost(30, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS).until(() ->
        JSON.readTree(send(HttpRequest.newBuilder(uri("/v1/sync-status"))).body()).path("unsealed").asInt(-1) == 0);
    java.nio.file.Path file = java.nio.file.Files.createTempFile("result-", ".json");
    try {
      java.nio.file.Files.writeString(file, result);
      String url = "http://127.0.0.1:" + grid.httpPort();
      CliRun receipt = CliRun.grid("verify", "receipt", file.toString(), "--url", url, "--api-key", KEY, "--public-key",
          grid.publicKeyFile().toString());
      assertThat(receipt.status()).as(receipt.out() + receipt.err()).isZero();
      assertThat(receipt.out()).contains("OK receipt", "of job " + jobId, "its worker dev-worker signed it");
      CliRun ledger = CliRun.grid("verify", "ledger", "--url", url, "--api-key", KEY, "--public-key",
          grid.publicKeyFile().toString());
      assertThat(ledger.status()).as(ledger.out() + ledger.err()).isZero();
    } finally {
      java.nio.file.Files.delete(file);
    }
  }

  @Test
  void coordinatorServesHealthReflectionAndMetrics() throws Exception {
    ManagedChannel channel = GrpcClients.channel(grid.coordinator().grpcPort());
    try {
      HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance());
      assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

      CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
      StreamObserver<ServerReflectionRequest> reflection = ServerReflectionGrpc.newStub(channel)
          .serverReflectionInfo(new StreamObserver<>() {
            @Override
            public void onNext(ServerReflectionResponse value) {
              answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
              answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {}
          });
      reflection.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
      List<String> services = answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
          .map(s -> s.getName()).toList();
      reflection.onCompleted();
      assertThat(services).contains("aitbc.grid.v1.JobService", "aitbc.grid.v1.WorkerService", "grpc.health.v1.Health");
    } finally {
      channel.shutdownNow();
    }

    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + grid.coordinator().metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("grid_jobs_submitted_total", "grid_workers_connected 1.0", "jvm_memory_used_bytes",
        "grid_commit_seconds_count{committer=\"submit\"", "grid_commit_batch_count{committer=\"outcome\"");
  }

  @Test
  void throwawayDatabaseIsFastNotDurableAndTheBannerSaysSo() throws Exception {
    try (Connection c = DriverManager.getConnection(grid.jdbcUrl())) {
      DSLContext db = DSL.using(c, SQLDialect.POSTGRES);
      assertThat(setting(db, "synchronous_commit")).isEqualTo("off");
      assertThat(setting(db, "server_version_num")).startsWith("18");
    }
    assertThat(DevCommand.banner(grid)).contains("throwaway data (fast, not durable");
  }

  /** A server setting, as SHOW gives it. */
  static String setting(DSLContext db, String name) {
    return db.fetchValue(DSL.function(DSL.name("current_setting"), String.class, DSL.inline(name)));
  }

  private static JsonNode post(String path, String body) throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(r.statusCode()).as(path + " " + r.body()).isBetween(200, 201);
    return JSON.readTree(r.body());
  }

  private static JsonNode get(String path) throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(uri(path)));
    assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private static java.math.BigDecimal balance() throws Exception {
    for (JsonNode b : get("/v1/account").get("balances")) {
      if (b.get("account").asText().equals("client") && b.get("currency").asText().equals("AITBC")) {
        return b.get("balance").decimalValue();
      }
    }
    return java.math.BigDecimal.ZERO;
  }

  @Test
  void theDevClientIsFundedSoThatTheClisPayWorksOnAFirstLook() throws Exception {
    assertThat(DevCommand.banner(grid)).contains("client funds  ", "aitbc --output json client pay <job_id> 1.5");
    java.math.BigDecimal start = balance();
    assertThat(start).isPositive();

    // client submit, then client pay <JOB_ID> 1.5 once it completed: released at once.
    String done = post("/v1/jobs", "{\"payload\": {\"type\": \"embedding\", \"prompt\": \"pay me\"}, "
        + "\"ttl_seconds\": 60}").get("job_id").asText();
    await().atMost(30, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS)
        .until(() -> send(HttpRequest.newBuilder(uri("/v1/jobs/" + done + "/result"))).statusCode() == 200);
    JsonNode paid = post("/v1/payments", "{\"job_id\": \"" + done + "\", \"amount\": 1.5, \"currency\": \"AITBC\","
        + " \"payment_method\": \"aitbc_token\", \"escrow_timeout_seconds\": 3600}");
    assertThat(paid.get("status").asText()).isEqualTo("released");
    // client payment-status <JOB_ID>, client payment-receipt <PAYMENT_ID>
    assertThat(get("/v1/jobs/" + done + "/payment").get("status").asText()).isEqualTo("released");
    JsonNode receipt = get("/v1/payments/" + paid.get("payment_id").asText() + "/receipt");
    assertThat(receipt.get("job_receipt").asText()).matches("[0-9a-f]{32}");
    assertThat(balance()).isEqualByComparingTo(start.subtract(new java.math.BigDecimal("1.5")));

    // A job that cannot run (no worker has the model), paid for, then client refund: the balance is back.
    String stuck = post("/v1/jobs", "{\"payload\": {\"type\": \"inference\", \"model\": \"no-such-model\"},"
        + " \"ttl_seconds\": 600}").get("job_id").asText();
    String paymentId = post("/v1/payments", "{\"job_id\": \"" + stuck + "\", \"amount\": 2, \"currency\": \"AITBC\"}")
        .get("payment_id").asText();
    JsonNode refunded = post("/v1/payments/" + paymentId + "/refund", "{\"job_id\": \"" + stuck
        + "\", \"payment_id\": \"" + paymentId + "\", \"reason\": \"job failed\"}");
    assertThat(refunded.get("status").asText()).isEqualTo("refunded");
    assertThat(get("/v1/jobs/" + stuck + "/payment").get("status").asText()).isEqualTo("refunded");
    assertThat(balance()).isEqualByComparingTo(start.subtract(new java.math.BigDecimal("1.5")));
  }

  /** The first JSON block after "Example 1" in the README's "Agent workflows". */
  private static String readmeExampleOne() throws Exception {
    String readme = java.nio.file.Files.readString(java.nio.file.Path.of("..", "README.md"));
    int at = readme.indexOf("```json", readme.indexOf("Example 1", readme.indexOf("## Agent workflows")));
    return readme.substring(at + "```json".length(), readme.indexOf("```", at + 1));
  }

  @Test
  void readmeExampleOneRunsThroughTheAgentRoutesAsTheBannerSays() throws Exception {
    assertThat(DevCommand.banner(grid)).contains("aitbc --output json agent create --name demo --workflow-file",
        "aitbc --output json agent execute <workflow_id> --inputs inputs.json",
        "aitbc --output json agent status <execution_id>");
    // agent create --name demo --workflow-file workflow.json: the CLI's fields merged with the file's.
    com.fasterxml.jackson.databind.node.ObjectNode create = JSON.createObjectNode().put("name", "demo")
        .put("description", "").put("verification_level", "basic")
        .put("workflow_id", java.util.UUID.randomUUID().toString())
        .put("max_execution_time", 3600).put("max_cost_budget", 0.0);
    create.putObject("inputs");
    create.setAll((com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(readmeExampleOne()));
    JsonNode workflow = post("/api/v1/agents/workflows", create.toString());
    String workflowId = workflow.get("id").asText();
    assertThat(workflow.get("step_count").asInt()).isEqualTo(3);

    // agent execute <workflow_id> --inputs inputs.json, then agent status <execution_id> until it completes.
    HttpResponse<String> started = send(HttpRequest.newBuilder(uri("/api/v1/agents/workflows/" + workflowId
        + "/execute")).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"verification_level\": \"basic\", \"workflow_id\": \"" + workflowId + "\","
                + " \"inputs\": {\"query\": \"hi\", \"documents\": [\"a\", \"b\"]}, \"priority\": \"normal\","
                + " \"timeout_seconds\": 3600}")));
    assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
    String executionId = JSON.readTree(started.body()).get("id").asText();
    JsonNode done = await().atMost(60, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS)
        .until(() -> get("/api/v1/agents/executions/" + executionId), s -> !s.get("status").asText().matches(
            "pending|running"));
    assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("completed");
    assertThat(done.get("progress").asInt()).isEqualTo(100);
    assertThat(done.get("total_cost").isNumber()).isTrue();
    JsonNode result = done.get("final_result");
    assertThat(result.get("query")).hasSize(384);
    assertThat(result.get("documents")).hasSize(2).allSatisfy(d -> assertThat(d.get("embedding")).hasSize(384));
    assertThat(result.get("report").asText()).isEqualTo("embedded 'hi' and [\"a\",\"b\"]");
  }

  @Test
  void gridAccountsDepositsWithAnAdminKeyOnceAndShowsTheBalance() throws Exception {
    String admin = grid.coordinator().createKey(net.aitbc.grid.coordinator.auth.Role.ADMIN, "ops-test");
    String target = "127.0.0.1:" + grid.coordinator().grpcPort();
    CliRun first = CliRun.grid("accounts", "deposit", "--coordinator", target, "--api-key", admin,
        "--client-id", "someone", "--amount", "12.5", "--currency", "btc", "--idempotency-key", "k1");
    assertThat(first.status()).as(first.out() + first.err()).isZero();
    assertThat(first.out()).contains("deposited: 12.5 BTC to someone; balance 12.5");
    CliRun again = CliRun.grid("accounts", "deposit", "--coordinator", target, "--api-key", admin,
        "--client-id", "someone", "--amount", "12.5", "--currency", "BTC", "--idempotency-key", "k1");
    assertThat(again.out()).contains("already deposited (nothing moved)", "balance 12.5");
    CliRun balance = CliRun.grid("accounts", "balance", "--coordinator", target, "--api-key", admin,
        "--client-id", "someone");
    assertThat(balance.status()).as(balance.out() + balance.err()).isZero();
    assertThat(balance.out()).containsPattern("client\\s+BTC\\s+12.5");

    // Not with a client key; not a bad amount.
    CliRun asClient = CliRun.grid("accounts", "deposit", "--coordinator", target, "--api-key", KEY,
        "--client-id", "someone", "--amount", "1");
    assertThat(asClient.status()).isEqualTo(1);
    assertThat(asClient.err()).contains("PERMISSION_DENIED");
    CliRun bad = CliRun.grid("accounts", "deposit", "--coordinator", target, "--api-key", admin,
        "--client-id", "someone", "--amount", "0.123456789");
    assertThat(bad.status()).isEqualTo(1);
    assertThat(bad.err()).contains("INVALID_ARGUMENT", "more than 8 decimal places");
  }
}
