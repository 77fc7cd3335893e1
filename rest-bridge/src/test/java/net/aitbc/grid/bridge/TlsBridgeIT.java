package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestCertificates;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TLS grid end to end over real sockets: an HTTPS bridge, its calls to a TLS coordinator (the
 * live one of two addresses), and a worker on a client certificate running what a REST client
 * submitted.
 */
class TlsBridgeIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  static Path dir;
  private static TestCertificates certs;
  private static TestDatabase db;
  private static Coordinator coordinator;
  private static Bridge bridge;
  private static String clientKey;
  private static HttpClient https;

  @BeforeAll
  static void start() {
    certs = TestCertificates.create(dir.resolve("grid"), "AITBC Test CA");
    db = TestDatabase.create();
    coordinator = Coordinator.start(TestConfigs.builder(db.url()).tls(certs.server(true)).build());
    clientKey = coordinator.createKey(Role.CLIENT, "rest-client");
    // A replica list whose first address is down: the bridge moves on, checking the live one's
    // certificate against the name it has in the list (the certificate does not name 127.0.0.2).
    bridge = Bridge.start(BridgeConfig.defaults().withListen("127.0.0.1", 0)
        .withCoordinator("127.0.0.2:" + deadPort() + ",localhost:" + coordinator.grpcPort()).withEnv("test")
        .withTls(certs.server(false)).withCoordinatorTls(certs.trust()));
    https = certs.httpClient();
  }

  @AfterAll
  static void stop() {
    bridge.close();
    coordinator.close();
    db.close();
  }

  private static int deadPort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static HttpResponse<String> send(HttpClient client, HttpRequest.Builder request) throws Exception {
    return client.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("https://localhost:" + bridge.port() + path)).header("X-Api-Key",
        clientKey);
  }

  @Test
  void restOverHttpsReachesTheCoordinatorOverTlsAndAWorkerOnACertificateRunsTheJob() throws Exception {
    JsonNode health = JSON.readTree(send(https, request("/health")).body());
    assertThat(health.get("coordinator").asText()).as(health.toString()).isEqualTo("SERVING");

    HttpResponse<String> created = send(https, request("/v1/jobs").header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"payload\": {\"type\": \"tls-rest\", \"prompt\": \"hi\"}}")));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String jobId = JSON.readTree(created.body()).get("job_id").asText();

    ManagedChannel channel = GrpcClients.channel("localhost:" + coordinator.grpcPort(), certs.client("owner"));
    try (TestWorker w = TestWorker.connect(channel, null, Register.newBuilder().setWorkerId("tls-rest-worker")
        .setVersion("test").setCapabilities(WorkerCapabilities.newBuilder().addJobTypes("tls-rest").setConcurrency(1))
        .build())) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(jobId);
      w.complete(jobId, a.getAttempt(), "{\"output\":\"over tls\"}");
      await().atMost(10, TimeUnit.SECONDS).until(() -> send(https, request("/v1/jobs/" + jobId + "/result"))
          .statusCode() == 200);
      assertThat(JSON.readTree(send(https, request("/v1/jobs/" + jobId + "/result")).body()).toString())
          .contains("over tls");
    }
  }

  @Test
  void plainHttpAndClientsThatDoNotTrustTheCaGetNoAnswer() {
    HttpClient untrusting = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    assertThatThrownBy(() -> send(untrusting, request("/health"))).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> send(untrusting, HttpRequest.newBuilder(
        URI.create("http://localhost:" + bridge.port() + "/health")))).isInstanceOf(IOException.class);
  }

  @Test
  void aBridgeThatDoesNotTrustTheCoordinatorsCaReportsItUnavailable() throws Exception {
    try (Bridge doubting = Bridge.start(BridgeConfig.defaults().withListen("127.0.0.1", 0)
        .withCoordinator("localhost:" + coordinator.grpcPort()).withEnv("test")
        .withCoordinatorTls(net.aitbc.grid.transport.ClientTls.defaultTrust()))) {
      HttpResponse<String> r = send(HttpClient.newHttpClient(), HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + doubting.port() + "/health")));
      assertThat(JSON.readTree(r.body()).get("coordinator").asText()).as(r.body()).isEqualTo("UNAVAILABLE");
    }
  }
}
