package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListJobsRequest;
import net.aitbc.grid.v1.ListJobsResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The client API over real gRPC and real PostgreSQL. */
class JobServiceIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();
  private static JobServiceBlockingStub alice;
  private static JobServiceBlockingStub bob;

  @BeforeAll
  static void clients() {
    alice = grid.client("alice");
    bob = grid.client("bob");
  }

  private static CreateJobRequest request(String payload) {
    return CreateJobRequest.newBuilder().setPayloadJson(payload).build();
  }

  @Test
  void createdJobIsQueuedAndReadableByItsOwnerOnly() {
    Job job = alice.createJob(request("{\"type\":\"nobody-runs-this\",\"prompt\":\"hi\",\"model\":\"M1\"}")).getJob();

    assertThat(job.getJobId()).matches("[0-9a-f]{32}");
    assertThat(job.getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
    assertThat(job.getType()).isEqualTo("nobody-runs-this");
    assertThat(job.getModel()).isEqualTo("m1");
    assertThat(job.getClientId()).isEqualTo("alice");
    assertThat(job.getPriority()).isEqualTo(5);
    assertThat(job.getExpireTime().getSeconds() - job.getCreateTime().getSeconds()).isEqualTo(900);

    Job read = alice.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob();
    assertThat(read.getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
    assertThat(read.getPayloadJson()).contains("\"prompt\": \"hi\"");
    assertThat(read.getWaitingFor()).isEqualTo("a worker that runs nobody-runs-this with model m1");

    assertThatThrownBy(() -> bob.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void payloadNumbersAreStoredAsWritten() {
    Job job = alice.createJob(request("{\"type\":\"exact\",\"x\":1.50,\"f\":0.1000000000000000000001,\"n\":100}"))
        .getJob();
    String stored = alice.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getPayloadJson();
    assertThat(stored).contains("\"x\": 1.50", "\"f\": 0.1000000000000000000001", "\"n\": 100");
  }

  @Test
  void sameRequestIdReturnsTheSameJob() {
    CreateJobRequest r = request("{\"type\":\"idem\"}").toBuilder().setRequestId("req-1").build();
    CreateJobResponse first = alice.createJob(r);
    CreateJobResponse second = alice.createJob(r);

    assertThat(first.getExisting()).isFalse();
    assertThat(second.getExisting()).isTrue();
    assertThat(second.getJob().getJobId()).isEqualTo(first.getJob().getJobId());
    // Another client's identical request id is its own job.
    assertThat(bob.createJob(r).getJob().getJobId()).isNotEqualTo(first.getJob().getJobId());
  }

  @Test
  void priorityAndTtlComeFromTheRequestOrThePayload() {
    Job named = alice.createJob(request("{\"type\":\"prio\",\"priority\":\"high\"}")).getJob();
    Job numbered = alice.createJob(request("{\"type\":\"prio\"}").toBuilder().setPriority(1)
        .setTtl(Duration.newBuilder().setSeconds(60)).build()).getJob();
    Job tiny = alice.createJob(request("{\"type\":\"prio\"}").toBuilder()
        .setTtl(Duration.newBuilder().setSeconds(-5)).build()).getJob();

    assertThat(named.getPriority()).isEqualTo(8);
    assertThat(numbered.getPriority()).isEqualTo(1);
    assertThat(numbered.getExpireTime().getSeconds() - numbered.getCreateTime().getSeconds()).isEqualTo(60);
    assertThat(tiny.getExpireTime().getSeconds() - tiny.getCreateTime().getSeconds()).isBetween(0L, 1L);
  }

  @Test
  void badRequestsAreInvalidArgumentsThatSayWhatIsWrong() {
    record Case(CreateJobRequest request, String message) {}
    List<Case> cases = List.of(
        new Case(request(""), "payload_json is required"),
        new Case(request("{\"type\":"), "payload_json is not valid JSON"),
        new Case(request("[1,2]"), "payload_json must be a JSON object"),
        new Case(request("{\"type\":42}"), "payload.type must be a string"),
        new Case(request("{\"type\":\"has space\"}"), "job type 'has space' is not valid"),
        new Case(request("{\"model\":[]}"), "payload.model must be a string"),
        new Case(request("{\"priority\":\"urgent\"}"), "payload.priority must be"),
        new Case(request("{\"a\":1,\"a\":2}"), "Duplicate field"),
        new Case(request("{\"prompt\":\"nul\\u0000\"}"), "NUL"),
        new Case(request("{}").toBuilder().setPriority(10).build(), "priority must be between 0 and 9"),
        new Case(request("{}").toBuilder().setMaxAttempts(-1).build(), "max_attempts"),
        new Case(request("{}").toBuilder().setTtl(Duration.newBuilder().setSeconds(100L * 86400)).build(), "ttl"));
    for (Case c : cases) {
      assertThatThrownBy(() -> alice.createJob(c.request()))
          .as(c.message())
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(c.message());
          });
    }
    assertThatThrownBy(() -> alice.getJob(GetJobRequest.newBuilder().setJobId("../etc/passwd").build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getDescription()).contains("32 hex characters"));
    assertThatThrownBy(() -> alice.listJobs(ListJobsRequest.newBuilder().setPageToken("garbage!").build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void keysAreCheckedAndRolesKeptApart() {
    JobServiceBlockingStub anonymous = JobServiceGrpc.newBlockingStub(grid.channel());
    JobServiceBlockingStub stranger = grid.clientWithKey("aitbc_c_nope");
    JobServiceBlockingStub worker = grid.clientWithKey(grid.workerKey());
    CreateJobRequest r = request("{}");

    assertThatThrownBy(() -> anonymous.createJob(r))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    assertThatThrownBy(() -> stranger.createJob(r))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getDescription()).isEqualTo("invalid api key"));
    assertThatThrownBy(() -> worker.createJob(r))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));

    String clientKey = grid.coordinator().createKey(Role.CLIENT, "carol");
    try (TestWorker asClient = TestWorker.open(grid.coordinator().grpcPort(), clientKey)) {
      assertThat(asClient.closed().join().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  @Test
  void listIsNewestFirstWithFiltersAndPages() {
    JobServiceBlockingStub dave = grid.client("dave");
    for (int i = 0; i < 5; i++) {
      dave.createJob(request("{\"type\":\"" + (i % 2 == 0 ? "even" : "odd") + "\",\"n\":" + i + "}"));
    }
    Job canceled = dave.createJob(request("{\"type\":\"odd\"}")).getJob();
    dave.cancelJob(CancelJobRequest.newBuilder().setJobId(canceled.getJobId()).build());

    ListJobsResponse all = dave.listJobs(ListJobsRequest.getDefaultInstance());
    assertThat(all.getJobsList()).hasSize(6);
    assertThat(all.getJobs(0).getJobId()).isEqualTo(canceled.getJobId());
    assertThat(all.getJobs(0).getPayloadJson()).isEmpty();

    assertThat(dave.listJobs(ListJobsRequest.newBuilder().setType("even").build()).getJobsList()).hasSize(3);
    assertThat(dave.listJobs(ListJobsRequest.newBuilder().addStates(JobState.JOB_STATE_CANCELED).build())
        .getJobsList()).extracting(Job::getJobId).containsExactly(canceled.getJobId());

    ListJobsResponse page1 = dave.listJobs(ListJobsRequest.newBuilder().setPageSize(4).build());
    ListJobsResponse page2 = dave.listJobs(ListJobsRequest.newBuilder().setPageSize(4)
        .setPageToken(page1.getNextPageToken()).build());
    assertThat(page1.getJobsList()).hasSize(4);
    assertThat(page2.getJobsList()).hasSize(2);
    assertThat(page2.getNextPageToken()).isEmpty();
    assertThat(dave.listJobs(ListJobsRequest.newBuilder().setSkip(5).build()).getJobsList()).hasSize(1);

    var future = com.google.protobuf.Timestamp.newBuilder().setSeconds(java.time.Instant.now().getEpochSecond() + 60).build();
    assertThat(dave.listJobs(ListJobsRequest.newBuilder().setCreateTimeFrom(future).build()).getJobsList()).isEmpty();
    assertThat(dave.listJobs(ListJobsRequest.newBuilder().setCreateTimeTo(future).build()).getJobsList()).hasSize(6);
  }

  @Test
  void queuedJobCancelsOnceAndHasNoResult() {
    Job job = alice.createJob(request("{\"type\":\"cancel-me\"}")).getJob();
    assertThatThrownBy(() -> alice.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));

    Job canceled = alice.cancelJob(CancelJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob();
    assertThat(canceled.getState()).isEqualTo(JobState.JOB_STATE_CANCELED);
    assertThat(canceled.getError()).isEqualTo("canceled by client");

    assertThatThrownBy(() -> alice.cancelJob(CancelJobRequest.newBuilder().setJobId(job.getJobId()).build()))
        .satisfies(e -> {
          assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(Status.fromThrowable(e).getDescription()).contains("CANCELED");
        });
    var result = alice.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build());
    assertThat(result.getJob().getState()).isEqualTo(JobState.JOB_STATE_CANCELED);
    assertThat(result.getResultJson()).isEmpty();
  }
}
