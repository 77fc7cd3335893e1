package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.OutcomeAck;
import org.jooq.impl.SQLDataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a worker sends is checked like what a client sends, and an outcome the database will not
 * take never strands its job: the attempt fails or goes back to the queue, and the worker's slot is
 * free again.
 */
class OutcomeFaultsIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static Job submit(JobServiceBlockingStub c, String type) {
    return c.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}").build()).getJob();
  }

  private static Job get(JobServiceBlockingStub c, String id) {
    return c.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getJob();
  }

  private static OutcomeAck nextAck(TestWorker w) {
    while (true) {
      ConnectResponse r = w.next();
      if (r.hasOutcomeAck()) {
        return r.getOutcomeAck();
      }
    }
  }

  @Test
  void metricsThatCannotBeStoredFailTheAttemptAndFreeTheSlot() {
    JobServiceBlockingStub c = grid.client("bad-metrics");
    Job job = submit(c, "t-bad-metrics");
    try (TestWorker w = grid.worker("w-bad-metrics", "t-bad-metrics")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      // jsonb cannot hold a NUL character: before the check this failed its commit and left the job RUNNING.
      w.complete(a.getJobId(), a.getAttempt(), "{}", "{\"note\":\"\\u0000\"}");
      assertThat(nextAck(w).getAccepted()).isTrue();
      Job retried = get(c, job.getJobId());
      assertThat(retried.getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
      assertThat(retried.getAttempts(0).getError()).contains("metrics_json.note contains a NUL character");

      // The slot is free: the worker's next credit brings the retry, which completes.
      w.credit(1);
      Assignment retry = w.nextAssignment();
      assertThat(retry.getAttempt()).isEqualTo(2);
      w.complete(retry.getJobId(), retry.getAttempt(), "{}", "{\"tokens\":1}");
      assertThat(nextAck(w).getAccepted()).isTrue();
    }
    assertThat(get(c, job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
  }

  @Test
  void aFailureMessageIsMadeStorable() {
    JobServiceBlockingStub c = grid.client("bad-error");
    Job job = submit(c, "t-bad-error");
    try (TestWorker w = grid.worker("w-bad-error", "t-bad-error")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.fail(a.getJobId(), a.getAttempt(), "boom\u0000" + "x".repeat(10_000), false);
      assertThat(nextAck(w).getAccepted()).isTrue();
    }
    Job failed = get(c, job.getJobId());
    assertThat(failed.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
    assertThat(failed.getError()).startsWith("boom\uFFFDxxx").endsWith("…").hasSizeLessThan(4100);
  }

  @Test
  void anOutcomeTheDatabaseKeepsRefusingIsRefusedLoudlyAndItsJobGoesBackToTheQueue() throws Exception {
    // A real refusal that no retry can fix: an index whose entries may be at most 2704 bytes makes
    // PostgreSQL refuse (SQLSTATE 54000, program limit exceeded) any large, incompressible result.
    grid.query(dsl -> dsl.createIndex("poison_result_idx").on(JOB, JOB.RESULT.cast(SQLDataType.CLOB)).execute());
    try {
      JobServiceBlockingStub c = grid.client("poisoned");
      Job job = submit(c, "t-poison");
      StringBuilder blob = new StringBuilder();
      ThreadLocalRandom random = ThreadLocalRandom.current();
      for (int i = 0; i < 8000; i++) {
        blob.append((char) ('a' + random.nextInt(26)));
      }
      try (TestWorker w = grid.worker("w-poison", "t-poison")) {
        w.credit(1);
        Assignment a = w.nextAssignment();
        w.complete(a.getJobId(), a.getAttempt(), "{\"blob\":\"" + blob + "\"}");
        OutcomeAck ack = nextAck(w);
        assertThat(ack.getAccepted()).isFalse();
        assertThat(ack.getReason()).contains("not recorded").contains("goes back to the queue");
        await().atMost(Duration.ofSeconds(10)).until(() -> get(c, job.getJobId()).getState()
            == JobState.JOB_STATE_QUEUED);
        assertThat(get(c, job.getJobId()).getAttempts(0).getError())
            .isEqualTo("the outcome of attempt 1 on worker w-poison could not be recorded");
        assertThat(metric("grid_outcomes_unrecorded_total")).isEqualTo(1.0);

        // The slot is free, and once the result can be stored the job completes.
        w.credit(1);
        Assignment retry = w.nextAssignment();
        w.complete(retry.getJobId(), retry.getAttempt(), "{\"ok\":true}");
        assertThat(nextAck(w).getAccepted()).isTrue();
      }
      assertThat(get(c, job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    } finally {
      grid.query(dsl -> dsl.dropIndexIfExists("poison_result_idx").execute());
    }
  }

  @Test
  void theMetersCountWhatHappenedPerJobType() throws Exception {
    JobServiceBlockingStub c = grid.client("metered");
    Job job = submit(c, "t-metered");
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("grid_queue_depth", "type=\"t-metered\"") == 1.0);
    try (TestWorker w = grid.worker("w-metered", "t-metered")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.complete(a.getJobId(), a.getAttempt(), "{}");
      assertThat(nextAck(w).getAccepted()).isTrue();
    }
    assertThat(get(c, job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    assertThat(metric("grid_job_run_seconds_count", "type=\"t-metered\"")).isEqualTo(1.0);
    assertThat(metric("grid_stream_messages_total", "kind=\"completed\"")).isGreaterThanOrEqualTo(1.0);
    assertThat(metric("grid_stream_messages_total", "kind=\"assignment\"")).isGreaterThanOrEqualTo(1.0);
    // A type whose queue emptied reads 0, not nothing.
    await().atMost(Duration.ofSeconds(10)).until(() -> metric("grid_queue_depth", "type=\"t-metered\"") == 0.0
        && scrape().contains("grid_queue_depth{type=\"t-metered\"}"));
  }

  private static double metric(String name) throws Exception {
    return metric(name, "");
  }

  /** The sum of a meter's series whose labels contain {@code labels}. */
  private static double metric(String name, String labels) throws Exception {
    return scrape().lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
        .filter(l -> l.contains(labels))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private static String scrape() throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + grid.coordinator().metricsPort()
          + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
  }
}
