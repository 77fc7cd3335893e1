package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients given several coordinator addresses move to a live one by themselves: a worker whose
 * coordinator stops re-opens its stream on the next address, and {@code grid accounts} skips a dead
 * first address. Both coordinators share one database, as replicas do.
 */
class CoordinatorFailoverIT {
  @TempDir
  static Path stateDir;
  private static TestDatabase db;
  private static Coordinator first;
  private static Coordinator second;
  private static String workerKey;
  private static String clientKey;

  @BeforeAll
  static void start() {
    db = TestDatabase.create();
    first = Coordinator.start(TestConfigs.builder(db.url()).listen("127.0.0.1", 0, -1).build());
    second = Coordinator.start(TestConfigs.builder(db.url()).listen("127.0.0.1", 0, -1).build());
    workerKey = first.createKey(Role.WORKER, "owner");
    clientKey = first.createKey(Role.CLIENT, "c");
  }

  @AfterAll
  static void stop() {
    first.close();
    second.close();
    db.close();
  }

  private static Job runNoop(Coordinator via) {
    ManagedChannel channel = GrpcClients.channel(via.grpcPort());
    try {
      JobServiceBlockingStub client = GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), clientKey);
      Job job = client.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"noop\"}").build()).getJob();
      await().atMost(30, TimeUnit.SECONDS).until(() -> client.getJob(GetJobRequest.newBuilder()
          .setJobId(job.getJobId()).build()).getJob().getState() == JobState.JOB_STATE_COMPLETED);
      return client.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void aWorkerWhoseCoordinatorStopsReopensItsStreamOnTheNextAddress() {
    try (WorkerNode node = WorkerNode.start(WorkerConfig.builder()
        .coordinator("127.0.0.1:" + first.grpcPort() + ",127.0.0.1:" + second.grpcPort())
        .apiKey(workerKey)
        .workerId("roamer")
        .stateDir(stateDir)
        .embeddedBackend(false)
        .noopBackend(true)
        .gpuDetection(false)
        .reconnectBackoff(Duration.ofMillis(100), Duration.ofSeconds(1))
        .drainTimeout(Duration.ofSeconds(5))
        .build())) {
      await().atMost(60, TimeUnit.SECONDS).until(node::isRegistered);
      // pick_first: the first address while it answers.
      assertThat(runNoop(first).getWorkerId()).isEqualTo("roamer");
      String session = node.sessionId();

      first.close();

      await().atMost(30, TimeUnit.SECONDS).until(() -> node.isRegistered() && !session.equals(node.sessionId()));
      assertThat(runNoop(second).getWorkerId()).isEqualTo("roamer");
    }
  }

  @Test
  void accountsCommandSkipsADeadFirstAddress() throws IOException {
    int dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = s.getLocalPort();
    }
    String admin = second.createKey(Role.ADMIN, "admin");
    CliRun run = CliRun.grid("accounts", "balance", "--coordinator", "127.0.0.1:" + dead + ",127.0.0.1:"
        + second.grpcPort(), "--api-key", admin, "--client-id", "nobody");
    assertThat(run.status()).as(run.err()).isZero();
    assertThat(run.out()).contains("no accounts yet");
  }
}
