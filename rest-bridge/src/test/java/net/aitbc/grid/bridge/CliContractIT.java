package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.Grid.ids;
import static net.aitbc.grid.bridge.Grid.time;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.JobProgress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The aitbc CLI's job requests, sent exactly as contract §3.1, §3.2 and §11 give them, against a
 * real coordinator; checks the status codes and every field the CLI reads. Each test that runs a job
 * to its end uses its own model, so that its worker takes only that test's job.
 */
@ExtendWith(Grid.PerClass.class)
class CliContractIT {
  private static final String NAIVE_TIME = Grid.NAIVE_TIME;
  private static final String JOB_ID = "[0-9a-f]{32}";

  private final Grid grid;

  CliContractIT(Grid grid) {
    this.grid = grid;
  }

  @Test
  void statusListsTheAttemptsThatDidNotCompleteTheJob() {
    String jobId = grid.submit(grid.clientKey, "attempts-model");
    try (TestWorker w = grid.worker("w-attempts", "attempts-model")) {
      w.credit(2);
      Assignment first = w.nextAssignment();
      w.fail(first.getJobId(), first.getAttempt(), "CUDA out of memory", true);
      assertThat(w.next().getOutcomeAck().getAccepted()).isTrue();
      Assignment second = w.nextAssignment();
      assertThat(second.getAttempt()).isEqualTo(2);
      JsonNode status = grid.get("/v1/jobs/" + jobId, grid.clientKey).json();
      assertThat(status.get("state").asText()).isEqualTo("RUNNING");
      JsonNode attempt = status.get("attempts").get(0);
      assertThat(attempt.get("attempt").asInt()).isEqualTo(1);
      assertThat(attempt.get("worker_id").asText()).isEqualTo("w-attempts");
      assertThat(attempt.get("error").asText()).isEqualTo("CUDA out of memory");
      assertThat(attempt.get("started_at").asText()).matches(NAIVE_TIME);
      w.complete(second.getJobId(), 2, "{\"output\":\"ok\"}");
    }
  }

  @Test
  void submitAnswers201WithAFullQueuedJobView() {
    Reply r = grid.post("/v1/jobs", grid.clientKey,
        "{\"payload\": {\"type\": \"inference\", \"prompt\": \"hi\", \"model\": \"m\"}, \"ttl_seconds\": 900}");

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    JsonNode job = r.json();
    assertThat(job.get("job_id").asText()).matches(JOB_ID);
    assertThat(job.get("state").asText()).isEqualTo("QUEUED");
    assertThat(job.get("assigned_miner_id").isNull()).isTrue();
    assertThat(job.get("requested_at").asText()).matches(NAIVE_TIME);
    assertThat(job.get("expires_at").asText()).matches(NAIVE_TIME);
    assertThat(Duration.between(time(job, "requested_at"), time(job, "expires_at"))).isEqualTo(Duration.ofSeconds(900));
    assertThat(job.get("error").isNull()).isTrue();
    assertThat(job.get("payment_id").isNull()).isTrue();
    assertThat(job.get("payment_status").isNull()).isTrue();
    assertThat(job.get("type").asText()).isEqualTo("inference");
    assertThat(job.get("model").asText()).isEqualTo("m");
    assertThat(job.get("priority").asInt()).isEqualTo(5);
    assertThat(job.get("attempt").asInt()).isZero();
    assertThat(job.get("max_attempts").asInt()).isEqualTo(3);
    assertThat(job.get("started_at").isNull()).isTrue();
    assertThat(job.get("finished_at").isNull()).isTrue();
    // The coordinator's default for the type: a whole number of seconds, after the CLI's fields.
    assertThat(job.get("timeout_seconds").canConvertToExactIntegral()).as(job.toString()).isTrue();
    assertThat(job.get("timeout_seconds").asLong()).isPositive();
    assertThat(job.properties()).extracting(java.util.Map.Entry::getKey).startsWith("job_id", "state",
        "assigned_miner_id", "requested_at", "expires_at", "error", "payment_id", "payment_status");
    assertThat(time(job, "requested_at")).isCloseTo(LocalDateTime.now(ZoneOffset.UTC),
        org.assertj.core.api.Assertions.within(1, java.time.temporal.ChronoUnit.MINUTES));
    assertThat(r.body()).doesNotContain(grid.clientKey);
  }

