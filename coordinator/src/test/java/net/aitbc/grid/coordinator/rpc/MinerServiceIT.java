package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestMiner;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.DeregisterMinerRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListMinerJobsRequest;
import net.aitbc.grid.v1.MinerJob;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * MinerService over real gRPC and PostgreSQL: a miner's session is a scheduler session (matching,
 * concurrency, leases, fencing), and a poll is a long poll. Each test uses its own job type.
 */
class MinerServiceIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JobServiceBlockingStub client = grid.client("miner-it-client");

  private Job submit(String type) {
    return submit(type, Constraints.getDefaultInstance());
  }

  private Job submit(String type, Constraints constraints) {
    return client.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\",\"prompt\":\"hi\"}")
        .setConstraints(constraints).build()).getJob();
  }

  private Job job(String id) {
    return client.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getJob();
  }

  private TestMiner miner(String id) {
    return new TestMiner(grid.channel(), grid.workerKey(), id);
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
  void aMinerTakesAJobAndCompletesItWithAReceipt() throws Exception {
    TestMiner m = miner("m-basic");
    var registered = m.register("t-basic");
    assertThat(registered.getSessionToken()).matches("[0-9a-f]{32}");
    assertThat(registered.getMaxPollWait().getSeconds()).isEqualTo(2);
    Job job = submit("t-basic");
    MinerJob got = m.poll(Duration.ofSeconds(2)).orElseThrow();
    assertThat(got.getJobId()).isEqualTo(job.getJobId());
    assertThat(got.getAttempt()).isEqualTo(1);
    assertThat(JSON.readTree(got.getPayloadJson()).get("prompt").asText()).isEqualTo("hi");
    assertThat(job(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_RUNNING);

    var done = m.complete(job.getJobId(), "{\"output\":\"Processed job " + job.getJobId() + "\"}");
    assertThat(done.getAttempt()).isEqualTo(1);
    JsonNode receipt = JSON.readTree(done.getReceiptJson());
    assertThat(receipt.get("provider").asText()).isEqualTo("m-basic");
    // No worker signature: a REST miner has no key.
    assertThat(receipt.get("metadata").has("worker")).isFalse();
    assertThat(Receipts.check((ObjectNode) receipt, TestConfigs.SIGNING_KEY.verifyingKey())).isEmpty();

    Job finished = job(job.getJobId());
    assertThat(finished.getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    assertThat(finished.getWorkerId()).isEqualTo("m-basic");
    var result = client.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build());
    assertThat(JSON.readTree(result.getResultJson()).get("output").asText()).startsWith("Processed job");
    // A repeated result gets the first one's answer.
    assertThat(m.complete(job.getJobId(), "{\"output\":\"again\"}").getJobId()).isEqualTo(job.getJobId());
  }

  @Test
  void aLongPollIsWokenByANewJobWithin100Ms() throws Exception {
    TestMiner m = miner("m-wake");
    m.register("t-wake");
    for (int round = 0; round < 3; round++) {
      CompletableFuture<Optional<MinerJob>> poll = CompletableFuture.supplyAsync(() -> m.poll(Duration.ofSeconds(2)));
      Thread.sleep(300);
      assertThat(poll).isNotDone();
      Job job = submit("t-wake");
      long acked = System.nanoTime();
      MinerJob got = poll.get().orElseThrow();
      long wokenMs = (System.nanoTime() - acked) / 1_000_000;
      assertThat(got.getJobId()).isEqualTo(job.getJobId());
      assertThat(wokenMs).as("ms from the job's acknowledgement to the poll's answer").isLessThan(100);
      m.complete(got.getJobId(), "{}");
    }
  }

  @Test
  void aPollWithNothingAnswersEmptyAfterItsWaitCappedBelowTheLease() {
    TestMiner m = miner("m-empty");
    m.register("t-empty");
    long start = System.nanoTime();
    assertThat(m.poll(Duration.ofMillis(300))).isEmpty();
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(250L, 2_000L);
    start = System.nanoTime();
    // 60 s asked, 2 s (lease 3 s less the heartbeat interval) waited.
    assertThat(m.poll(Duration.ofSeconds(60))).isEmpty();
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(1_800L, 3_500L);
  }

  @Test
  void twoMinersUnderOneKeyAreTwoSessionsEachHeldToItsConcurrency() {
    TestMiner a = miner("m-two-a");
    TestMiner b = miner("m-two-b");
    String tokenA = a.register("t-two").getSessionToken();
    String tokenB = b.register("t-two").getSessionToken();
    assertThat(tokenA).isNotEqualTo(tokenB);
    Job first = submit("t-two");
    Job second = submit("t-two");
    MinerJob gotA = a.poll(Duration.ofSeconds(2)).orElseThrow();
    // a holds one job, its concurrency: it gets no second one, and b gets it.
    assertThat(a.poll(Duration.ofMillis(300))).isEmpty();
    MinerJob gotB = b.poll(Duration.ofSeconds(2)).orElseThrow();
    assertThat(List.of(gotA.getJobId(), gotB.getJobId())).containsExactlyInAnyOrder(first.getJobId(),
        second.getJobId());
    // A miner cannot end another's job; nor can another owner's miner of the same name.
    assertThatThrownBy(() -> b.complete(gotA.getJobId(), "{}"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains("m-two-b does not hold job").contains("another worker");
        });
    TestMiner impostor = new TestMiner(grid.channel(), grid.coordinator().createKey(Role.WORKER, "other-owner"),
        "m-two-a");
    impostor.register("t-two");
    assertThat(code(() -> impostor.complete(gotA.getJobId(), "{}"))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    a.complete(gotA.getJobId(), "{}");
    b.complete(gotB.getJobId(), "{}");
    assertThat(job(first.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    assertThat(job(second.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
  }

  @Test
  void aCanceledJobTakesNoResult() {
    TestMiner m = miner("m-cancel");
    m.register("t-cancel");
    Job job = submit("t-cancel");
    MinerJob got = m.poll(Duration.ofSeconds(2)).orElseThrow();
    client.cancelJob(CancelJobRequest.newBuilder().setJobId(job.getJobId()).build());
    assertThatThrownBy(() -> m.complete(got.getJobId(), "{}"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains("CANCELED");
        });
    assertThat(job(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_CANCELED);
    assertThat(code(() -> m.complete("00000000000000000000000000000abc", "{}"))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> m.complete("not-a-job", "{}"))).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void aSilentMinersJobGoesBackToTheQueueAfterItsLease() {
    TestMiner silent = miner("m-silent");
    silent.register("t-silent");
    Job job = submit("t-silent");
    MinerJob got = silent.poll(Duration.ofSeconds(2)).orElseThrow();
    // Nothing more from it: after its 3 s lease the sweeper ends its session and requeues the job.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(job(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_QUEUED));
    TestMiner other = miner("m-silent-other");
    other.register("t-silent");
    MinerJob retry = other.poll(Duration.ofSeconds(2)).orElseThrow();
    assertThat(retry.getJobId()).isEqualTo(job.getJobId());
    assertThat(retry.getAttempt()).isEqualTo(2);
    // The silent miner comes back: a new session, but its old attempt is fenced off.
    assertThat(code(() -> silent.complete(got.getJobId(), "{}"))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    other.complete(retry.getJobId(), "{}");
    assertThat(job(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
  }

  @Test
  void aGpuJobGoesToTheMinerWithThatGpuOnly() {
    TestMiner plain = miner("m-cpu");
    TestMiner rtx = miner("m-rtx");
    plain.register("t-gpu");
    rtx.register(TestMiner.gpu("RTX4090", 24, "t-gpu"));
    Job job = submit("t-gpu", Constraints.newBuilder().setGpu("NVIDIA GeForce RTX 4090").setMinVramGb(24).build());
    assertThat(plain.poll(Duration.ofMillis(500))).isEmpty();
    MinerJob got = rtx.poll(Duration.ofSeconds(2)).orElseThrow();
    assertThat(got.getJobId()).isEqualTo(job.getJobId());
    assertThat(got.getConstraints().getGpu()).isEqualTo("rtx4090");
    assertThat(got.getConstraints().getMinVramGb()).isEqualTo(24);
    rtx.complete(got.getJobId(), "{}");
    // Too little memory: a 24 GB job waits for a miner with more.
    Job big = submit("t-gpu", Constraints.newBuilder().setGpu("RTX 4090").setMinVramGb(48).build());
    assertThat(rtx.poll(Duration.ofMillis(500))).isEmpty();
    client.cancelJob(CancelJobRequest.newBuilder().setJobId(big.getJobId()).build());
  }

  @Test
  void failuresAreRetriedOrFinalAndFreeTheSlot() {
    TestMiner m = miner("m-fail");
    m.register("t-fail");
    Job job = submit("t-fail");
    MinerJob first = m.poll(Duration.ofSeconds(2)).orElseThrow();
    assertThat(m.fail(first.getJobId(), "backend down", true).getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
    MinerJob second = m.poll(Duration.ofSeconds(2)).orElseThrow();
    assertThat(second.getJobId()).isEqualTo(job.getJobId());
    assertThat(second.getAttempt()).isEqualTo(2);
    assertThat(m.fail(second.getJobId(), "bad prompt", false).getState()).isEqualTo(JobState.JOB_STATE_FAILED);
    Job failed = job(job.getJobId());
    assertThat(failed.getState()).isEqualTo(JobState.JOB_STATE_FAILED);
    assertThat(failed.getError()).isEqualTo("TEST_FAILED: bad prompt");
  }

  @Test
  void deregisteringHandsTheJobsBack() {
    TestMiner m = miner("m-dereg");
    m.register("t-dereg");
    Job job = submit("t-dereg");
    m.poll(Duration.ofSeconds(2)).orElseThrow();
    var returned = m.stub().deregisterMiner(DeregisterMinerRequest.newBuilder().setMinerId("m-dereg").build());
    assertThat(returned.getJobsReturned()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(job(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_QUEUED));
    assertThat(code(m::heartbeat)).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> m.poll(Duration.ZERO))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> m.stub().deregisterMiner(DeregisterMinerRequest.newBuilder().setMinerId("m-dereg").build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    client.cancelJob(CancelJobRequest.newBuilder().setJobId(job.getJobId()).build());
  }

  @Test
  void newCapabilitiesOpenANewSessionAndTheOldOneFinishesWhatItHolds() {
    TestMiner m = miner("m-update");
    String before = m.register("t-update").getSessionToken();
    assertThat(m.register("t-update").getChanged()).isFalse();
    Job job = submit("t-update");
    MinerJob held = m.poll(Duration.ofSeconds(2)).orElseThrow();
    var after = m.register(TestMiner.gpu("H100", 80, "t-update"));
    assertThat(after.getChanged()).isTrue();
    assertThat(after.getSessionToken()).isNotEqualTo(before);
    // The old session still ends the job it held.
    m.complete(held.getJobId(), "{}");
    assertThat(job(job.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    Job gpuJob = submit("t-update", Constraints.newBuilder().setGpu("H100").build());
    assertThat(m.poll(Duration.ofSeconds(2)).orElseThrow().getJobId()).isEqualTo(gpuJob.getJobId());
    m.complete(gpuJob.getJobId(), "{}");
    var listed = m.stub().listMinerJobs(ListMinerJobsRequest.newBuilder().setMinerId("m-update").build());
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(m.stub()
        .listMinerJobs(ListMinerJobsRequest.newBuilder().setMinerId("m-update").build()).getJobsList())
        .extracting(Job::getJobId).containsExactly(gpuJob.getJobId(), job.getJobId()));
    assertThat(listed).isNotNull();
    var completedOnly = m.stub().listMinerJobs(ListMinerJobsRequest.newBuilder().setMinerId("m-update")
        .addStates(JobState.JOB_STATE_FAILED).build());
    assertThat(completedOnly.getJobsList()).isEmpty();
  }

  @Test
  void streamWorkersAndMinersShareOneQueue() throws Exception {
    TestMiner m = miner("m-shared");
    m.register("t-shared");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(submit("t-shared").getJobId());
    }
    List<String> done = new ArrayList<>();
    try (TestWorker w = grid.worker("w-shared", "t-shared")) {
      for (int i = 0; i < 3; i++) {
        MinerJob byMiner = m.poll(Duration.ofSeconds(2)).orElseThrow();
        m.complete(byMiner.getJobId(), "{}");
        done.add(byMiner.getJobId());
        w.credit(1);
        var a = w.nextAssignment();
        w.complete(a.getJobId(), a.getAttempt(), "{}");
        w.next();
        done.add(a.getJobId());
      }
    }
    assertThat(done).containsExactlyInAnyOrderElementsOf(ids);
  }

  @Test
  void badInputIsRefusedNamingTheField() {
    TestMiner m = miner("m-bad");
    assertThatThrownBy(() -> miner("").register("t"))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("miner_id");
    assertThatThrownBy(() -> m.register(WorkerCapabilities.newBuilder().setConcurrency(1000).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("capabilities.concurrency");
    m.register("t-bad");
    Job job = submit("t-bad");
    MinerJob got = m.poll(Duration.ofSeconds(2)).orElseThrow();
    assertThatThrownBy(() -> m.complete(got.getJobId(), "[1,2]"))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("result must be a JSON object");
    // A client key is no worker key.
    TestMiner asClient = new TestMiner(grid.channel(), grid.clientKey("not-a-worker"), "m-bad");
    assertThat(code(asClient::heartbeat)).isEqualTo(Status.Code.PERMISSION_DENIED);
    m.complete(job.getJobId(), "{}");
  }
}
