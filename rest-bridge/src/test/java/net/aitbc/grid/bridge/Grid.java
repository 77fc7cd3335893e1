package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real coordinator on a fresh database, a bridge in front of it (started by {@link Bridge#start},
 * as the product is), keys of two clients and a worker owner, and an HTTP/1.1 client that talks to
 * the bridge as the aitbc CLI does. A test class gets one through {@link PerClass}.
 */
final class Grid implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  /** How the CLI's server writes times: naive UTC with microseconds. */
  static final String NAIVE_TIME = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}";

  final TestDatabase db;
  final Coordinator coordinator;
  final Bridge bridge;
  final String clientKey;
  final String otherClientKey;
  final String workerKey;
  /** The key the coordinator signs receipts and blocks with; null when it issues none. */
  final @Nullable VerifyingKey coordinatorKey;
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private Grid(TestDatabase db, Coordinator coordinator, Bridge bridge, @Nullable VerifyingKey coordinatorKey) {
    this.db = db;
    this.coordinator = coordinator;
    this.bridge = bridge;
    this.coordinatorKey = coordinatorKey;
    this.clientKey = coordinator.createKey(Role.CLIENT, "client-a");
    this.otherClientKey = coordinator.createKey(Role.CLIENT, "client-b");
    this.workerKey = coordinator.createKey(Role.WORKER, "worker-owner");
  }

  /**
   * Starts everything on free loopback ports with the coordinator's test settings ({@link
   * #coordinatorKey} is not known: tests of receipts start with {@link #startWithLedger}).
   */
  static Grid start() {
    return start(b -> b, null);
  }

  /**
   * Starts everything with a coordinator that signs a receipt for every completed job and seals
   * them into a block within {@code sealEvery} of the first one waiting.
   */
  static Grid startWithLedger(Duration sealEvery) {
    SigningKey key = SigningKey.generate();
    return start(b -> b.signingKey(key).blocks(1000, sealEvery), key.verifyingKey());
  }

  /** Starts everything with a coordinator that has no signing key: no receipts, no blocks. */
  static Grid startWithoutReceipts() {
    return start(b -> b.signingKey(null), null);
  }

  /** Starts a coordinator with the test settings, changed by {@code settings}, whose signing key is {@code key}. */
  private static Grid start(UnaryOperator<CoordinatorConfig.Builder> settings, @Nullable VerifyingKey key) {
    TestDatabase db = TestDatabase.create();
    Coordinator coordinator = Coordinator.start(settings.apply(TestConfigs.builder(db.url())).build());
    Bridge bridge = Bridge.start(config(coordinator.grpcPort()));
    return new Grid(db, coordinator, bridge, key);
  }

  /** A bridge config on a free port in front of a coordinator at {@code grpcPort}. */
  static BridgeConfig config(int grpcPort) {
    return BridgeConfig.defaults().withListen("127.0.0.1", 0).withCoordinator("127.0.0.1:" + grpcPort).withEnv("test");
  }

  /** A request to the bridge, with {@code X-Api-Key} when {@code key} is not null. */
  HttpRequest.Builder request(String path, @Nullable String key) {
    return request(bridge.port(), path, key);
  }

  /** A request to the bridge at {@code port}. */
  static HttpRequest.Builder request(int port, String path, @Nullable String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20));
    if (key != null) {
      b.header("X-Api-Key", key);
    }
    return b;
  }

  /** {@code GET path}. */
  Reply get(String path, @Nullable String key) {
    return send(request(path, key).GET());
  }

  /** {@code POST path} with a JSON body, as the CLI sends it. */
  Reply post(String path, @Nullable String key, String json) {
    return send(request(path, key).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** {@code POST path} without a body, as {@code client cancel} sends it. */
  Reply post(String path, @Nullable String key) {
    return send(request(path, key).POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** {@code DELETE path}. */
  Reply delete(String path, @Nullable String key) {
    return send(request(path, key).DELETE());
  }

  /** Sends a request and reads the whole answer. */
  Reply send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), r.headers(), r.body());
    } catch (IOException e) {
      throw new AssertionError("request failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Opens a streaming request (server-sent events). */
  <T> java.util.concurrent.CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request,
      HttpResponse.BodyHandler<T> handler) {
    return http.sendAsync(request, handler);
  }

  /** A test worker of the worker owner that runs inference jobs of this one model (and so only its test's jobs). */
  TestWorker worker(String workerId, String model) {
    return TestWorker.connect(coordinator.grpcPort(), workerKey, workerId, List.of("inference"), List.of(model));
  }

  /** Submits {@code client submit --prompt P --model M} and returns the job id. */
  String submit(String key, String model) {
    Reply r = post("/v1/jobs", key,
        "{\"payload\": {\"type\": \"inference\", \"prompt\": \"hi\", \"model\": \"" + model + "\"}, \"ttl_seconds\": 900}");
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("job_id").asText();
  }

  /** The job ids of a page's items, in order. */
  static List<String> ids(JsonNode page) {
    List<String> ids = new ArrayList<>();
    page.get("items").forEach(item -> ids.add(item.get("job_id").asText()));
    return ids;
  }

  /** A time field of a job, as written (naive UTC). */
  static LocalDateTime time(JsonNode job, String field) {
    return LocalDateTime.parse(job.get(field).asText());
  }

  @Override
  public void close() {
    http.close();
    bridge.close();
    coordinator.close();
    db.close();
  }

  /**
   * One grid per test class, shared by its tests: under {@code @ExtendWith(Grid.PerClass.class)} a
   * test class takes it as a constructor (or {@code @BeforeAll}) parameter, and it is closed after
   * the class's last test.
   */
  static final class PerClass implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(Grid.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
      return parameter.getParameter().getType() == Grid.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
      ExtensionContext testClass = context;
      // A constructor may be resolved in a test method's context: the grid belongs to the class's.
      while (testClass.getTestMethod().isPresent()) {
        testClass = testClass.getParent().orElseThrow();
      }
      return testClass.getStore(NAMESPACE).computeIfAbsent(Grid.class, k -> start(), Grid.class);
    }
  }

  /** An HTTP answer. */
  record Reply(int status, HttpHeaders headers, String body) {
    /** The body as JSON. */
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body, e);
      }
    }

    /** Asserts an error answer: this status, a JSON content type, and a {@code detail} string. */
    String assertError(int expected) {
      assertThat(status).as(body).isEqualTo(expected);
      assertThat(headers.firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
      JsonNode detail = json().get("detail");
      assertThat(detail).as(body).isNotNull();
      assertThat(detail.isTextual()).as(body).isTrue();
      return detail.asText();
    }
  }
}