  @Test
  void submitWithTtlSetsTheExpiry() {
    // client submit --type inference --prompt hi --model m --ttl 60 --retries 2 --retry-delay 0.1
    Reply r = grid.post("/v1/jobs", grid.clientKey,
        "{\"payload\": {\"type\": \"inference\", \"prompt\": \"hi\", \"model\": \"m\"}, \"ttl_seconds\": 60}");

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(Duration.between(time(r.json(), "requested_at"), time(r.json(), "expires_at")))
        .isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void priorityNamesAndRunTimeoutsReachTheCoordinator() {
    // The coordinator reads names and numbers; the bridge only passes them on.
    for (List<String> c : List.of(List.of("\"high\"", "8"), List.of("\" Low \"", "2"), List.of("3", "3"),
        List.of("5.0", "5"))) {
      // A model of its own, so that no other test's worker takes these jobs.
      Reply r = grid.post("/v1/jobs", grid.clientKey, "{\"payload\": {\"prompt\": \"hi\", \"model\": \"m-priority\"},"
          + " \"priority\": " + c.get(0) + ", \"timeout_seconds\": 60}");
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      assertThat(r.json().get("priority").asInt()).as(c.get(0)).isEqualTo(Integer.parseInt(c.get(1)));
      assertThat(r.json().get("timeout_seconds").asLong()).isEqualTo(60);
      String id = r.json().get("job_id").asText();
      assertThat(grid.get("/v1/jobs/" + id, grid.clientKey).json().get("timeout_seconds").asLong()).isEqualTo(60);
    }
  }

  @Test
  void submittedFileBecomesThePayload() {
    // client submit --file job.json: the whole file is the payload.
    String file = "{\"type\": \"embedding\", \"prompt\": \"a sentence\", \"model\": \"MiniLM\", "
        + "\"parameters\": {\"normalize\": true, \"scale\": 1.50}, \"priority\": \"high\"}";
    Reply r = grid.post("/v1/jobs", grid.clientKey, "{\"payload\": " + file + ", \"ttl_seconds\": 900}");

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(r.json().get("type").asText()).isEqualTo("embedding");
    assertThat(r.json().get("model").asText()).isEqualTo("minilm");
    assertThat(r.json().get("priority").asInt()).isEqualTo(8);
  }

  @Test
  void batchSubmitRowsAreEachCreated() {
    // client batch-submit jobs.json, then jobs.csv (columns type,prompt,model,ttl; empty cells left out).
    List<String> rows = List.of(
        "{\"payload\": {\"type\": \"inference\", \"prompt\": \"first\", \"model\": \"m\"}, \"ttl_seconds\": 900}",
        "{\"payload\": {\"type\": \"inference\", \"prompt\": \"second\", \"model\": \"m\"}, \"ttl_seconds\": 300}",
        "{\"payload\": {\"type\": \"embedding\", \"prompt\": \"third\"}, \"ttl_seconds\": 120}");
    List<String> ids = new ArrayList<>();
    for (String row : rows) {
      Reply r = grid.post("/v1/jobs", grid.clientKey, row);
      assertThat(r.status()).as(r.body()).isEqualTo(201);
      ids.add(r.json().get("job_id").asText());
    }

    assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id.matches(JOB_ID));
  }

