package net.aitbc.grid.coordinator.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Watcher;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two coordinators on one database whose ticks and sweeps are slow (5 s): what crosses from one to
 * the other within a second crossed by notification, not by waiting for a tick.
 */
class ReplicasIT {
  private static final Duration SOON = Duration.ofMillis(2_500);
  private static Replicas grid;

  @BeforeAll
  static void start() {
    grid = new Replicas(b -> b.timing(Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(5)));
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  @Test
  void aJobSubmittedOnOneReplicaRunsOnAWorkerConnectedToTheOther() {
    String key = grid.a.createKey(Role.CLIENT, "cross-dispatch");
    try (TestWorker w = grid.worker(grid.b, "w-cross", "t-cross")) {
      w.credit(1);
      for (int i = 0; i < 3; i++) {
        Job job = grid.client(grid.toA, key).createJob(CreateJobRequest.newBuilder()
            .setPayloadJson("{\"type\":\"t-cross\",\"n\":" + i + "}").build()).getJob();
        long start = System.nanoTime();
        Assignment a = nextAssignment(w);
        assertThat(a.getJobId()).isEqualTo(job.getJobId());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(SOON);
        w.complete(a.getJobId(), a.getAttempt(), "{\"i\":" + i + "}");
        w.credit(1);
        await().atMost(SOON).until(() -> grid.client(grid.toA, key)
            .getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getState()
            == JobState.JOB_STATE_COMPLETED);
      }
    }
  }

  @Test
  void aCancelOnOneReplicaRevokesTheAttemptOnAWorkerConnectedToTheOther() {
    String key = grid.a.createKey(Role.CLIENT, "cross-cancel");
    try (TestWorker w = grid.worker(grid.b, "w-cancel", "t-cancel")) {
      w.credit(1);
      Job job = grid.client(grid.toB, key).createJob(CreateJobRequest.newBuilder()
          .setPayloadJson("{\"type\":\"t-cancel\"}").build()).getJob();
      Assignment a = nextAssignment(w);
      grid.client(grid.toA, key).cancelJob(CancelJobRequest.newBuilder().setJobId(job.getJobId()).build());
      ConnectResponse revocation = w.next(SOON);
      assertThat(revocation.hasRevocation()).as("%s", revocation).isTrue();
      assertThat(revocation.getRevocation().getJobId()).isEqualTo(a.getJobId());
    }
  }

  @Test
  void aWatcherOnOneReplicaSeesProgressAndTheOutcomeRecordedOnTheOther() throws Exception {
    String key = grid.a.createKey(Role.CLIENT, "cross-watch");
    try (TestWorker w = grid.worker(grid.b, "w-watch", "t-watch")) {
      Job job = grid.client(grid.toA, key).createJob(CreateJobRequest.newBuilder()
          .setPayloadJson("{\"type\":\"t-watch\"}").build()).getJob();
      Watcher watcher = Watcher.watch(grid.asyncClient(grid.toA, key), job.getJobId());
      List<WatchJobResponse> received = watcher.received();
      await().atMost(Duration.ofSeconds(10)).until(() -> !received.isEmpty());
      // The watch is announced to the other replica before the worker there reports.
      await().pollDelay(Duration.ofMillis(300)).atMost(SOON).until(() -> true);
      w.credit(1);
      Assignment a = nextAssignment(w);
      w.progress(a.getJobId(), a.getAttempt(), "partial output");
      await().atMost(SOON).until(() -> received.stream()
          .anyMatch(r -> r.hasProgress() && r.getProgress().getOutput().contains("partial output")));
      w.complete(a.getJobId(), a.getAttempt(), "{\"done\":true}");
      assertThat(watcher.ended().get(5, TimeUnit.SECONDS).isOk()).isTrue();
      assertThat(received.getLast().getJob().getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    }
  }

  /** The next assignment within {@link #SOON}, past the acknowledgements of outcomes sent before. */
  private static Assignment nextAssignment(TestWorker w) {
    ConnectResponse r = w.next(SOON);
    while (r.hasOutcomeAck()) {
      r = w.next(SOON);
    }
    assertThat(r.hasAssignment()).as("%s", r).isTrue();
    return r.getAssignment();
  }
}
