package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestCertificates;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A coordinator serving gRPC and metrics over TLS with a client CA, over real sockets: who may
 * connect, and what a worker's client certificate stands for (the rule is ClientCertificates').
 */
class TlsGrpcIT {
  @TempDir
  static Path dir;
  private static TestCertificates certs;
  private static TestCertificates stranger;
  private static TestDatabase db;
  private static Coordinator coordinator;
  private static String clientKey;
  private static final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeAll
  static void start() {
    certs = TestCertificates.create(dir.resolve("grid"), "AITBC Test CA");
    stranger = TestCertificates.create(dir.resolve("stranger"), "Some Other CA");
    db = TestDatabase.create();
    coordinator = Coordinator.start(TestConfigs.builder(db.url()).tls(certs.server(true)).build());
    clientKey = coordinator.createKey(Role.CLIENT, "c1");
    // The first handshakes load and warm TLS on both sides: slow on a busy machine, and not what the
    // tests time.
    ManagedChannel warm = GrpcClients.channel("localhost:" + coordinator.grpcPort(), certs.client("warm-up"));
    try {
      HealthGrpc.newBlockingStub(warm).withDeadlineAfter(60, TimeUnit.SECONDS)
          .check(HealthCheckRequest.getDefaultInstance());
    } finally {
      warm.shutdownNow();
    }
  }

  @AfterAll
  static void stop() {
    coordinator.close();
    db.close();
  }

  @AfterEach
  void closeChannels() {
    channels.forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }

  private static ManagedChannel channel(String host, @Nullable ClientTls tls) {
    ManagedChannel c = GrpcClients.channel(host + ":" + coordinator.grpcPort(), tls);
    channels.add(c);
    return c;
  }

  private static JobServiceBlockingStub jobs(ManagedChannel channel, @Nullable String key) {
    JobServiceBlockingStub stub = JobServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    return key == null ? stub : GrpcClients.withKey(stub, key);
  }

  private static Job submit(String type) {
    return jobs(channel("localhost", certs.trust()), clientKey).createJob(CreateJobRequest.newBuilder()
        .setPayloadJson("{\"type\":\"" + type + "\",\"prompt\":\"hi\"}").build()).getJob();
  }

  private static Register register(String workerId, String type) {
    return Register.newBuilder().setWorkerId(workerId).setVersion("test")
        .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes(type).setConcurrency(1)).build();
  }

  @Test
  void aClientThatTrustsTheCaCallsOverTlsByNameOrAddress() {
    for (String host : List.of("localhost", "127.0.0.1")) {
      ManagedChannel channel = channel(host, certs.trust());
      assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      Job job = jobs(channel, clientKey).createJob(CreateJobRequest.newBuilder()
          .setPayloadJson("{\"type\":\"tls-ping\",\"prompt\":\"hi\"}").build()).getJob();
      assertThat(job.getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
    }
  }

  @Test
  void aClientThatDoesNotTrustTheCaOrSpeaksPlaintextIsRefused() {
    for (ClientTls tls : new ClientTls[] {stranger.trust(), ClientTls.defaultTrust(), null}) {
      assertThatThrownBy(() -> jobs(channel("localhost", tls), clientKey).getJob(
              GetJobRequest.newBuilder().setJobId("0".repeat(32)).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }
  }

  @Test
  void aWorkerWithAClientCertificateRegistersWithoutAKeyAndRunsAJob() {
    try (TestWorker w = TestWorker.connect(channel("localhost", certs.client("owner-m")), null,
        register("cert-worker", "tls-job"))) {
      Job job = submit("tls-job");
      w.credit(1);
      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(job.getJobId());
      w.complete(a.getJobId(), a.getAttempt(), "{\"ok\":true}");
      JobServiceBlockingStub client = jobs(channel("localhost", certs.trust()), clientKey);
      await().atMost(10, TimeUnit.SECONDS).until(() -> client.getJob(GetJobRequest.newBuilder()
          .setJobId(job.getJobId()).build()).getJob().getState() == JobState.JOB_STATE_COMPLETED);
      assertThat(client.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getWorkerId())
          .isEqualTo("cert-worker");
    }
  }

  @Test
  void aWorkerKeyOfTheCertificatesOwnerIsAcceptedAlongsideIt() {
    String key = coordinator.createKey(Role.WORKER, "owner-k");
    try (TestWorker w = TestWorker.connect(channel("localhost", certs.client("owner-k")), key,
        register("cert-and-key", "tls-both"))) {
      assertThat(w.registered().getSessionId()).isNotEmpty();
    }
  }

  @Test
  void aKeyOfAnotherOwnerThanTheCertificateIsRefused() {
    String key = coordinator.createKey(Role.WORKER, "someone-else");
    try (TestWorker w = TestWorker.open(channel("localhost", certs.client("owner-x")), key)) {
      Status status = w.closed().orTimeout(10, TimeUnit.SECONDS).join();
      assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(status.getDescription()).contains("another owner", "owner-x");
    }
  }

  @Test
  void aClientCertificateNeverActsAsAClient() {
    ManagedChannel channel = channel("localhost", certs.client("c1"));
    assertThatThrownBy(() -> jobs(channel, null).createJob(CreateJobRequest.newBuilder()
            .setPayloadJson("{\"type\":\"tls-job\",\"prompt\":\"hi\"}").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getStatus().getDescription()).contains("missing api key");
        });
    // With a client key on the same connection, the key alone decides.
    assertThat(jobs(channel, clientKey).createJob(CreateJobRequest.newBuilder()
        .setPayloadJson("{\"type\":\"tls-job-2\",\"prompt\":\"hi\"}").build()).getJob().getJobId()).hasSize(32);
  }

  @Test
  void aClientCertificateOfAnotherCaCountsForNothing() {
    // The server names its client CA in the handshake, so the client has no certificate to offer.
    ClientTls other = stranger.client("owner-m");
    try (TestWorker w = TestWorker.open(channel("localhost", new ClientTls(certs.ca(), other.cert(), other.key())),
        null)) {
      Status status = w.closed().orTimeout(10, TimeUnit.SECONDS).join();
      assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(status.getDescription()).contains("missing api key");
    }
  }

  @Test
  void metricsAreServedOverHttpsWithTheSameCertificate() throws Exception {
    HttpResponse<String> r = certs.httpClient().send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + coordinator.metricsPort() + "/metrics")).timeout(Duration.ofSeconds(10))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("grid_workers_connected");
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    assertThatThrownBy(() -> plain.send(HttpRequest.newBuilder(URI.create("http://localhost:"
        + coordinator.metricsPort() + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString())).isInstanceOf(IOException.class);
  }
}
