package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The README's REST miner flow on {@code grid dev --worker-key K}: {@code aitbc miner register},
 * {@code miner poll}, {@code miner mine --jobs 1} complete a job that {@code aitbc client submit}
 * queued and {@code client pay} paid for; {@code client status} shows it COMPLETED by the miner,
 * {@code miner earnings} what it earned, and its receipt verifies. Requests as the CLI sends them.
 */
class DevMinersIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CLIENT_KEY = "dev-client-key-for-miner-tests";
  private static final String WORKER_KEY = "dev-worker-key-for-miner-tests";

  private static DevGrid grid;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    grid = DevGrid.start(new DevGrid.Options(null, null, null, null, CLIENT_KEY, 0, 0, -1, null, 1, null)
        .withWorkerKey(WORKER_KEY));
    http = HttpClient.newHttpClient();
  }

  @AfterAll
  static void stop() {
    http.close();
    grid.close();
  }

  private static HttpResponse<String> call(String method, String path, String key, @Nullable String minerId,
      @Nullable String json) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + grid.httpPort() + path))
        .header("X-Api-Key", key);
    if (minerId != null) {
      b.header("X-Miner-ID", minerId);
    }
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode ok(HttpResponse<String> r, int status) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    return r.body().isEmpty() ? JSON.nullNode() : JSON.readTree(r.body());
  }

  @Test
  void theReadmeMinerFlowCompletesAPaidJobThatTheClientSees() throws Exception {
    assertThat(grid.minerKey()).isEqualTo(WORKER_KEY);
    assertThat(DevCommand.banner(grid)).contains("worker key    " + WORKER_KEY,
        "AITBC_API_KEY=" + WORKER_KEY + " aitbc --output json miner register --gpu RTX4090 --memory 24 --miner-id m1");

    // aitbc miner register --gpu RTX4090 --memory 24 --miner-id m1 (no --cuda-cores: the CLI sends null)
    ok(call("POST", "/v1/miners/register", WORKER_KEY, "m1",
        "{\"capabilities\": {\"gpu\": {\"model\": \"RTX4090\", \"memory_gb\": 24, \"cuda_cores\": null}}}"), 200);
    // aitbc miner poll --wait 2 --miner-id m1: nothing yet.
    ok(call("POST", "/v1/miners/poll", WORKER_KEY, "m1", "{\"max_wait_seconds\": 5}"), 204);
    // aitbc client submit --prompt 'hello miner'; aitbc client pay <job_id> 1.5
    String jobId = ok(call("POST", "/v1/jobs", CLIENT_KEY, null,
        "{\"payload\": {\"type\": \"inference\", \"prompt\": \"hello miner\"}, \"ttl_seconds\": 900}"), 201)
        .get("job_id").asText();
    ok(call("POST", "/v1/payments", CLIENT_KEY, null, "{\"job_id\": \"" + jobId + "\", \"amount\": 1.5,"
        + " \"currency\": \"AITBC\", \"payment_method\": \"aitbc_token\", \"escrow_timeout_seconds\": 3600}"), 201);
    // aitbc miner mine --jobs 1 --miner-id m1
    JsonNode job = ok(call("POST", "/v1/miners/poll", WORKER_KEY, "m1", "{\"max_wait_seconds\": 5}"), 200);
    assertThat(job.get("job_id").asText()).isEqualTo(jobId);
    ok(call("POST", "/v1/miners/" + jobId + "/result", WORKER_KEY, "m1",
        "{\"result\": {\"output\": \"Processed job " + jobId + "\"}, \"metrics\": {}}"), 200);

    // aitbc client status <job_id>
    JsonNode status = ok(call("GET", "/v1/jobs/" + jobId, CLIENT_KEY, null, null), 200);
    assertThat(status.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(status.get("assigned_miner_id").asText()).isEqualTo("m1");
    // aitbc miner earnings --miner-id m1
    JsonNode earnings = ok(call("POST", "/v1/miners/m1/earnings?miner_id=m1", WORKER_KEY, null, null), 200);
    assertThat(earnings.get("completed_jobs").asInt()).isEqualTo(1);
    assertThat(earnings.get("total_earnings").asDouble()).isGreaterThan(1.4).isLessThanOrEqualTo(1.5);

    // Its receipt verifies (signed by the coordinator, with no worker signature: a REST miner has no key).
    String result = call("GET", "/v1/jobs/" + jobId + "/result", CLIENT_KEY, null, null).body();
    String url = "http://127.0.0.1:" + grid.httpPort();
    await().atMost(30, TimeUnit.SECONDS).pollInterval(50, TimeUnit.MILLISECONDS).until(() ->
        JSON.readTree(call("GET", "/v1/sync-status", CLIENT_KEY, null, null).body()).path("unsealed").asInt(-1) == 0);
    Path file = Files.createTempFile("miner-result-", ".json");
    try {
      Files.writeString(file, result);
      CliRun receipt = CliRun.grid("verify", "receipt", file.toString(), "--url", url, "--api-key", CLIENT_KEY,
          "--public-key", grid.publicKeyFile().toString());
      assertThat(receipt.status()).as(receipt.out() + receipt.err()).isZero();
      assertThat(receipt.out()).contains("OK receipt", "of job " + jobId, "it carries no worker signature");
    } finally {
      Files.delete(file);
    }
    // aitbc miner deregister --miner-id m1 --force
    ok(call("DELETE", "/v1/miners/m1", WORKER_KEY, null, null), 200);
  }

  @Test
  void theWorkerKeyIsNoClientKeyAndTheClientKeyNoWorkerKey() throws Exception {
    assertThat(call("POST", "/v1/jobs", WORKER_KEY, null, "{\"payload\": {\"type\": \"inference\"}}").statusCode())
        .isEqualTo(403);
    assertThat(call("POST", "/v1/miners/heartbeat", CLIENT_KEY, "m1", "{}").statusCode()).isEqualTo(403);
  }
}
