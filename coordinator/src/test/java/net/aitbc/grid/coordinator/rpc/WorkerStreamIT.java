package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.JOB_ATTEMPT;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Duration;
import io.grpc.Status;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.Heartbeat;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The worker protocol over real gRPC streams: assignment by credit, fencing of stale attempts,
 * take-back from lost workers, cancel and expiry reaching the worker. Each test uses its own job
 * type so that workers of one test never take another test's jobs.
 */
class WorkerStreamIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();
  private static JobServiceBlockingStub client;

  @BeforeAll
  static void client() {
    client = grid.client("c1");
  }

  private static Job submit(String type) {
    return submit(type, 900);
  }

  private static Job submit(String type, int ttlSeconds) {
    return client.createJob(CreateJobRequest.newBuilder()
        .setPayloadJson("{\"type\":\"" + type + "\",\"prompt\":\"hi\"}")
        .setTtl(Duration.newBuilder().setSeconds(ttlSeconds))
        .build()).getJob();
  }

  private static Job get(String jobId) {
    return client.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob();
  }

  private static TestWorker worker(String id, String type) {
    return grid.worker(id, type);
  }

  private static OutcomeAck nextAck(TestWorker w) {
    ConnectResponse r = w.next();
    assertThat(r.getMessageCase()).isEqualTo(ConnectResponse.MessageCase.OUTCOME_ACK);
    return r.getOutcomeAck();
  }

  @Test
  void cancelsRacingFreshAssignmentsStillReachTheWorker() throws Exception {
    try (TestWorker w = worker("w-race", "t-race");
         java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8)) {
      for (int round = 0; round < 10; round++) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
          ids.add(submit("t-race").getJobId());
        }
        // Credits and cancels at once: some claims commit before their cancel, some after.
        List<java.util.concurrent.Future<?>> cancels = new ArrayList<>();
        w.credit(16);
        for (String id : ids) {
          cancels.add(pool.submit(() -> client.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build())));
        }
        for (var f : cancels) {
          f.get(10, TimeUnit.SECONDS);
        }
        List<ConnectResponse> heard = w.drainReceivedWithin(java.time.Duration.ofMillis(500));
        java.util.Set<String> revoked = new java.util.HashSet<>();
        heard.stream().filter(ConnectResponse::hasRevocation).forEach(r -> revoked.add(r.getRevocation().getJobId()));
        // Every job the worker was handed was canceled: it must have heard so.
        heard.stream().filter(ConnectResponse::hasAssignment)
            .forEach(a -> assertThat(revoked).contains(a.getAssignment().getJobId()));
      }
    }
  }

  @Test
  void jobRunsOnAWorkerWithCreditAndItsResultIsStored() {
    Job job = submit("t-basic");
    try (TestWorker w = worker("w-basic", "t-basic")) {
      assertThat(w.registered().getLeaseDuration().getSeconds()).isEqualTo(3);
      w.credit(1);
      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(job.getJobId());
      assertThat(a.getAttempt()).isEqualTo(1);
      assertThat(a.getPayloadJson()).contains("\"prompt\"");
      assertThat(get(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_RUNNING);

      w.complete(a.getJobId(), 1, "{\"output\":\"hello\"}");
      assertThat(nextAck(w).getAccepted()).isTrue();

      GetJobResultResponse result = client.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build());
      assertThat(result.getJob().getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
      assertThat(result.getJob().getWorkerId()).isEqualTo("w-basic");
      assertThat(result.getResultJson()).isEqualTo("{\"output\": \"hello\"}");
      assertThat(result.getJob().getMetricsJson()).contains("\"tokens\": 3", "\"queue_ms\"", "\"run_ms\"");
    }
  }

  @Test
  void jobSubmittedWhileAWorkerIsIdleIsStoredAlreadyRunningOnIt() {
    try (TestWorker w = worker("w-idle", "t-idle")) {
      w.credit(1);
      // Let the dispatcher find nothing to do, so that the worker counts as idle.
      org.awaitility.Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> {
        Job probe = submit("t-idle");
        if (probe.getState() == JobState.JOB_STATE_RUNNING) {
          assertThat(probe.getAttempt()).isEqualTo(1);
          assertThat(probe.getWorkerId()).isEqualTo("w-idle");
          Assignment a = w.nextAssignment();
          assertThat(a.getJobId()).isEqualTo(probe.getJobId());
          w.complete(a.getJobId(), 1, "{}");
          assertThat(nextAck(w).getAccepted()).isTrue();
          return true;
        }
        // Queued (the worker was not idle yet): it takes this one, then is idle for the next.
        Assignment a = w.nextAssignment();
        w.complete(a.getJobId(), a.getAttempt(), "{}");
        assertThat(nextAck(w).getAccepted()).isTrue();
        w.credit(1);
        return false;
      });
    }
  }

  @Test
  void noJobIsAssignedBeyondTheCreditsGranted() {
    for (int i = 0; i < 3; i++) {
      submit("t-credit");
    }
    try (TestWorker w = worker("w-credit", "t-credit")) {
      w.credit(2);
      Assignment first = w.nextAssignment();
      Assignment second = w.nextAssignment();
      assertThat(first.getJobId()).isNotEqualTo(second.getJobId());
      w.heartbeat();
      await().during(500, TimeUnit.MILLISECONDS).atMost(2, TimeUnit.SECONDS).until(() -> w.drainReceived().isEmpty());

      w.complete(first.getJobId(), 1, "{}");
      assertThat(nextAck(w).getAccepted()).isTrue();
      w.credit(1);
      assertThat(w.nextAssignment().getJobId()).isNotIn(first.getJobId(), second.getJobId());
    }
  }

  @Test
  void resultOfAStaleAttemptIsRefused() {
    Job job = submit("t-stale");
    try (TestWorker w = worker("w-stale", "t-stale")) {
      w.credit(2);
      Assignment first = w.nextAssignment();
      w.fail(first.getJobId(), 1, "GPU fell off the bus", true);
      assertThat(nextAck(w).getAccepted()).isTrue();

      Assignment second = w.nextAssignment();
      assertThat(second.getJobId()).isEqualTo(job.getJobId());
      assertThat(second.getAttempt()).isEqualTo(2);

      w.complete(job.getJobId(), 1, "{\"output\":\"late\"}");
      OutcomeAck refused = nextAck(w);
      assertThat(refused.getAccepted()).isFalse();
      assertThat(refused.getReason()).isEqualTo("attempt 1 is stale: the job is on attempt 2");

      w.complete(job.getJobId(), 2, "{\"output\":\"fresh\"}");
      assertThat(nextAck(w).getAccepted()).isTrue();
      assertThat(client.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build()).getResultJson())
          .contains("fresh");
    }
  }

  @Test
  void onlyTheSessionHoldingAnAttemptMayReportIt() {
    Job job = submit("t-holder");
    try (TestWorker holder = worker("w-holder", "t-holder"); TestWorker other = worker("w-other", "t-holder")) {
      holder.credit(1);
      Assignment a = holder.nextAssignment();
      other.complete(job.getJobId(), a.getAttempt(), "{\"output\":\"forged\"}");
      OutcomeAck refused = nextAck(other);
      assertThat(refused.getAccepted()).isFalse();
      assertThat(refused.getReason()).contains("another session");
      assertThat(get(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_RUNNING);
    }
  }

  @Test
  void jobOfAKilledWorkerIsRequeuedAndDoneByAnother() throws Exception {
    Job job = submit("t-killed");
    TestWorker doomed = worker("w-doomed", "t-killed");
    doomed.credit(1);
    assertThat(doomed.nextAssignment().getJobId()).isEqualTo(job.getJobId());
    try (TestWorker survivor = worker("w-survivor", "t-killed")) {
      survivor.credit(1);
      doomed.kill();

      Assignment retry = survivor.nextAssignment();
      assertThat(retry.getJobId()).isEqualTo(job.getJobId());
      assertThat(retry.getAttempt()).isEqualTo(2);
      survivor.complete(retry.getJobId(), 2, "{\"output\":\"saved\"}");
      assertThat(nextAck(survivor).getAccepted()).isTrue();
    }
    Job done = get(job.getJobId());
    assertThat(done.getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    assertThat(done.getWorkerId()).isEqualTo("w-survivor");
    try (Connection c = grid.db().connect()) {
      var attempts = DSL.using(c, SQLDialect.POSTGRES).selectFrom(JOB_ATTEMPT)
          .where(JOB_ATTEMPT.JOB_ID.eq(JobIds.parse(job.getJobId()).orElseThrow()))
          .fetch();
      assertThat(attempts).hasSize(1);
      assertThat(attempts.getFirst().getAttempt()).isEqualTo(1);
      assertThat(attempts.getFirst().getWorkerId()).isEqualTo("w-doomed");
      assertThat(attempts.getFirst().getError()).contains("was lost");
    }
  }

  @Test
  void workerThatStopsHeartbeatingLosesItsJobsAndItsLateResultIsRefused() {
    Job job = submit("t-stall");
    try (TestWorker stalled = worker("w-stall", "t-stall")) {
      stalled.credit(1);
      Assignment a = stalled.nextAssignment();
      // No heartbeat for longer than the 3 s lease: the coordinator ends the session.
      Status closed = stalled.closed().orTimeout(10, TimeUnit.SECONDS).join();
      assertThat(closed.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      await().atMost(5, TimeUnit.SECONDS).until(() -> get(job.getJobId()).getState() == JobState.JOB_STATE_QUEUED);

      try (TestWorker next = worker("w-next", "t-stall")) {
        next.credit(1);
        assertThat(next.nextAssignment().getAttempt()).isEqualTo(2);
        next.complete(job.getJobId(), a.getAttempt(), "{\"output\":\"late\"}");
        assertThat(nextAck(next).getReason()).contains("stale");
      }
    }
  }

  @Test
  void cancelOfARunningJobReachesItsWorker() {
    Job job = submit("t-cancel");
    try (TestWorker w = worker("w-cancel", "t-cancel")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      Job canceled = client.cancelJob(CancelJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob();
      assertThat(canceled.getState()).isEqualTo(JobState.JOB_STATE_CANCELED);

      ConnectResponse revocation = w.next();
      assertThat(revocation.getRevocation().getJobId()).isEqualTo(job.getJobId());
      assertThat(revocation.getRevocation().getAttempt()).isEqualTo(a.getAttempt());
      assertThat(revocation.getRevocation().getReason()).isEqualTo("canceled by client");

      w.complete(job.getJobId(), a.getAttempt(), "{}");
      assertThat(nextAck(w).getReason()).isEqualTo("the job is CANCELED, no longer running");
      assertThat(get(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_CANCELED);
    }
  }

  @Test
  void queuedAndRunningJobsExpireWhenTheirTtlRunsOut() {
    Job queued = submit("t-ttl-none", 1);
    Job running = submit("t-ttl", 2);
    try (TestWorker w = worker("w-ttl", "t-ttl")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      // The expiry sweep is paced by its own cost: on a busy machine it may take a few seconds.
      ScheduledHeartbeats.during(w, () -> {
        ConnectResponse revocation = w.next(java.time.Duration.ofSeconds(15));
        assertThat(revocation.getRevocation().getJobId()).isEqualTo(a.getJobId());
        assertThat(revocation.getRevocation().getReason()).isEqualTo("job expired");
      });
    }
    for (Job j : List.of(queued, running)) {
      Job expired = get(j.getJobId());
      assertThat(expired.getState()).isEqualTo(JobState.JOB_STATE_EXPIRED);
      assertThat(expired.getError()).isEqualTo("job expired");
    }
  }

  @Test
  void retryableFailuresStopAtMaxAttempts() {
    Job job = submit("t-poison");
    try (TestWorker w = worker("w-poison", "t-poison")) {
      w.credit(10);
      for (int attempt = 1; attempt <= 3; attempt++) {
        Assignment a = w.nextAssignment();
        assertThat(a.getAttempt()).isEqualTo(attempt);
        w.fail(a.getJobId(), attempt, "out of memory", true);
        assertThat(nextAck(w).getAccepted()).isTrue();
      }
    }
    Job failed = get(job.getJobId());
    assertThat(failed.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
    assertThat(failed.getError()).isEqualTo("out of memory (gave up after 3 attempts)");
    assertThat(failed.getAttemptsList()).extracting(a -> a.getAttempt(), a -> a.getWorkerId(), a -> a.getError())
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(1, "w-poison", "out of memory"),
            org.assertj.core.groups.Tuple.tuple(2, "w-poison", "out of memory"),
            org.assertj.core.groups.Tuple.tuple(3, "w-poison", "out of memory"));
    assertThat(failed.getAttempts(0).hasStartTime()).isTrue();
    assertThat(failed.getAttempts(0).hasEndTime()).isTrue();
  }

  @Test
  void watchStreamsStatesAndProgressUntilTheJobEnds() {
    Job job = submit("t-watch");
    Iterator<WatchJobResponse> events = client.watchJob(WatchJobRequest.newBuilder().setJobId(job.getJobId()).build());
    assertThat(events.next().getJob().getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
    try (TestWorker w = worker("w-watch", "t-watch")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      assertThat(events.next().getJob().getState()).isEqualTo(JobState.JOB_STATE_RUNNING);
      w.send(ConnectRequest.newBuilder().setProgress(JobProgress.newBuilder()
          .setJobId(a.getJobId()).setAttempt(1).setPercent(50).setOutput("hel")).build());
      assertThat(events.next().getProgress().getOutput()).isEqualTo("hel");
      w.complete(a.getJobId(), 1, "{\"output\":\"hello\"}");
      List<WatchJobResponse> rest = new ArrayList<>();
      events.forEachRemaining(rest::add);
      assertThat(rest.getLast().getJob().getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    }
  }

  @Test
  void resultThatCannotBeStoredFailsTheAttemptWithTheReasonAndTheJobIsRetried() {
    // The worker is at fault, not the job: its attempt fails and another attempt may do better.
    Job job = submit("t-garbage");
    try (TestWorker w = worker("w-garbage", "t-garbage")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.complete(a.getJobId(), a.getAttempt(), "{\"text\":\"\\ud800\"}");
      assertThat(nextAck(w).getAccepted()).isTrue();
    }
    Job retried = get(job.getJobId());
    assertThat(retried.getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
    assertThat(retried.getAttemptsList()).singleElement().satisfies(at -> assertThat(at.getError()).isEqualTo(
        "worker w-garbage sent an invalid completion: result_json.text contains an unpaired UTF-16 surrogate"));
  }

  @Test
  void attemptThatNeverReachedItsWorkerIsTakenBack() throws Exception {
    Job job = submit("t-orphan");
    try (TestWorker w = worker("w-orphan", "t-orphan"); Connection c = grid.db().connect()) {
      // As if a claim had committed but its Assignment was lost on the way.
      DSL.using(c, SQLDialect.POSTGRES).update(JOB)
          .set(JOB.STATE, net.aitbc.grid.db.enums.JobState.RUNNING)
          .set(JOB.ATTEMPT, 1)
          .set(JOB.SESSION_ID, java.util.UUID.fromString(w.registered().getSessionId()))
          .set(JOB.WORKER_ID, "w-orphan")
          .set(JOB.STARTED_AT, java.time.OffsetDateTime.now().minusSeconds(10))
          .where(JOB.JOB_ID.eq(JobIds.parse(job.getJobId()).orElseThrow()))
          .execute();
      w.credit(1);
      ScheduledHeartbeats.during(w, () -> {
        Assignment retry = w.nextAssignment();
        assertThat(retry.getJobId()).isEqualTo(job.getJobId());
        assertThat(retry.getAttempt()).isEqualTo(2);
      });
    }
  }

  @Test
  void streamMustStartWithRegister() {
    try (TestWorker w = TestWorker.open(grid.coordinator().grpcPort(), grid.workerKey())) {
      w.send(ConnectRequest.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build());
      Status status = w.closed().orTimeout(5, TimeUnit.SECONDS).join();
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("first message must be Register");
    }
  }
}
