package net.aitbc.grid.worker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.worker.backend.BackendRouter;
import net.aitbc.grid.worker.backend.EmbeddedBackend;
import net.aitbc.grid.worker.backend.NoopBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The runner with real backends (the embedded model and noop): it runs what the Assignment names,
 * never what the payload says, and a revoked job waiting for a slot leaves at once.
 */
class JobRunnerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static EmbeddedBackend embedded;

  private final ExecutorService jobs =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().factory());
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final List<ConnectRequest> sent = new CopyOnWriteArrayList<>();
  private final List<RunningJob.State> released = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void loadModel() {
    embedded = new EmbeddedBackend();
  }

  @AfterAll
  static void closeModel() {
    embedded.close();
  }

  @AfterEach
  void stop() {
    jobs.shutdownNow();
    scheduler.shutdownNow();
  }

  private JobRunner runner(int concurrency) {
    // The router does not own the shared model here; closing it is the class's job.
    BackendRouter router = new BackendRouter(List.of(embedded, new NoopBackend("w1")));
    return new JobRunner(
        "w1",
        concurrency,
        router,
        jobs,
        scheduler,
        JSON,
        new OutcomeSigner(SigningKey.generate(), "w1", jobs),
        new JobRunner.Reports() {
          @Override
          public void send(ConnectRequest message) {
            sent.add(message);
          }

          @Override
          public void released(RunningJob.State how) {
            released.add(how);
          }
        });
  }

  private static Assignment assignment(String jobId, String type, String model, String payload) {
    return Assignment.newBuilder()
        .setJobId(jobId)
        .setAttempt(1)
        .setType(type)
        .setModel(model)
        .setPayloadJson(payload)
        .build();
  }

  private JobCompleted awaitCompleted(String jobId) {
    await()
        .atMost(30, TimeUnit.SECONDS)
        .until(() -> sent.stream().anyMatch(m -> outcomeOf(m, jobId)));
    ConnectRequest outcome = sent.stream().filter(m -> outcomeOf(m, jobId)).findFirst().get();
    assertThat(outcome.hasFailed())
        .as("failed: %s", outcome.getFailed().getError())
        .isFalse();
    return outcome.getCompleted();
  }

  private static boolean outcomeOf(ConnectRequest m, String jobId) {
    return (m.hasCompleted() && m.getCompleted().getJobId().equals(jobId))
        || (m.hasFailed() && m.getFailed().getJobId().equals(jobId));
  }

  @Test
  void blankAssignmentModelRunsTheDefaultModelEvenWhenThePayloadHasAnEmptyOne() throws Exception {
    // What `aitbc client batch-submit` sends for a CSV row with an empty model column.
    JobRunner runner = runner(1);
    assertThat(
            runner.start(
                assignment(
                    "j1", "embedding", "", "{\"type\":\"embedding\",\"prompt\":\"x\",\"model\":\"\"}")))
        .isTrue();

    JobCompleted completed = awaitCompleted("j1");
    JsonNode result = JSON.readTree(completed.getResultJson());
    assertThat(result.get("embedding")).hasSize(EmbeddedBackend.DIMENSIONS);
    assertThat(result.get("model").asText()).isEqualTo(EmbeddedBackend.MODEL);
    await().atMost(5, TimeUnit.SECONDS).until(() -> released.contains(RunningJob.State.REPORTED));
    assertThat(runner.running()).isZero();
  }

  @Test
  void payloadModelIsIgnoredWhenTheAssignmentNamesNone() throws Exception {
    // The coordinator placed this job on a worker for its type with no model; a model left in the
    // payload must not send it looking for a backend this worker does not have.
    JobRunner runner = runner(1);
    runner.start(assignment("j2", "noop", "", "{\"type\":\"noop\",\"model\":\"llama3\"}"));

    JsonNode result = JSON.readTree(awaitCompleted("j2").getResultJson());
    assertThat(result.get("ok").asBoolean()).isTrue();
    assertThat(result.get("worker_id").asText()).isEqualTo("w1");
  }

  @Test
  void assignmentModelWinsOverThePayloadModel() throws Exception {
    JobRunner runner = runner(1);
    runner.start(
        assignment(
            "j3",
            "embedding",
            "all-minilm-l6-v2",
            "{\"type\":\"embedding\",\"input\":[\"a\",\"b\"],\"model\":\"text-embedding-3-small\"}"));

    JsonNode result = JSON.readTree(awaitCompleted("j3").getResultJson());
    assertThat(result.get("embeddings")).hasSize(2);
  }

  @Test
  void modelHelperTreatsABlankModelAsTheDefault() {
    assertThat(JobRunner.model(assignment("j", "embedding", "", "{}"))).isNull();
    assertThat(JobRunner.model(assignment("j", "embedding", "  ", "{}"))).isNull();
    assertThat(JobRunner.model(assignment("j", "embedding", "m", "{\"model\":\"x\"}")))
        .isEqualTo("m");
  }

  @Test
  void aRevokedJobWaitingForASlotLeavesAtOnceAndReportsNothing() {
    JobRunner runner = runner(1);
    runner.start(assignment("busy", "noop", "", "{\"sleep_ms\":20000}"));
    await().atMost(5, TimeUnit.SECONDS).until(() -> runner.freeSlots() == 0);
    runner.start(assignment("waiting", "noop", "", "{}"));
    assertThat(runner.running()).isEqualTo(2);

    runner.revoke("waiting", 1, "canceled");

    await().atMost(5, TimeUnit.SECONDS).until(() -> runner.running() == 1);
    assertThat(released).containsExactly(RunningJob.State.REVOKED);
    runner.revoke("busy", 1, "canceled");
    await().atMost(5, TimeUnit.SECONDS).until(() -> runner.running() == 0);
    assertThat(released).containsExactly(RunningJob.State.REVOKED, RunningJob.State.REVOKED);
    assertThat(sent).noneMatch(m -> m.hasCompleted() || m.hasFailed());
  }

  @Test
  void handBackFailsWhatStillRunsAsRetryable() throws Exception {
    JobRunner runner = runner(1);
    runner.start(assignment("slow", "noop", "", "{\"sleep_ms\":20000}"));
    await().atMost(5, TimeUnit.SECONDS).until(() -> runner.running() == 1);

    assertThat(runner.handBack("worker shutting down")).isEqualTo(1);
    assertThat(runner.awaitAll(Duration.ofSeconds(5))).isTrue();

    JobFailed failed = sent.stream().filter(ConnectRequest::hasFailed).findFirst().get().getFailed();
    assertThat(failed.getJobId()).isEqualTo("slow");
    assertThat(failed.getRetryable()).isTrue();
    assertThat(failed.getError()).isEqualTo("worker shutting down");
    assertThat(released).containsExactly(RunningJob.State.HANDED_BACK);
  }

  @Test
  void badPayloadFailsPermanentlyWithTheReason() {
    JobRunner runner = runner(1);
    runner.start(assignment("bad", "noop", "", "[1,2]"));

    await().atMost(5, TimeUnit.SECONDS).until(() -> sent.stream().anyMatch(m -> m.hasFailed()));
    JobFailed failed = sent.getFirst().getFailed();
    assertThat(failed.getRetryable()).isFalse();
    assertThat(failed.getError()).isEqualTo("payload_json must be a JSON object, not ARRAY");
  }
}
