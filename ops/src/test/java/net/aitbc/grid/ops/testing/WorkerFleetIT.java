package net.aitbc.grid.ops.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.worker.WorkerNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The swarm tests' fleet on a real coordinator: three real workers, one byzantine. The same
 * embedding job, pinned to each worker by region, comes back identical from the honest two and
 * turned to cosine 0.95 (unit length, 384 numbers) from the byzantine one; a killed node stops.
 */
class WorkerFleetIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PAYLOAD = "{\"type\":\"embedding\",\"prompt\":\"swarms reach consensus\"}";

  private static TestDatabase db;
  private static Coordinator coordinator;
  private static ManagedChannel channel;
  private static JobServiceBlockingStub client;
  private static WorkerFleet fleet;

  @BeforeAll
  static void start() {
    db = TestDatabase.create();
    coordinator = Coordinator.start(TestConfigs.coordinator(db.url()));
    channel = GrpcClients.channel(coordinator.grpcPort());
    client = GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), coordinator.createKey(Role.CLIENT, "c"));
    WorkerFleet.Builder builder = WorkerFleet.builder(coordinator).workers(3).byzantine("fleet-worker-3")
        .swarms("embedding-eu");
    // A region each, so that a job can be sent to one worker (the swarm engine chooses its own).
    for (int i = 1; i <= 3; i++) {
      String region = "r" + i;
      builder.configure("fleet-worker-" + i, c -> c.region(region));
    }
    fleet = builder.start();
  }

  @AfterAll
  static void stop() {
    if (fleet != null) {
      fleet.close();
    }
    channel.shutdownNow();
    coordinator.close();
    db.close();
  }

  private static GetJobResultResponse runOn(String region) {
    Job job = client.createJob(CreateJobRequest.newBuilder().setPayloadJson(PAYLOAD)
        .setConstraints(Constraints.newBuilder().setRegion(region)).build()).getJob();
    await().atMost(30, TimeUnit.SECONDS).until(() ->
        client.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getState()
            == JobState.JOB_STATE_COMPLETED);
    return client.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build());
  }

  private static double[] vector(GetJobResultResponse r) throws Exception {
    JsonNode a = JSON.readTree(r.getResultJson()).get("embedding");
    double[] v = new double[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).asDouble();
    }
    return v;
  }

  @Test
  void theByzantineWorkerTurnsItsEmbeddingsAndTheHonestOnesAgree() throws Exception {
    assertThat(fleet.ids()).containsExactly("fleet-worker-1", "fleet-worker-2", "fleet-worker-3");
    assertThat(fleet.byzantineIds()).containsExactly("fleet-worker-3");
    assertThat(fleet.honestIds()).containsExactly("fleet-worker-1", "fleet-worker-2");
    assertThat(fleet.nodes()).allSatisfy(n -> assertThat(n.config().swarms()).containsExactly("embedding-eu"));
    assertThat(fleet.nodes()).extracting(n -> n.config().stateDir()).doesNotHaveDuplicates();

    Map<String, double[]> byWorker = new LinkedHashMap<>();
    for (int i = 1; i <= 3; i++) {
      GetJobResultResponse r = runOn("r" + i);
      assertThat(r.getJob().getWorkerId()).isEqualTo("fleet-worker-" + i);
      assertThat(JSON.readTree(r.getJob().getMetricsJson()).get("backend").asText()).isEqualTo("embedded");
      byWorker.put(r.getJob().getWorkerId(), vector(r));
    }
    double[] honest = byWorker.get("fleet-worker-1");
    double[] byzantine = byWorker.get("fleet-worker-3");
    assertThat(byWorker.get("fleet-worker-2")).isEqualTo(honest);
    assertThat(byzantine).hasSize(384);
    assertThat(PerturbingBackend.cosine(honest, byzantine)).isCloseTo(0.95, within(1e-4));
    assertThat(Math.sqrt(norm2(byzantine))).isCloseTo(1, within(1e-4));
    assertThat(fleet.perturbing("fleet-worker-3").perturbed()).isEqualTo(1);
    System.out.printf("[WorkerFleetIT] cosine(honest, byzantine) = %.6f%n", PerturbingBackend.cosine(honest, byzantine));
  }

  private static double norm2(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return s;
  }

  @Test
  void aKilledNodeStopsAndTheOthersStay() throws Exception {
    try (WorkerFleet small = WorkerFleet.builder(coordinator).idPrefix("short-lived").workers(2).start()) {
      WorkerNode doomed = small.node("short-lived-1");
      small.kill("short-lived-1");
      assertThat(doomed.isTerminated()).isTrue();
      assertThat(small.node("short-lived-2").isRegistered()).isTrue();
      assertThat(Set.copyOf(small.ids())).containsExactlyInAnyOrder("short-lived-1", "short-lived-2");
    }
    assertThat(fleet.nodes()).allSatisfy(n -> assertThat(n.isRegistered()).isTrue());
  }
}
