package net.aitbc.grid.coordinator.scheduler;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.ListJobsRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Admission is exact under concurrency, and an idempotent retry is never refused nor counted twice. */
class AdmissionIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static CreateJobRequest job(String type, String requestId) {
    CreateJobRequest.Builder b = CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}");
    return requestId == null ? b.build() : b.setRequestId(requestId).build();
  }

  private static Status.Code code(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void concurrentSubmissionsNeverOvershootTheQueueCap() throws Exception {
    String key = grid.coordinator().createKey(net.aitbc.grid.coordinator.auth.Role.CLIENT, "capped-burst",
        new KeyLimits(1, 0.0, null, 5));
    var async = grid.asyncClient(key);
    List<CompletableFuture<Status.Code>> answers = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      CompletableFuture<Status.Code> f = new CompletableFuture<>();
      async.createJob(job("t-cap-burst", null), new io.grpc.stub.StreamObserver<CreateJobResponse>() {
        @Override
        public void onNext(CreateJobResponse value) {
          f.complete(Status.Code.OK);
        }

        @Override
        public void onError(Throwable t) {
          f.complete(Status.fromThrowable(t).getCode());
        }

        @Override
        public void onCompleted() {}
      });
      answers.add(f);
    }
    long ok = 0;
    for (CompletableFuture<Status.Code> f : answers) {
      Status.Code c = f.get(30, TimeUnit.SECONDS);
      assertThat(c).isIn(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED);
      ok += c == Status.Code.OK ? 1 : 0;
    }
    assertThat(ok).isEqualTo(5);
  }

  @Test
  void aRetryOfAStoredJobGetsItBackAtTheQueueCap() {
    JobServiceBlockingStub c = grid.client("capped-retry", new KeyLimits(1, 0.0, null, 2));
    Job first = c.createJob(job("t-cap-retry", "r1")).getJob();
    c.createJob(job("t-cap-retry", "r2"));
    assertThat(code(() -> c.createJob(job("t-cap-retry", "r3")))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    CreateJobResponse again = c.createJob(job("t-cap-retry", "r1"));
    assertThat(again.getExisting()).isTrue();
    assertThat(again.getJob().getJobId()).isEqualTo(first.getJobId());
  }

  @Test
  void aRetryOfAStoredJobGetsItBackAtTheRateLimit() {
    JobServiceBlockingStub c = grid.client("rated-retry", new KeyLimits(1, 0.5, 1, null));
    Job first = c.createJob(job("t-rate-retry", "once")).getJob();
    assertThat(code(() -> c.createJob(job("t-rate-retry", null)))).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    CreateJobResponse again = c.createJob(job("t-rate-retry", "once"));
    assertThat(again.getExisting()).isTrue();
    assertThat(again.getJob().getJobId()).isEqualTo(first.getJobId());
  }

  @Test
  void aRetryDoesNotAdvanceTheClientsFairShareClock() {
    JobServiceBlockingStub c = grid.client("fair-retry");
    Job a = c.createJob(job("t-fair-retry", "a")).getJob();
    for (int i = 0; i < 3; i++) {
      assertThat(c.createJob(job("t-fair-retry", "a")).getExisting()).isTrue();
    }
    Job b = c.createJob(job("t-fair-retry", "b")).getJob();
    // Weight 1: each stored job moves the clock by exactly 1; the retries moved it by nothing.
    assertThat(fairTag(b) - fairTag(a)).isEqualTo(1.0);
  }

  private static double fairTag(Job job) {
    return grid.query(dsl -> dsl.select(JOB.FAIR_TAG).from(JOB)
        .where(JOB.JOB_ID.eq(JobIds.parse(job.getJobId()).orElseThrow())).fetchOne(r -> r.value1()));
  }

  @Test
  void aKeyWithARateButNoBurstGetsABurstOfItsRate() {
    JobServiceBlockingStub c = grid.client("rate-no-burst", new KeyLimits(1, 2.0, null, null));
    c.createJob(job("t-no-burst", null));
    c.createJob(job("t-no-burst", null));
    assertThatThrownBy(() -> c.createJob(job("t-no-burst", null)))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
  }

  @Test
  void everyJobServiceMethodIsRateLimited() {
    JobServiceBlockingStub c = grid.client("rated-reads", new KeyLimits(1, 0.5, 1, null));
    Job job = c.createJob(job("t-rated-reads", null)).getJob();
    c.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build());
    assertThatThrownBy(() -> c.listJobs(ListJobsRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription()).contains("rate limit of 0.5 calls per second");
        });
  }
}
