package net.aitbc.grid.coordinator.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Duration;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Gpu;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who gets a worker first: priorities, fair share between clients by weight, constraints matched
 * against what workers offer, and admission (rate limits and queue caps). Each test uses its own
 * job type so that its workers see only its jobs.
 */
class SchedulingIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static JobServiceBlockingStub client(String clientId, KeyLimits limits) {
    return grid.client(clientId, limits);
  }

  private static Job submit(JobServiceBlockingStub client, String payload) {
    return client.createJob(CreateJobRequest.newBuilder().setPayloadJson(payload).build()).getJob();
  }

  private static List<String> flood(JobServiceBlockingStub client, String type, int count) throws Exception {
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<String>> ids = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ids.add(pool.submit(() -> submit(client, "{\"type\":\"" + type + "\"}").getJobId()));
      }
      List<String> out = new ArrayList<>();
      for (Future<String> f : ids) {
        out.add(f.get());
      }
      return out;
    }
  }

  /** Takes one job at a time and completes it, as a worker with one slot does. */
  private static Assignment runOne(TestWorker w) {
    w.credit(1);
    Assignment a = w.nextAssignment();
    w.complete(a.getJobId(), a.getAttempt(), "{}");
    w.next(); // the OutcomeAck
    return a;
  }

  @Test
  void oneJobOfAnIdleClientOvertakesAFloodOfAnother() throws Exception {
    JobServiceBlockingStub flooder = client("flooder", KeyLimits.DEFAULT);
    JobServiceBlockingStub modest = client("modest", KeyLimits.DEFAULT);
    flood(flooder, "t-fair", 2000);
    try (TestWorker w = grid.worker("w-fair", "t-fair")) {
      for (int i = 0; i < 50; i++) {
        runOne(w);
      }
      String single = submit(modest, "{\"type\":\"t-fair\"}").getJobId();
      int before = 0;
      while (!runOne(w).getJobId().equals(single)) {
        before++;
      }
      // Fair share: behind at most the flooder's job at the front of the queue.
      assertThat(before).isLessThanOrEqualTo(1);
    }
  }

  @Test
  void aNewcomerOvertakesAFloodAlsoWhileOtherTypesKeepWorkersBusy() throws Exception {
    // The other type's lane moves hundreds of tags ahead; the newcomer competes only in its own.
    assertNewcomerOvertakes("t-lane-type", "t-lane-busy", "");
  }

  @Test
  void aNewcomerOvertakesAFloodAlsoWhileHigherPrioritiesKeepWorkersBusy() throws Exception {
    assertNewcomerOvertakes("t-lane-prio", "t-lane-prio", ",\"priority\":9");
  }

  private static void assertNewcomerOvertakes(String type, String busyType, String busyExtra) throws Exception {
    JobServiceBlockingStub flooder = client(type + "-flooder", KeyLimits.DEFAULT);
    JobServiceBlockingStub busy = client(type + "-busy", KeyLimits.DEFAULT);
    JobServiceBlockingStub newcomer = client(type + "-newcomer", KeyLimits.DEFAULT);
    flood(flooder, type, 200);
    try (TestWorker w = grid.worker("w-" + type, type);
         TestWorker other = type.equals(busyType) ? null : grid.worker("w-" + busyType, busyType)) {
      for (int i = 0; i < 5; i++) {
        runOne(w);
      }
      TestWorker busyWorker = other == null ? w : other;
      for (int i = 0; i < 300; i++) {
        submit(busy, "{\"type\":\"" + busyType + "\"" + busyExtra + "}");
        runOne(busyWorker);
        w.heartbeat();
      }
      String single = submit(newcomer, "{\"type\":\"" + type + "\"}").getJobId();
      int before = 0;
      while (!runOne(w).getJobId().equals(single)) {
        before++;
      }
      assertThat(before).isLessThanOrEqualTo(1);
    }
  }

  @Test
  void gpuConstraintsMatchModelsExactlyNeverBySubstring() {
    JobServiceBlockingStub c = client("gpu-exact", KeyLimits.DEFAULT);
    Job needsA100 = c.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"t-place\"}")
        .setConstraints(Constraints.newBuilder().setGpu("A100")).build()).getJob();
    try (TestWorker a1000 = gpuWorker("w-a1000", "NVIDIA RTX A1000", 8_192, "eu", 1)) {
      a1000.credit(1);
      assertThat(a1000.drainReceivedWithin(java.time.Duration.ofMillis(800))).isEmpty();
      try (TestWorker a100 = gpuWorker("w-a100", "NVIDIA A100-SXM4-80GB", 81_920, "eu", 1)) {
        a100.credit(1);
        assertThat(a100.nextAssignment().getJobId()).isEqualTo(needsA100.getJobId());
      }
    }
  }

  @Test
  void busyClientsShareWorkersByTheirKeysWeights() throws Exception {
    JobServiceBlockingStub heavy = client("heavy", new KeyLimits(3, null, null, null));
    JobServiceBlockingStub light = client("light", new KeyLimits(1, null, null, null));
    List<String> heavyJobs = flood(heavy, "t-weight", 400);
    flood(light, "t-weight", 400);
    try (TestWorker w = grid.worker("w-weight", "t-weight")) {
      int heavyRuns = 0;
      for (int i = 0; i < 200; i++) {
        if (heavyJobs.contains(runOne(w).getJobId())) {
          heavyRuns++;
        }
      }
      assertThat(heavyRuns).isBetween(140, 160);
    }
  }

  @Test
  void higherPriorityRunsFirst() {
    JobServiceBlockingStub c = client("prio", KeyLimits.DEFAULT);
    String low = submit(c, "{\"type\":\"t-prio\",\"priority\":\"low\"}").getJobId();
    String normal = submit(c, "{\"type\":\"t-prio\"}").getJobId();
    String high = submit(c, "{\"type\":\"t-prio\",\"priority\":9}").getJobId();
    try (TestWorker w = grid.worker("w-prio", "t-prio")) {
      assertThat(List.of(runOne(w).getJobId(), runOne(w).getJobId(), runOne(w).getJobId()))
          .containsExactly(high, normal, low);
    }
  }

  private static TestWorker gpuWorker(String id, String gpu, long memoryMb, String region, double price) {
    return TestWorker.connect(grid.coordinator().grpcPort(), grid.workerKey(), Register.newBuilder().setWorkerId(id)
        .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes("t-place").addModels("llama3").setConcurrency(1)
            .addGpus(Gpu.newBuilder().setModel(gpu).setMemoryMb(memoryMb)).setRegion(region).setPrice(price)
            .setCuda("12.4"))
        .build());
  }

  @Test
  void jobsGoOnlyToWorkersThatMeetTheirConstraints() {
    JobServiceBlockingStub c = client("placer", KeyLimits.DEFAULT);
    Job needsH100 = c.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"t-place\"}")
        .setConstraints(Constraints.newBuilder().setGpu("H100").setMinVramGb(80).setRegion("EU")
            .addModels("Llama3").setCuda("12.0").setMaxPrice(2)).build()).getJob();
    Job anything = submit(c, "{\"type\":\"t-place\"}");
    String waiting = c.getJob(GetJobRequest.newBuilder().setJobId(needsH100.getJobId()).build()).getJob().getWaitingFor();
    assertThat(waiting).isEqualTo("a worker that runs t-place");

    try (TestWorker small = gpuWorker("w-4090", "NVIDIA GeForce RTX 4090", 24_564, "eu", 1)) {
      assertThat(c.getJob(GetJobRequest.newBuilder().setJobId(needsH100.getJobId()).build()).getJob().getWaitingFor())
          .isEqualTo("a worker that runs t-place and offers GPU h100, CUDA 12.0 or newer, at least 80 GB of GPU memory, "
              + "models llama3, region eu, a price of at most 2.0");
      small.credit(5);
      assertThat(small.nextAssignment().getJobId()).isEqualTo(anything.getJobId());
      try (TestWorker pricey = gpuWorker("w-pricey", "NVIDIA H100 80GB HBM3", 81_559, "eu", 5);
           TestWorker wrongRegion = gpuWorker("w-us", "NVIDIA H100 80GB HBM3", 81_559, "us", 1);
           TestWorker right = gpuWorker("w-h100", "NVIDIA H100 80GB HBM3", 81_559, "eu", 1)) {
        pricey.credit(1);
        wrongRegion.credit(1);
        right.credit(1);
        assertThat(right.nextAssignment().getJobId()).isEqualTo(needsH100.getJobId());
        assertThat(pricey.drainReceived()).isEmpty();
        assertThat(wrongRegion.drainReceived()).isEmpty();
      }
    }
  }

  @Test
  void badConstraintsAreInvalidArguments() {
    JobServiceBlockingStub c = client("bad-constraints", KeyLimits.DEFAULT);
    assertThatThrownBy(() -> c.createJob(CreateJobRequest.newBuilder().setPayloadJson("{}")
        .setConstraints(Constraints.newBuilder().setCuda("twelve")).build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getDescription())
            .isEqualTo("constraints.cuda must be a version such as 12.4, not 'twelve'"));
    assertThatThrownBy(() -> c.createJob(CreateJobRequest.newBuilder().setPayloadJson("{}")
        .setConstraints(Constraints.newBuilder().setMinVramGb(-1)).build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void keysOverTheirRateAreToldWhenToRetry() {
    JobServiceBlockingStub c = client("limited", new KeyLimits(1, 2.0, 3, null));
    for (int i = 0; i < 3; i++) {
      submit(c, "{\"type\":\"t-rate\"}");
    }
    assertThatThrownBy(() -> submit(c, "{\"type\":\"t-rate\"}"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
          assertThat(e.getStatus().getDescription()).contains("rate limit of 2.0 submissions per second");
          var retry = StatusProto.fromThrowable(e).getDetailsList().stream()
              .filter(d -> d.is(com.google.rpc.RetryInfo.class)).findFirst().orElseThrow();
          Duration delay = unpack(retry).getRetryDelay();
          assertThat(delay.getSeconds() * 1000 + delay.getNanos() / 1_000_000).isBetween(1L, 500L);
        });
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(3)).ignoreExceptions()
        .until(() -> submit(c, "{\"type\":\"t-rate\"}") != null);
  }

  @Test
  void clientsCannotQueueMoreThanTheirCap() throws Exception {
    JobServiceBlockingStub c = client("capped", new KeyLimits(1, null, null, 5));
    Map<Status.Code, Integer> answers = new HashMap<>();
    for (int i = 0; i < 8; i++) {
      try {
        submit(c, "{\"type\":\"t-cap\"}");
        answers.merge(Status.Code.OK, 1, Integer::sum);
      } catch (StatusRuntimeException e) {
        answers.merge(e.getStatus().getCode(), 1, Integer::sum);
        assertThat(e.getStatus().getDescription()).contains("queued jobs, the most it may have is 5");
      }
    }
    assertThat(answers).containsEntry(Status.Code.OK, 5).containsEntry(Status.Code.RESOURCE_EXHAUSTED, 3);
  }

  private static com.google.rpc.RetryInfo unpack(com.google.protobuf.Any any) {
    try {
      return any.unpack(com.google.rpc.RetryInfo.class);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
