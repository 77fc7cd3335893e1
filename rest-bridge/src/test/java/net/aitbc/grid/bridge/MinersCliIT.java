package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CLI's {@code miner} commands (contract §7, the invocations of §11) against a real coordinator
 * and bridge, sent exactly as the CLI sends them: REST miners are workers with sessions, leases,
 * fencing and matching like a stream worker's. Tests that use the CLI's default job type
 * ({@code inference}, a miner that names none) leave no job of it behind; the others use their own.
 */
class MinersCliIT {
  private static Grid grid;
  private static ManagedChannel channel;

  @BeforeAll
  static void fundTheClient() {
    grid = Grid.start();
    channel = GrpcClients.channel(grid.coordinator.grpcPort());
    String admin = grid.coordinator.createKey(Role.ADMIN, "ops");
    GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(channel), admin).deposit(DepositRequest.newBuilder()
        .setClientId("client-a").setAmount("100").setCurrency("AITBC").setIdempotencyKey("fund-a").build());
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    grid.close();
  }

  @AfterEach
  void moneyAddsUp() throws SQLException {
    try (Connection c = grid.db.connect()) {
      PaymentInvariants.check(DSL.using(c, SQLDialect.POSTGRES));
    }
  }

  /** A miner call as the CLI makes it: {@code X-Api-Key}, {@code X-Miner-ID} (when given), a JSON body. */
  private static Reply miner(String method, String path, String key, @Nullable String minerId, @Nullable String json) {
    HttpRequest.Builder b = grid.request(path, key);
    if (minerId != null) {
      b.header("X-Miner-ID", minerId);
    }
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    return grid.send(b.method(method, json == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(json)));
  }

  private static Reply register(String minerId, String capabilities) {
    return miner("POST", "/v1/miners/register", grid.workerKey, minerId, "{\"capabilities\": " + capabilities + "}");
  }

  /** {@code miner poll} / the poll of {@code miner mine}: the CLI always asks for 5 s. */
  private static Reply poll(String minerId) {
    return miner("POST", "/v1/miners/poll", grid.workerKey, minerId, "{\"max_wait_seconds\": 5}");
  }

  private static Reply result(String minerId, String jobId, String output) {
    return miner("POST", "/v1/miners/" + jobId + "/result", grid.workerKey, minerId,
        "{\"result\": {\"output\": \"" + output + "\"}, \"metrics\": {}}");
  }

  /** {@code client submit --prompt P} (or a JSON payload of another type): the job id. */
  private static String submit(String payload) {
    Reply r = grid.post("/v1/jobs", grid.clientKey, "{\"payload\": " + payload + ", \"ttl_seconds\": 900}");
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("job_id").asText();
  }

  private static JsonNode status(String jobId) {
    Reply r = grid.get("/v1/jobs/" + jobId, grid.clientKey);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }

  @Test
  void theCliMinerFlowCompletesAPaidJobAndEarnsIt() {
    // miner register --gpu RTX4090 --memory 24 --cuda-cores 16384 --miner-id m1
    Reply registered = register("m1", "{\"gpu\": {\"model\": \"RTX4090\", \"memory_gb\": 24, \"cuda_cores\": 16384}}");
    assertThat(registered.status()).as(registered.body()).isEqualTo(200);
    assertThat(registered.json().get("status").asText()).isEqualTo("ok");
    assertThat(registered.json().get("session_token").asText()).matches("[0-9a-f]{32}");
    // miner heartbeat --miner-id m1
    Reply beat = miner("POST", "/v1/miners/heartbeat", grid.workerKey, "m1",
        "{\"inflight\": 0, \"status\": \"ONLINE\", \"metadata\": {}}");
    assertThat(beat.status()).as(beat.body()).isEqualTo(200);
    assertThat(beat.json().get("status").asText()).isEqualTo("ok");
    // miner poll --wait 2 --miner-id m1: nothing queued, so 204 once the (capped) wait is over,
    // well within the CLI's own timeout of wait + 5 s.
    long start = System.nanoTime();
    Reply none = poll("m1");
    assertThat(none.status()).as(none.body()).isEqualTo(204);
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(7_000);

    // client submit --prompt 'hello miner', then client pay <job> 1.5
    String jobId = submit("{\"type\": \"inference\", \"prompt\": \"hello miner\"}");
    Reply paid = grid.post("/v1/payments", grid.clientKey, "{\"job_id\": \"" + jobId + "\", \"amount\": 1.5,"
        + " \"currency\": \"AITBC\", \"payment_method\": \"aitbc_token\", \"escrow_timeout_seconds\": 3600}");
    assertThat(paid.status()).as(paid.body()).isEqualTo(201);

    // miner mine --jobs 1 --miner-id m1: poll, then the result, which must be exactly 200.
    Reply job = poll("m1");
    assertThat(job.status()).as(job.body()).isEqualTo(200);
    JsonNode assigned = job.json();
    assertThat(assigned.get("job_id").asText()).isEqualTo(jobId);
    assertThat(assigned.get("payload").get("prompt").asText()).isEqualTo("hello miner");
    assertThat(assigned.get("constraints").properties()).extracting(java.util.Map.Entry::getKey)
        .containsExactly("gpu", "cuda", "min_vram_gb", "models", "region", "max_price");
    assertThat(assigned.get("constraints").get("gpu").isNull()).isTrue();
    assertThat(assigned.get("attempt").asInt()).isEqualTo(1);
    assertThat(status(jobId).get("state").asText()).isEqualTo("RUNNING");
    Reply done = result("m1", jobId, "Processed job " + jobId);
    assertThat(done.status()).as(done.body()).isEqualTo(200);
    assertThat(done.json().get("status").asText()).isEqualTo("ok");
    assertThat(done.json().get("receipt").get("provider").asText()).isEqualTo("m1");

    // client status / client result: COMPLETED by m1, with the miner's output.
    JsonNode finished = status(jobId);
    assertThat(finished.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(finished.get("assigned_miner_id").asText()).isEqualTo("m1");
    Reply result = grid.get("/v1/jobs/" + jobId + "/result", grid.clientKey);
    assertThat(result.json().get("result").get("output").asText()).isEqualTo("Processed job " + jobId);

    // miner earnings --miner-id m1: the escrow was released to m1's owner, less the fee.
    Reply earnings = miner("POST", "/v1/miners/m1/earnings?miner_id=m1", grid.workerKey, null, null);
    assertThat(earnings.status()).as(earnings.body()).isEqualTo(200);
    assertThat(earnings.json().get("completed_jobs").asInt()).isEqualTo(1);
    assertThat(earnings.json().get("total_earnings").decimalValue()).isPositive()
        .isLessThanOrEqualTo(new BigDecimal("1.5"));

    // miner jobs --limit 5 --miner-id m1
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      Reply jobs = miner("POST", "/v1/miners/m1/jobs?limit=5&miner_id=m1", grid.workerKey, null, null);
      assertThat(jobs.status()).as(jobs.body()).isEqualTo(200);
      assertThat(jobs.json().get("miner_id").asText()).isEqualTo("m1");
      assertThat(jobs.json().get("limit").asInt()).isEqualTo(5);
      assertThat(jobs.json().get("jobs")).extracting(j -> j.get("job_id").asText()).containsExactly(jobId);
      assertThat(jobs.json().get("jobs").get(0).get("state").asText()).isEqualTo("COMPLETED");
    });
    Reply failedOnly = miner("POST", "/v1/miners/m1/jobs?limit=5&miner_id=m1&status=failed&type=inference",
        grid.workerKey, null, null);
    assertThat(failedOnly.json().get("jobs")).isEmpty();
    Reply rewarded = miner("POST", "/v1/miners/m1/jobs?limit=5&miner_id=m1&min_reward=2", grid.workerKey, null, null);
    assertThat(rewarded.json().get("jobs")).isEmpty();
    Reply cheap = miner("POST", "/v1/miners/m1/jobs?limit=5&miner_id=m1&min_reward=1.5", grid.workerKey, null, null);
    assertThat(cheap.json().get("jobs")).hasSize(1);

    // miner update-capabilities --gpu H100 --memory 80 --miner-id m1
    Reply updated = miner("PUT", "/v1/miners/m1/capabilities", grid.workerKey, null,
        "{\"capabilities\": {\"gpu\": {\"model\": \"H100\", \"memory_gb\": 80, \"cuda_cores\": null}}}");
    assertThat(updated.status()).as(updated.body()).isEqualTo(200);
    assertThat(updated.json().get("status").asText()).isEqualTo("updated");
    assertThat(updated.json().get("capabilities").get("gpu").get("model").asText()).isEqualTo("H100");

    // miner deregister --miner-id m1 --force
    Reply gone = miner("DELETE", "/v1/miners/m1", grid.workerKey, null, null);
    assertThat(gone.status()).as(gone.body()).isEqualTo(200);
    assertThat(gone.json().get("status").asText()).isEqualTo("deregistered");
    assertThat(miner("POST", "/v1/miners/heartbeat", grid.workerKey, "m1", "{}").assertError(404))
        .contains("not registered");
  }

  @Test
  void concurrentMineWithTwoWorkersUnderOneMinerIdEndsEveryJobOnce() throws Exception {
    // miner concurrent-mine --workers 2 --jobs 5 --miner-id m-conc: one miner, two threads polling.
    assertThat(register("m-conc", "{\"cpu\": {\"cores\": 4}, \"memory\": {\"gb\": 16}}").status()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      ids.add(submit("{\"type\": \"inference\", \"prompt\": \"c" + i + "\"}"));
    }
    ConcurrentLinkedQueue<String> ended = new ConcurrentLinkedQueue<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 1; w <= 2; w++) {
        int worker = w;
        workers.add(pool.submit(() -> {
          long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
          while (ended.size() < 5 && System.nanoTime() < deadline) {
            Reply job = poll("m-conc");
            if (job.status() == 204) {
              continue;
            }
            assertThat(job.status()).as(job.body()).isEqualTo(200);
            String id = job.json().get("job_id").asText();
            Reply done = result("m-conc", id, "Processed by worker " + worker);
            assertThat(done.status()).as(done.body()).isEqualTo(200);
            ended.add(id);
          }
        }));
      }
      for (Future<?> f : workers) {
        f.get();
      }
    }
    assertThat(ended).containsExactlyInAnyOrderElementsOf(ids);
    for (String id : ids) {
      assertThat(status(id).get("state").asText()).isEqualTo("COMPLETED");
    }
    assertThat(miner("DELETE", "/v1/miners/m-conc", grid.workerKey, null, null).status()).isEqualTo(200);
  }

  @Test
  void twoMinersOfOneKeyAreTwoSessionsAndCannotEndEachOthersJobs() {
    String caps = "{\"job_types\": [\"t-two-rest\"]}";
    String a = register("m-a", caps).json().get("session_token").asText();
    String b = register("m-b", caps).json().get("session_token").asText();
    assertThat(a).isNotEqualTo(b);
    String jobId = submit("{\"type\": \"t-two-rest\"}");
    Reply got = poll("m-a");
    assertThat(got.json().get("job_id").asText()).isEqualTo(jobId);
    assertThat(result("m-b", jobId, "not mine").assertError(409)).contains("m-b does not hold job " + jobId);
    Reply failByB = miner("POST", "/v1/miners/" + jobId + "/fail", grid.workerKey, "m-b",
        "{\"error_code\": \"INFERENCE_FAILED\", \"error_message\": \"x\", \"metrics\": {}}");
    assertThat(failByB.assertError(409)).contains("does not hold");
    assertThat(result("m-a", jobId, "mine").status()).isEqualTo(200);
    // Once ended, a second miner's result and a stale one are both refused.
    assertThat(result("m-b", jobId, "late").assertError(409)).contains("COMPLETED");
  }

  @Test
  void aLongPollIsWokenByASubmissionWithin100Ms() throws Exception {
    register("m-wake", "{\"job_types\": [\"t-wake-rest\"]}");
    for (int round = 0; round < 3; round++) {
      CompletableFuture<Reply> polling = CompletableFuture.supplyAsync(() -> poll("m-wake"));
      Thread.sleep(300);
      assertThat(polling).isNotDone();
      String jobId = submit("{\"type\": \"t-wake-rest\"}");
      long acked = System.nanoTime();
      Reply job = polling.get();
      long ms = (System.nanoTime() - acked) / 1_000_000;
      assertThat(job.json().get("job_id").asText()).isEqualTo(jobId);
      assertThat(ms).as("ms from the 201 to the poll's 200").isLessThan(100);
      assertThat(result("m-wake", jobId, "ok").status()).isEqualTo(200);
    }
  }

  @Test
  void aGpuJobGoesToTheCliMinerRegisteredWithThatGpu() {
    register("m-nogpu", "{\"job_types\": [\"t-gpu-rest\"], \"cpu\": {\"cores\": 4}, \"memory\": {\"gb\": 16}}");
    register("m-4090", "{\"job_types\": [\"t-gpu-rest\"], \"gpu\": {\"model\": \"RTX4090\", \"memory_gb\": 24,"
        + " \"cuda_cores\": 16384}}");
    Reply submitted = grid.post("/v1/jobs", grid.clientKey, "{\"payload\": {\"type\": \"t-gpu-rest\"},"
        + " \"constraints\": {\"gpu\": \"NVIDIA GeForce RTX 4090\", \"min_vram_gb\": 24}, \"ttl_seconds\": 900}");
    assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
    String jobId = submitted.json().get("job_id").asText();
    assertThat(poll("m-nogpu").status()).isEqualTo(204);
    Reply got = poll("m-4090");
    assertThat(got.status()).as(got.body()).isEqualTo(200);
    assertThat(got.json().get("job_id").asText()).isEqualTo(jobId);
    assertThat(got.json().get("constraints").get("gpu").asText()).isEqualTo("rtx4090");
    assertThat(got.json().get("constraints").get("min_vram_gb").asInt()).isEqualTo(24);
    assertThat(result("m-4090", jobId, "done").status()).isEqualTo(200);
  }

  @Test
  void aSilentMinersJobGoesBackToTheQueueAndItsLateResultIsRefused() {
    register("m-silent", "{\"job_types\": [\"t-silent-rest\"]}");
    String jobId = submit("{\"type\": \"t-silent-rest\"}");
    assertThat(poll("m-silent").json().get("job_id").asText()).isEqualTo(jobId);
    // No call for longer than the 3 s lease: the session ends and the job is queued again.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(status(jobId).get("state").asText()).isEqualTo("QUEUED"));
    assertThat(result("m-silent", jobId, "late").assertError(409)).contains("does not hold job");
    // Its next poll opens a new session that gets the job again, as attempt 2.
    Reply again = poll("m-silent");
    assertThat(again.json().get("job_id").asText()).isEqualTo(jobId);
    assertThat(again.json().get("attempt").asInt()).isEqualTo(2);
    assertThat(result("m-silent", jobId, "on time").status()).isEqualTo(200);
  }

  @Test
  void aFailureFromMineOllamaFailsTheJobAndARetryableOneQueuesIt() {
    register("m-fail", "{\"job_types\": [\"t-fail-rest\"]}");
    String jobId = submit("{\"type\": \"t-fail-rest\"}");
    poll("m-fail");
    Reply retry = miner("POST", "/v1/miners/" + jobId + "/fail", grid.workerKey, "m-fail",
        "{\"error_code\": \"INFERENCE_FAILED\", \"error_message\": \"ollama down\", \"metrics\": {}, \"retryable\": true}");
    assertThat(retry.status()).as(retry.body()).isEqualTo(200);
    assertThat(retry.json().get("state").asText()).isEqualTo("QUEUED");
    assertThat(poll("m-fail").json().get("attempt").asInt()).isEqualTo(2);
    Reply fail = miner("POST", "/v1/miners/" + jobId + "/fail", grid.workerKey, "m-fail",
        "{\"error_code\": \"INFERENCE_FAILED\", \"error_message\": \"model missing\", \"metrics\": {}}");
    assertThat(fail.status()).as(fail.body()).isEqualTo(200);
    assertThat(fail.json().get("state").asText()).isEqualTo("FAILED");
    assertThat(status(jobId).get("error").asText()).isEqualTo("INFERENCE_FAILED: model missing");
  }

  @Test
  void badRequestsAre4xxNamingTheField() {
    String w = grid.workerKey;
    assertThat(miner("POST", "/v1/miners/register", w, null, "{\"capabilities\": {}}").assertError(400))
        .isEqualTo("X-Miner-ID header required");
    assertThat(miner("POST", "/v1/miners/poll", w, null, "{\"max_wait_seconds\": 5}").assertError(400))
        .isEqualTo("X-Miner-ID header required");
    assertThat(miner("POST", "/v1/miners/register", w, "m-bad", "not json").assertError(400)).contains("not valid JSON");
    assertThat(miner("POST", "/v1/miners/register", w, "m-bad", "{}").assertError(422))
        .contains("capabilities is required");
    assertThat(register("m-bad", "[1]").assertError(422)).contains("capabilities must be an object");
    assertThat(register("m-bad", "{\"gpu\": {\"model\": \"A100\", \"memory_gb\": \"lots\"}}").assertError(422))
        .contains("capabilities.gpu.memory_gb must be a number");
    assertThat(register("m-bad", "{\"gpu\": {\"model\": \"A100\", \"memory_gb\": -1}}").assertError(422))
        .contains("memory_mb must not be negative");
    assertThat(register("m-bad", "{\"concurrency\": 1000}").assertError(422)).contains("capabilities.concurrency");
    assertThat(register("m-bad", "{\"job_types\": \"inference\"}").assertError(422))
        .contains("capabilities.job_types must be a list");
    assertThat(miner("POST", "/v1/miners/register", w, "x".repeat(201), "{\"capabilities\": {}}").assertError(422))
        .contains("miner_id");
    assertThat(miner("POST", "/v1/miners/heartbeat", w, "m-unknown", "{}").assertError(404)).contains("not registered");

    register("m-bad", "{\"job_types\": [\"t-bad-rest\"]}");
    assertThat(miner("POST", "/v1/miners/poll", w, "m-bad", "{\"max_wait_seconds\": -1}").assertError(422))
        .contains("max_wait_seconds");
    assertThat(miner("POST", "/v1/miners/poll", w, "m-bad", "{\"max_wait_seconds\": \"5\"}").assertError(422))
        .contains("max_wait_seconds must be a number");
    String jobId = submit("{\"type\": \"t-bad-rest\"}");
    assertThat(poll("m-bad").status()).isEqualTo(200);
    assertThat(miner("POST", "/v1/miners/" + jobId + "/result", w, "m-bad", "{\"metrics\": {}}").assertError(422))
        .contains("result is required");
    assertThat(miner("POST", "/v1/miners/" + jobId + "/result", w, "m-bad", "{\"result\": 5}").assertError(422))
        .contains("result must be a JSON object");
    assertThat(miner("POST", "/v1/miners/" + jobId + "/fail", w, "m-bad", "{\"retryable\": \"yes\"}")
        .assertError(422)).contains("retryable must be true or false");
    assertThat(result("m-bad", "not-a-job", "x").assertError(404)).isEqualTo("job not found");
    assertThat(result("m-bad", "0".repeat(32), "x").assertError(404)).contains("not found");
    assertThat(miner("POST", "/v1/miners/m-bad/jobs?status=bogus", w, null, null).assertError(400)).contains("status");
    assertThat(miner("POST", "/v1/miners/m-bad/jobs?min_reward=abc", w, null, null).assertError(422))
        .contains("min_reward");
    assertThat(miner("POST", "/v1/miners/m-bad/jobs?limit=1000", w, null, null).assertError(422)).contains("limit");
    assertThat(miner("POST", "/v1/miners/m-bad/jobs?miner_id=other", w, null, null).assertError(400))
        .contains("miner_id");
    assertThat(miner("DELETE", "/v1/miners/m-bad", w, "other", null).assertError(400)).contains("X-Miner-ID");
    // Keys: none is 401, a client's is no worker's.
    assertThat(miner("POST", "/v1/miners/heartbeat", "", "m-bad", "{}").assertError(401)).contains("api key");
    assertThat(miner("POST", "/v1/miners/heartbeat", grid.clientKey, "m-bad", "{}").assertError(403))
        .contains("client key");
    assertThat(result("m-bad", jobId, "fine").status()).isEqualTo(200);
  }

  @Test
  void minerCallsAreRateLimitedPerKey() {
    String slow = grid.coordinator.createKey(Role.WORKER, "slow-owner", new KeyLimits(1, 1.0, 2, null));
    Reply first = miner("POST", "/v1/miners/register", slow, "m-slow", "{\"capabilities\": {}}");
    assertThat(first.status()).as(first.body()).isEqualTo(200);
    Reply limited = null;
    for (int i = 0; i < 5 && (limited == null || limited.status() != 429); i++) {
      limited = miner("POST", "/v1/miners/heartbeat", slow, "m-slow", "{}");
    }
    assertThat(limited.assertError(429)).contains("rate limit");
    assertThat(limited.headers().firstValue("retry-after")).isPresent();
  }
}
