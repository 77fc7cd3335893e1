package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestCertificates;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.worker.WorkerNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The {@code grid} commands' TLS options against a coordinator serving TLS with a client CA: a real
 * worker node authenticated by its client certificate alone, and {@code grid accounts} trusting the CA.
 */
class TlsWorkerIT {
  @TempDir
  static Path dir;
  private static TestCertificates certs;
  private static TestDatabase db;
  private static Coordinator coordinator;
  private static ManagedChannel channel;
  private static JobServiceBlockingStub client;

  @BeforeAll
  static void start() {
    certs = TestCertificates.create(dir.resolve("grid"), "AITBC Test CA");
    db = TestDatabase.create();
    coordinator = Coordinator.start(TestConfigs.builder(db.url()).tls(certs.server(true)).build());
    channel = GrpcClients.channel("localhost:" + coordinator.grpcPort(), certs.trust());
    client = GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), coordinator.createKey(Role.CLIENT, "c"));
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    coordinator.close();
    db.close();
  }

  @Test
  void aWorkerWithOnlyAClientCertificateRegistersAndRunsJobs() throws Exception {
    ClientTls tls = certs.client("gpu-owner");
    WorkerCommand command = new WorkerCommand();
    new CommandLine(command).parseArgs("--coordinator", "localhost:" + coordinator.grpcPort(), "--tls-ca",
        tls.ca().toString(), "--tls-cert", tls.cert().toString(), "--tls-key", tls.key().toString(), "--worker-id",
        "mtls-node", "--state-dir", dir.resolve("state").toString(), "--no-embedded", "--noop");
    try (WorkerNode node = WorkerNode.start(command.config().toBuilder().gpuDetection(false)
        .drainTimeout(Duration.ofSeconds(5)).build())) {
      await().atMost(60, TimeUnit.SECONDS).until(node::isRegistered);
      Job job = client.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"noop\"}").build()).getJob();
      await().atMost(30, TimeUnit.SECONDS).until(() -> client.getJob(GetJobRequest.newBuilder()
          .setJobId(job.getJobId()).build()).getJob().getState() == JobState.JOB_STATE_COMPLETED);
      assertThat(client.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getWorkerId())
          .isEqualTo("mtls-node");
    }
  }

  @Test
  void aWorkerNeedsAKeyOrAClientCertificate() {
    CliRun run = CliRun.grid("worker", "--coordinator", "localhost:1", "--tls-ca", certs.ca().toString());
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.err()).contains("no API key", "--tls-cert");
  }

  @Test
  void accountsCommandTrustsTheCaItIsGiven() {
    String admin = coordinator.createKey(Role.ADMIN, "admin");
    CliRun trusted = CliRun.grid("accounts", "balance", "--coordinator", "localhost:" + coordinator.grpcPort(),
        "--tls-ca", certs.ca().toString(), "--api-key", admin, "--client-id", "nobody");
    assertThat(trusted.status()).as(trusted.err()).isZero();
    assertThat(trusted.out()).contains("no accounts yet");
    CliRun plaintext = CliRun.grid("accounts", "balance", "--coordinator", "localhost:" + coordinator.grpcPort(),
        "--api-key", admin, "--client-id", "nobody");
    assertThat(plaintext.status()).isEqualTo(1);
    assertThat(plaintext.err()).contains("UNAVAILABLE");
  }
}