  @Test
  void statusReturnsTheJobViewAndWhatItWaitsFor() {
    String id = grid.submit(grid.clientKey, "m-nobody-has");

    Reply r = grid.get("/v1/jobs/" + id, grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode job = r.json();
    assertThat(job.get("job_id").asText()).isEqualTo(id);
    assertThat(job.get("state").asText()).isEqualTo("QUEUED");
    assertThat(job.get("requested_at").asText()).matches(NAIVE_TIME);
    assertThat(job.get("waiting_for").asText()).contains("m-nobody-has");
    assertThat(job.get("metrics").isNull()).isTrue();
    assertThat(job.has("assigned_miner_id")).isTrue();
    assertThat(job.has("payment_status")).isTrue();
  }

  @Test
  void resultIsNotReadyUntilTheWorkerCompletesTheJob() {
    String id = grid.submit(grid.clientKey, "m-result");

    Reply early = grid.get("/v1/jobs/" + id + "/result", grid.clientKey);
    assertThat(early.status()).isEqualTo(425);
    assertThat(early.json()).isEqualTo(Grid.JSON.createObjectNode().put("detail", "job not ready"));

    try (TestWorker w = grid.worker("w-result", "m-result")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(id);

      JsonNode running = grid.get("/v1/jobs/" + id, grid.clientKey).json();
      assertThat(running.get("state").asText()).isEqualTo("RUNNING");
      assertThat(running.get("assigned_miner_id").asText()).isEqualTo("w-result");
      assertThat(running.get("attempt").asInt()).isEqualTo(1);
      assertThat(running.get("started_at").asText()).matches(NAIVE_TIME);
      assertThat(grid.get("/v1/jobs/" + id + "/result", grid.clientKey).status()).isEqualTo(425);

      w.complete(a.getJobId(), a.getAttempt(), "{\"output\":\"hello\"}");

      await().atMost(Duration.ofSeconds(10))
          .until(() -> grid.get("/v1/jobs/" + id + "/result", grid.clientKey).status() == 200);
    }
    JsonNode result = grid.get("/v1/jobs/" + id + "/result", grid.clientKey).json();
    assertThat(result.get("job_id").asText()).isEqualTo(id);
    assertThat(result.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(result.get("result").get("output").asText()).isEqualTo("hello");
    // The test coordinators sign receipts: the CLI prints the signed receipt with the result.
    JsonNode receipt = result.get("receipt");
    assertThat(receipt.isObject()).as(result.toString()).isTrue();
    assertThat(receipt.get("job_id").asText()).isEqualTo(id);
    assertThat(receipt.get("provider").asText()).isEqualTo("w-result");
    assertThat(receipt.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(receipt.get("signature").get("alg").asText()).isEqualTo("Ed25519");
    assertThat(result.get("metrics").get("tokens").asInt()).isEqualTo(3);

    JsonNode done = grid.get("/v1/jobs/" + id, grid.clientKey).json();
    assertThat(done.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(done.get("finished_at").asText()).matches(NAIVE_TIME);
    assertThat(done.get("error").isNull()).isTrue();
  }

  @Test
  void failedJobsResultCarriesTheError() {
    String id = grid.submit(grid.clientKey, "m-fail");
    try (TestWorker w = grid.worker("w-fail", "m-fail")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.fail(a.getJobId(), a.getAttempt(), "the model crashed", false);

      await().atMost(Duration.ofSeconds(10))
          .until(() -> grid.get("/v1/jobs/" + id + "/result", grid.clientKey).status() == 200);
    }
    JsonNode result = grid.get("/v1/jobs/" + id + "/result", grid.clientKey).json();

    assertThat(result.get("state").asText()).isEqualTo("FAILED");
    assertThat(result.get("result").isNull()).isTrue();
    assertThat(result.get("receipt").isNull()).isTrue();
    assertThat(result.get("error").asText()).contains("the model crashed");
  }

  @Test
  void historyHonoursStatusTypeAndTimeFilters() {
    String done = grid.submit(grid.clientKey, "m-history");
    String queued = grid.submit(grid.clientKey, "m-history-queued");
    try (TestWorker w = grid.worker("w-history", "m-history")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.complete(a.getJobId(), a.getAttempt(), "{\"output\":\"hello\"}");
      await().atMost(Duration.ofSeconds(10)).until(() ->
          grid.get("/v1/jobs/" + done, grid.clientKey).json().get("state").asText().equals("COMPLETED"));
    }
    LocalDateTime requested = time(grid.get("/v1/jobs/" + done, grid.clientKey).json(), "requested_at");
    String from = requested.minusHours(1).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    String to = requested.plusHours(1).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();

    // client history --limit 5 --status completed --type inference --from-time … --to-time …
    Reply r = grid.get("/v1/jobs?limit=5&status=completed&type=inference&from_time=" + from + "&to_time=" + to,
        grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode page = r.json();
    assertThat(page.get("limit").asInt()).isEqualTo(5);
    assertThat(page.get("offset").asInt()).isZero();
    assertThat(page.get("total").asInt()).isEqualTo(page.get("items").size());
    assertThat(ids(page)).contains(done).doesNotContain(queued);
    page.get("items").forEach(item -> {
      assertThat(item.get("state").asText()).isEqualTo("COMPLETED");
      assertThat(item.get("type").asText()).isEqualTo("inference");
      assertThat(item.get("requested_at").asText()).matches(NAIVE_TIME);
    });

    // A window that ends before the job was created finds nothing.
    Reply before = grid.get("/v1/jobs?limit=5&status=completed&type=inference"
        + "&from_time=2000-01-01T00:00:00&to_time=2000-01-02T00:00:00", grid.clientKey);
    assertThat(before.status()).isEqualTo(200);
    assertThat(before.json().get("items").size()).isZero();
    assertThat(before.json().get("total").asInt()).isZero();

    // Zones are honoured: the job's creation time written at +05:00 (and the bound a second past it, in Z).
    DateTimeFormatter iso = DateTimeFormatter.ISO_OFFSET_DATE_TIME;
    String fromAtPlus5 = requested.minusSeconds(1).atOffset(ZoneOffset.UTC)
        .withOffsetSameInstant(ZoneOffset.ofHours(5)).format(iso).replace("+", "%2B");
    String toInZ = requested.plusSeconds(1).atOffset(ZoneOffset.UTC).format(iso);
    assertThat(ids(grid.get("/v1/jobs?status=completed&from_time=" + fromAtPlus5 + "&to_time=" + toInZ,
        grid.clientKey).json())).contains(done);
    String afterAtPlus5 = requested.plusSeconds(1).atOffset(ZoneOffset.UTC)
        .withOffsetSameInstant(ZoneOffset.ofHours(5)).format(iso).replace("+", "%2B");
    assertThat(ids(grid.get("/v1/jobs?status=completed&from_time=" + afterAtPlus5, grid.clientKey).json()))
        .doesNotContain(done);

    // job_type is the CLI server's name for type.
    assertThat(ids(grid.get("/v1/jobs?job_type=embedding&status=completed", grid.clientKey).json()))
        .doesNotContain(done);
  }

  @Test
  void pendingStatusListsQueuedJobs() {
    String id = grid.submit(grid.clientKey, "m-pending");

    JsonNode page = grid.get("/v1/jobs?status=pending&limit=1000", grid.clientKey).json();

    assertThat(ids(page)).contains(id);
    page.get("items").forEach(item -> assertThat(item.get("state").asText()).isEqualTo("QUEUED"));
    assertThat(ids(grid.get("/v1/jobs?status=QUEUED,Running&limit=1000", grid.clientKey).json())).contains(id);
    assertThat(ids(grid.get("/v1/jobs?status=completed&limit=1000", grid.clientKey).json())).doesNotContain(id);
    assertThat(ids(grid.get("/v1/jobs?limit=1000", grid.otherClientKey).json())).doesNotContain(id);
  }

  @Test
  void cancelAnswersTheCanceledJobAndThen409() {
    String id = grid.submit(grid.clientKey, "m-cancel");

    Reply first = grid.post("/v1/jobs/" + id + "/cancel", grid.clientKey);
    assertThat(first.status()).as(first.body()).isEqualTo(200);
    assertThat(first.json().get("job_id").asText()).isEqualTo(id);
    assertThat(first.json().get("state").asText()).isEqualTo("CANCELED");
    assertThat(first.json().get("finished_at").asText()).matches(NAIVE_TIME);

    Reply again = grid.post("/v1/jobs/" + id + "/cancel", grid.clientKey);
    assertThat(again.assertError(409)).isEqualTo("job not cancelable");

    JsonNode result = grid.get("/v1/jobs/" + id + "/result", grid.clientKey).json();
    assertThat(result.get("state").asText()).isEqualTo("CANCELED");
    assertThat(result.get("result").isNull()).isTrue();
    assertThat(result.get("error").isTextual()).isTrue();
  }

  @Test
  void deleteIsAnAliasOfCancel() {
    String id = grid.submit(grid.clientKey, "m-cancel");

    Reply r = grid.delete("/v1/jobs/" + id, grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("state").asText()).isEqualTo("CANCELED");
    assertThat(grid.delete("/v1/jobs/" + id, grid.clientKey).assertError(409)).isEqualTo("job not cancelable");
  }

  @Test
  void idempotencyKeyReturnsTheSameJob() {
    String body = "{\"payload\": {\"type\": \"inference\", \"prompt\": \"once\", \"model\": \"m\"}, \"ttl_seconds\": 900}";
    HttpRequest.Builder req = grid.request("/v1/jobs", grid.clientKey)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "order-42")
        .POST(HttpRequest.BodyPublishers.ofString(body));

    Reply first = grid.send(req);
    Reply second = grid.send(req);

    assertThat(first.status()).as(first.body()).isEqualTo(201);
    assertThat(second.status()).as(second.body()).isEqualTo(201);
    assertThat(second.json().get("job_id")).isEqualTo(first.json().get("job_id"));
    // The same key from another client is another job.
    Reply other = grid.send(grid.request("/v1/jobs", grid.otherClientKey)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", "order-42")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
    assertThat(other.json().get("job_id")).isNotEqualTo(first.json().get("job_id"));
  }

  @Test
  void eventsStreamSnapshotsAndProgressUntilTheJobEnds() throws Exception {
    String id = grid.submit(grid.clientKey, "m-sse");
    Stream<String> body = openEvents(grid, grid.bridge.port(), id);
    Queue<String> lines = new ConcurrentLinkedQueue<>();
    CompletableFuture<Void> ended = CompletableFuture.runAsync(() -> body.forEach(lines::add));
    await().atMost(Duration.ofSeconds(10)).until(() -> events(lines).stream().anyMatch(e -> e.name().equals("job")));

    try (TestWorker w = grid.worker("w-sse", "m-sse")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.send(ConnectRequest.newBuilder().setProgress(JobProgress.newBuilder()
          .setJobId(a.getJobId()).setAttempt(a.getAttempt()).setPercent(50).setOutput("hel")).build());
      await().atMost(Duration.ofSeconds(10))
          .until(() -> events(lines).stream().anyMatch(e -> e.name().equals("progress")));
      w.complete(a.getJobId(), a.getAttempt(), "{\"output\":\"hello\"}");

      ended.get(10, TimeUnit.SECONDS);
    }
    List<Event> events = events(lines);
    assertThat(events.getFirst().name()).isEqualTo("job");
    assertThat(events.getFirst().data().get("job_id").asText()).isEqualTo(id);
    assertThat(events.getFirst().data().get("state").asText()).isEqualTo("QUEUED");
    JsonNode progress = events.stream().filter(e -> e.name().equals("progress")).findFirst().orElseThrow().data();
    assertThat(progress.get("job_id").asText()).isEqualTo(id);
    assertThat(progress.get("attempt").asInt()).isEqualTo(1);
    assertThat(progress.get("percent").asDouble()).isEqualTo(50.0);
    assertThat(progress.get("output").asText()).isEqualTo("hel");
    assertThat(events.getLast().name()).isEqualTo("job");
    assertThat(events.getLast().data().get("state").asText()).isEqualTo("COMPLETED");
    assertThat(events.getLast().data().get("metrics").get("tokens").asInt()).isEqualTo(3);
  }

  @Test
  void eventsOutliveTheRequestTimeout() throws Exception {
    // Three 1 s coordinator deadlines: this bridge times ordinary requests out after 3 s.
    try (Bridge quick = Bridge.start(Grid.config(grid.coordinator.grpcPort()).withCallDeadline(Duration.ofSeconds(1)))) {
      String id = grid.submit(grid.clientKey, "m-long-watch");
      Stream<String> body = openEvents(grid, quick.port(), id);
      Queue<String> lines = new ConcurrentLinkedQueue<>();
      CompletableFuture<Void> ended = CompletableFuture.runAsync(() -> body.forEach(lines::add));

      await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> !ended.isDone());
      assertThat(grid.post("/v1/jobs/" + id + "/cancel", grid.clientKey).status()).isEqualTo(200);

      ended.get(10, TimeUnit.SECONDS);
      assertThat(events(lines).getLast().data().get("state").asText()).isEqualTo("CANCELED");
    }
  }

  @Test
  void eventsOfAnUnknownJobAre404BeforeAnyEvent() {
    Reply r = grid.get("/v1/jobs/" + "0".repeat(32) + "/events", grid.clientKey);

    assertThat(r.assertError(404)).isEqualTo("job not found");
  }

  @Test
  void healthAnswersWithoutAKey() {
    for (String path : List.of("/health", "/v1/health")) {
      Reply r = grid.get(path, null);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.json()).isEqualTo(Grid.JSON.createObjectNode()
          .put("status", "ok").put("env", "test").put("version", "0.1.0").put("coordinator", "SERVING"));
    }
  }

  @Test
  void openApiDescribesTheRoutes() {
    Reply r = grid.get("/openapi.json", null);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.json().get("openapi").asText()).isEqualTo("3.1.0");
    JsonNode paths = r.json().get("paths");
    assertThat(paths.properties()).extracting(java.util.Map.Entry::getKey)
        .contains("/v1/jobs", "/v1/jobs/history", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/result",
            "/v1/jobs/{job_id}/cancel", "/v1/jobs/{job_id}/events", "/health", "/v1/jobs/{job_id}/receipt",
            "/v1/jobs/{job_id}/receipts", "/v1/explorer/receipts", "/explorer/transactions/{hash}",
            "/v1/receipts/verify", "/api/v1/blocks", "/v1/explorer/blocks", "/v1/ledger/blocks",
            "/v1/ledger/blocks/{height}", "/v1/ledger/proofs/inclusion", "/v1/ledger/proofs/consistency",
            "/v1/ledger/leaves", "/v1/sync-status", "/v1/payments", "/v1/jobs/{job_id}/payment",
            "/v1/payments/{payment_id}", "/v1/payments/{payment_id}/status", "/v1/payments/{payment_id}/receipt",
            "/v1/payments/{payment_id}/refund", "/v1/payments/{payment_id}/release", "/v1/account",
            "/v1/miners/{miner_id}/earnings");
    assertThat(paths.get("/v1/jobs/{job_id}").has("delete")).isTrue();
    JsonNode create = r.json().get("components").get("schemas").get("JobCreate").get("properties");
    assertThat(create.has("timeout_seconds")).isTrue();
    assertThat(create.get("priority").toString()).contains("high");
    assertThat(r.json().get("components").get("schemas").get("JobView").get("properties").has("timeout_seconds")).isTrue();
    assertThat(paths.get("/v1/jobs/history").get("get").get("parameters").toString()).contains("IncludeResults");
    assertThat(r.json().get("components").get("parameters").get("IncludeResults").get("name").asText())
        .isEqualTo("include_results");
  }

  /** Opens the event stream; its headers come with the first event. */
  static Stream<String> openEvents(Grid grid, int port, String id) throws Exception {
    return openEvents(grid, port, id, grid.clientKey);
  }

  /** Opens the event stream with this key. */
  static Stream<String> openEvents(Grid grid, int port, String id, String key) throws Exception {
    HttpRequest req = Grid.request(port, "/v1/jobs/" + id + "/events", key)
        .timeout(Duration.ofMinutes(1)).header("Accept", "text/event-stream").GET().build();
    HttpResponse<Stream<String>> r = grid.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).get(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
    return r.body();
  }

  /** A server-sent event. */
  record Event(String name, JsonNode data) {}

  /** The complete events among the lines read so far. */
  static List<Event> events(Queue<String> lines) {
    List<Event> events = new ArrayList<>();
    String name = "message";
    StringBuilder data = new StringBuilder();
    for (String line : lines) {
      if (line.isEmpty()) {
        if (!data.isEmpty()) {
          try {
            events.add(new Event(name, Grid.JSON.readTree(data.toString())));
          } catch (IOException e) {
            throw new AssertionError("event data is not JSON: " + data, e);
          }
        }
        name = "message";
        data.setLength(0);
      } else if (line.startsWith("event:")) {
        name = line.substring("event:".length()).strip();
      } else if (line.startsWith("data:")) {
        data.append(line.substring("data:".length()).strip());
      }
    }
    return events;
  }
}
