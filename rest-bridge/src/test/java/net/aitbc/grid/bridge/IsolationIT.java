package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Over REST, no route but health answers without a valid key, a worker key cannot act as a client,
 * another client's jobs do not exist, an admin is a client of its own, and no answer or log has a key.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IsolationIT {
  private static final String BODY = "{\"payload\": {\"type\": \"isolation\", \"prompt\": \"hi\"}, \"ttl_seconds\": 900}";
  private static final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private static final Queue<Reply> replies = new ConcurrentLinkedQueue<>();

  private static PrintStream stderr;
  private static Grid grid;
  private static HikariDataSource keysDb;
  private static String adminKey;
  private static final List<String> keys = new ArrayList<>();

  /** A route of the bridge, for a job id. */
  private record Route(String name, Function<String, HttpRequest.Builder> request) {}

  private static final List<Route> ROUTES = List.of(
      new Route("POST /v1/jobs", id -> grid.request("/v1/jobs", null).header("Content-Type", "application/json")
          .POST(BodyPublishers.ofString(BODY))),
      new Route("GET /v1/jobs", id -> grid.request("/v1/jobs?limit=1000", null).GET()),
      new Route("GET /v1/jobs/{id}", id -> grid.request("/v1/jobs/" + id, null).GET()),
      new Route("GET /v1/jobs/{id}/result", id -> grid.request("/v1/jobs/" + id + "/result", null).GET()),
      new Route("GET /v1/jobs/{id}/events", id -> grid.request("/v1/jobs/" + id + "/events", null).GET()),
      new Route("POST /v1/jobs/{id}/cancel", id -> grid.request("/v1/jobs/" + id + "/cancel", null)
          .POST(BodyPublishers.noBody())),
      new Route("DELETE /v1/jobs/{id}", id -> grid.request("/v1/jobs/" + id, null).DELETE()));

  @BeforeAll
  static void start() {
    // slf4j-simple writes to whatever System.err is at the time: keep a copy to look for keys in.
    stderr = System.err;
    System.setErr(new PrintStream(new Tee(stderr, log), true, StandardCharsets.UTF_8));
    grid = Grid.start();
    keysDb = Database.pool(grid.db.url(), null, null, 2);
    adminKey = grid.coordinator.createKey(Role.ADMIN, "root");
    keys.addAll(List.of(grid.clientKey, grid.otherClientKey, grid.workerKey, adminKey));
  }

  @AfterAll
  static void stop() {
    // First: the test database cannot be dropped while this pool holds connections to it.
    keysDb.close();
    grid.close();
    System.setErr(stderr);
  }

  @Test
  void everyRouteAnswers401WithoutAValidKey() {
    String id = grid.submit(grid.clientKey, "isolation");
    List<String> wrong = List.of("", "   ", "wrong", "aitbc_c_" + "A".repeat(43), grid.clientKey + "x",
        grid.clientKey.substring(1), grid.clientKey.toUpperCase(Locale.ROOT), "k".repeat(2000));
    for (Route route : ROUTES) {
      assertThat(send(route.request().apply(id)).assertError(401)).as(route.name() + " without a key")
          .isEqualTo("missing api key");
      for (String key : wrong) {
        Reply r = send(route.request().apply(id).header("X-Api-Key", key));
        assertThat(r.assertError(401)).as("%s with key '%s'", route.name(), key).endsWith("api key");
        if (!key.isBlank()) {
          assertThat(r.body()).doesNotContain(key);
        }
      }
    }
    // A key that is not ASCII cannot be sent by java.net.http: send its UTF-8 bytes by hand.
    try (RawHttp raw = new RawHttp(grid.bridge.port(), Duration.ofSeconds(10))) {
      byte[] request = ("GET /v1/jobs/" + id + " HTTP/1.1\r\nHost: x\r\nX-Api-Key: aitbc_c_\u00e9t\u00e9\r\n"
          + "Connection: close\r\n\r\n").getBytes(StandardCharsets.UTF_8);
      RawHttp.Answer a = raw.exchange(request, false);
      assertThat(a.status()).isEqualTo(401);
      assertThat(a.text()).contains("invalid api key");
    }
    assertThat(grid.get("/v1/jobs/" + id, grid.clientKey).json().get("state").asText()).isEqualTo("QUEUED");
  }

  @Test
  void revokedKeyAnswers401OnEveryRouteWithinTheCacheTime() {
    String key = grid.coordinator.createKey(Role.CLIENT, "soon-gone");
    keys.add(key);
    String id = grid.submit(key, "isolation");
    assertThat(send(grid.request("/v1/jobs/" + id, key).GET()).status()).isEqualTo(200);

    assertThat(new KeyStore(Database.dsl(keysDb)).revoke(ApiKeys.id(key))).isTrue();

    // The coordinator caches keys for 5 s.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(send(grid.request("/v1/jobs/" + id, key).GET()).status()).isEqualTo(401));
    for (Route route : ROUTES) {
      Reply r = send(route.request().apply(id).header("X-Api-Key", key));
      assertThat(r.assertError(401)).as(route.name()).isEqualTo("invalid api key");
    }
  }

  @Test
  void revokedKeyEndsItsOpenEventStream() throws Exception {
    String key = grid.coordinator.createKey(Role.CLIENT, "watching-then-gone");
    keys.add(key);
    String id = grid.submit(key, "isolation-watch");
    Queue<String> lines = new ConcurrentLinkedQueue<>();
    var ended = java.util.concurrent.CompletableFuture.runAsync(() -> {
      try {
        CliContractIT.openEvents(grid, grid.bridge.port(), id, key).forEach(lines::add);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> !CliContractIT.events(lines).isEmpty());

    assertThat(new KeyStore(Database.dsl(keysDb)).revoke(ApiKeys.id(key))).isTrue();
    // Within the coordinator's revocation delay (5 s) the watch behind the stream ends, and so does the stream.
    ended.get(15, java.util.concurrent.TimeUnit.SECONDS);
    var last = CliContractIT.events(lines).getLast();
    assertThat(last.name()).isEqualTo("error");
    assertThat(last.data().get("detail").asText()).contains("UNAUTHENTICATED");
  }

  @Test
  void healthAndOpenApiNeedNoKey() {
    for (String path : List.of("/health", "/v1/health", "/openapi.json")) {
      for (String key : new String[] {null, "wrong", grid.workerKey}) {
        Reply r = send(grid.request(path, key).GET());
        assertThat(r.status()).as(path).isEqualTo(200);
        assertThat(r.json().isObject()).isTrue();
      }
    }
    assertThat(send(grid.request("/health", null).GET()).json().get("status").asText()).isEqualTo("ok");
  }

  @Test
  void workerKeyGets403OnEveryRoute() {
    String id = grid.submit(grid.clientKey, "isolation");
    for (Route route : ROUTES) {
      Reply r = send(route.request().apply(id).header("X-Api-Key", grid.workerKey));
      assertThat(r.assertError(403)).as(route.name()).contains("worker").doesNotContain(grid.workerKey);
    }
    // Its cancel and delete did nothing.
    assertThat(grid.get("/v1/jobs/" + id, grid.clientKey).json().get("state").asText()).isEqualTo("QUEUED");
  }

  @Test
  void anotherClientsJobIsNotFoundOnEveryRoute() {
    String id = grid.submit(grid.clientKey, "isolation-private");
    for (String asWritten : List.of(id, id.toUpperCase(Locale.ROOT))) {
      for (Route route : ROUTES.subList(2, ROUTES.size())) {
        Reply r = send(route.request().apply(asWritten).header("X-Api-Key", grid.otherClientKey));
        assertThat(r.assertError(404)).as(route.name()).isEqualTo("job not found");
      }
    }
    for (String query : List.of("?limit=1000", "?limit=1000&status=queued", "?type=inference&limit=1000")) {
      Reply list = send(grid.request("/v1/jobs" + query, grid.otherClientKey).GET());
      assertThat(list.status()).isEqualTo(200);
      assertThat(list.body()).doesNotContain(id);
    }
    Reply own = send(grid.request("/v1/jobs/" + id, grid.clientKey).GET());
    assertThat(own.json().get("state").asText()).isEqualTo("QUEUED");
  }

  @Test
  void adminKeyActsAsAClientOfItsOwn() {
    String clientsJob = grid.submit(grid.clientKey, "isolation");
    Reply submitted = send(grid.request("/v1/jobs", adminKey).header("Content-Type", "application/json")
        .POST(BodyPublishers.ofString(BODY)));
    assertThat(submitted.status()).as(submitted.body()).isEqualTo(201);
    String own = submitted.json().get("job_id").asText();

    // Current behaviour: an admin key is a client with its own client id, not a superuser.
    assertThat(send(grid.request("/v1/jobs/" + own, adminKey).GET()).status()).isEqualTo(200);
    assertThat(send(grid.request("/v1/jobs/" + clientsJob, adminKey).GET()).assertError(404)).isEqualTo("job not found");
    Reply list = send(grid.request("/v1/jobs?limit=1000", adminKey).GET());
    assertThat(list.json().get("items")).extracting(j -> j.get("job_id").asText()).containsExactly(own);
    assertThat(send(grid.request("/v1/jobs", grid.clientKey).GET()).body()).doesNotContain(own);
  }

  @Test
  void finishedJobsAnswersCarryNoKey() {
    String model = "isolation-run";
    String id = grid.submit(grid.clientKey, model);
    try (TestWorker worker = grid.worker("iso-worker", model)) {
      worker.credit(1);
      Assignment a = worker.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(id);
      worker.complete(id, a.getAttempt(), "{\"text\":\"done\"}");
      worker.next();
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(send(grid.request("/v1/jobs/" + id + "/result", grid.clientKey).GET()).status()).isEqualTo(200));
    Reply events = send(grid.request("/v1/jobs/" + id + "/events", grid.clientKey).GET());
    assertThat(events.status()).isEqualTo(200);
    assertThat(events.body()).contains("COMPLETED");
    send(grid.request("/v1/jobs/" + id, grid.clientKey).GET());
    send(grid.request("/v1/jobs?limit=1000", grid.clientKey).GET());
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void noAnswerOrLogLineCarriesAKey() {
    assertThat(replies).hasSizeGreaterThan(100);
    String logged = log.toString(StandardCharsets.UTF_8);
    assertThat(logged).as("the log was captured").contains("coordinator listening");
    for (String key : keys) {
      for (Reply r : replies) {
        assertThat(r.body()).as("a %d answer", r.status()).doesNotContain(key);
        assertThat(r.headers().map().toString()).doesNotContain(key);
      }
      assertThat(logged).as("the log").doesNotContain(key);
    }
  }

  private static Reply send(HttpRequest.Builder request) {
    Reply r = grid.send(request);
    replies.add(r);
    return r;
  }

  /** Writes to two streams. */
  private static final class Tee extends OutputStream {
    private final OutputStream first;
    private final OutputStream second;

    Tee(OutputStream first, OutputStream second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public void write(int b) throws IOException {
      first.write(b);
      synchronized (second) {
        second.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      first.write(b, off, len);
      synchronized (second) {
        second.write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      first.flush();
    }
  }
}
