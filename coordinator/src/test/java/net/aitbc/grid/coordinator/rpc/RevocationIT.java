package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Watcher;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Revoking a key reaches what it already opened: worker streams and job watches end. */
class RevocationIT {
  private static final Duration DELAY = Duration.ofMillis(300);

  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.keyChecks(DELAY, Duration.ofSeconds(1)));

  private static void revoke(String key) {
    boolean revoked = grid.query(dsl -> new KeyStore(dsl).revoke(ApiKeys.id(key)));
    assertThat(revoked).isTrue();
  }

  @Test
  void revokedWorkerKeyEndsItsStreamAndItsJobsGoBackToTheQueue() throws Exception {
    String farmKey = grid.coordinator().createKey(Role.WORKER, "farm-revoked");
    var client = grid.client("rev-client");
    Job job = client.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"t-revoked\"}").build()).getJob();
    try (TestWorker w = TestWorker.connect(grid.coordinator().grpcPort(), farmKey, "w-revoked", List.of("t-revoked"),
        List.of())) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(job.getJobId());

      long revokedAt = System.nanoTime();
      revoke(farmKey);
      Status status = w.closed().get(10, TimeUnit.SECONDS);
      long tookMs = (System.nanoTime() - revokedAt) / 1_000_000;
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(status.getDescription()).contains("revoked");
      // Within the revocation delay (plus a check's own time on a busy machine).
      assertThat(tookMs).isLessThan(DELAY.toMillis() * 2 + 2_000);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> grid.query(dsl -> dsl.select(JOB.STATE).from(JOB)
        .where(JOB.JOB_ID.eq(JobIds.parse(job.getJobId()).orElseThrow())).fetchOne(r -> r.value1()))
        == JobState.QUEUED);
    // The revoked key cannot open a new stream either (once the cache's answer has aged).
    Thread.sleep(DELAY.toMillis());
    TestWorker again = TestWorker.open(grid.coordinator().grpcPort(), farmKey);
    again.heartbeat();
    assertThat(again.closed().get(10, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    again.close();
  }

  @Test
  void revokedClientKeyEndsItsWatchesAndItsCalls() throws Exception {
    String key = grid.clientKey("watcher");
    var client = grid.clientWithKey(key);
    Job job = client.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"t-nobody-runs\"}").build())
        .getJob();
    Watcher watcher = Watcher.watch(grid.asyncClient(key), job.getJobId());
    await().atMost(Duration.ofSeconds(10)).until(() -> !watcher.received().isEmpty());

    revoke(key);
    Status status = watcher.ended().get(10, TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThatThrownBy(() -> client.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED)));
  }
}
