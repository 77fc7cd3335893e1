package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A worker holds no more than it can run, and no attempt runs past its timeout. */
class WorkerLimitsIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.maxPrefetch(1).runTimeout("t-typed", Duration.ofSeconds(2)));

  private static JobServiceBlockingStub client() {
    return grid.client("limits-client");
  }

  private static Job submit(JobServiceBlockingStub c, String type, com.google.protobuf.Duration timeout) {
    CreateJobRequest.Builder b = CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}");
    if (timeout != null) {
      b.setTimeout(timeout);
    }
    return c.createJob(b.build()).getJob();
  }

  @Test
  void creditsBeyondConcurrencyAndTheAllowedPrefetchAreIgnored() {
    JobServiceBlockingStub c = client();
    for (int i = 0; i < 10; i++) {
      submit(c, "t-held", null);
    }
    try (TestWorker w = TestWorker.connect(grid.coordinator().grpcPort(), grid.workerKey(), Register.newBuilder()
        .setWorkerId("w-greedy").setVersion("test")
        .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes("t-held").setConcurrency(2)).build())) {
      assertThat(w.registered().getMaxHeld()).isEqualTo(3);
      w.credit(100);
      List<Assignment> held = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        held.add(w.nextAssignment());
      }
      assertThat(w.drainReceivedWithin(Duration.ofSeconds(1))).noneMatch(ConnectResponse::hasAssignment);

      // One finishes and the worker grants one credit back: exactly one more comes.
      w.complete(held.get(0).getJobId(), held.get(0).getAttempt(), "{}");
      w.credit(1);
      List<ConnectResponse> after = w.drainReceivedWithin(Duration.ofSeconds(2));
      assertThat(after.stream().filter(ConnectResponse::hasAssignment)).hasSize(1);
    }
  }

  @Test
  void anAttemptPastItsTimeoutIsRevokedAndRetriedOnAnotherWorker() {
    JobServiceBlockingStub c = client();
    Job job = submit(c, "t-overrun", Durations.fromSeconds(1));
    assertThat(job.getTimeout()).isEqualTo(Durations.fromSeconds(1));
    try (TestWorker stuck = grid.worker("w-stuck", "t-overrun")) {
      // It heartbeats but never finishes, and keeps credits to spare.
      stuck.credit(5);
      Assignment first = stuck.nextAssignment();
      assertThat(first.getDeadlineTime().getSeconds()).isGreaterThan(0);
      ScheduledHeartbeats.during(stuck, () -> {
        ConnectResponse revoked = stuck.next(Duration.ofSeconds(10));
        assertThat(revoked.hasRevocation()).isTrue();
        assertThat(revoked.getRevocation().getJobId()).isEqualTo(job.getJobId());
        assertThat(revoked.getRevocation().getReason()).contains("timeout");
        try (TestWorker other = grid.worker("w-other", "t-overrun")) {
          other.credit(1);
          Assignment retry = other.nextAssignment();
          assertThat(retry.getJobId()).isEqualTo(job.getJobId());
          assertThat(retry.getAttempt()).isEqualTo(2);
          other.complete(retry.getJobId(), retry.getAttempt(), "{}");
          await().atMost(Duration.ofSeconds(10)).until(() ->
              c.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getState()
                  == JobState.JOB_STATE_COMPLETED);
        }
        assertThat(stuck.drainReceived()).noneMatch(ConnectResponse::hasAssignment);
      });
    }
    Job done = c.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob();
    assertThat(done.getAttemptsList()).singleElement().satisfies(a ->
        assertThat(a.getError()).isEqualTo("attempt 1 ran past its timeout of 1 s on worker w-stuck"));
  }

  @Test
  void aJobTypeHasItsOwnDefaultTimeout() {
    JobServiceBlockingStub c = client();
    assertThat(submit(c, "t-typed", null).getTimeout()).isEqualTo(Durations.fromSeconds(2));
    assertThat(submit(c, "t-untyped", null).getTimeout()).isEqualTo(Durations.fromMinutes(10));
  }
}
