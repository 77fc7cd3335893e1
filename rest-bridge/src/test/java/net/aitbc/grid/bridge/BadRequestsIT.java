package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.aitbc.grid.bridge.Grid.Reply;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Everything a client can get wrong gets a 4xx with a JSON {@code detail}, never a 5xx, and leaves
 * the bridge working.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(Grid.PerClass.class)
class BadRequestsIT {
  private static final String GOOD_BODY =
      "{\"payload\": {\"type\": \"inference\", \"prompt\": \"hi\", \"model\": \"m\"}, \"ttl_seconds\": 900}";

  private final Grid grid;

  BadRequestsIT(Grid grid) {
    this.grid = grid;
  }

  @Test
  void missingOrEmptyKeyIs401() {
    assertThat(grid.post("/v1/jobs", null, GOOD_BODY).assertError(401)).isEqualTo("missing api key");
    assertThat(grid.post("/v1/jobs", "", GOOD_BODY).assertError(401)).isEqualTo("missing api key");
    assertThat(grid.get("/v1/jobs", "   ").assertError(401)).isEqualTo("missing api key");
    assertThat(grid.get("/v1/jobs/" + "a".repeat(32), null).assertError(401)).isEqualTo("missing api key");
  }

  @Test
  void unknownKeyIs401() {
    String unknown = "not-a-key-the-coordinator-issued";
    Reply r = grid.post("/v1/jobs", unknown, GOOD_BODY);

    assertThat(r.assertError(401)).isEqualTo("invalid api key");
    assertThat(r.body()).doesNotContain(unknown);
    assertThat(grid.get("/v1/jobs", unknown).assertError(401)).isEqualTo("invalid api key");
  }

  @Test
  void workerKeyIs403() {
    grid.post("/v1/jobs", grid.workerKey, GOOD_BODY).assertError(403);
  }

  @Test
  void anotherClientsJobIsNotFound() {
    String id = grid.submit(grid.clientKey, "m");

    assertThat(grid.get("/v1/jobs/" + id, grid.otherClientKey).assertError(404)).isEqualTo("job not found");
    assertThat(grid.get("/v1/jobs/" + id + "/result", grid.otherClientKey).assertError(404)).isEqualTo("job not found");
    assertThat(grid.post("/v1/jobs/" + id + "/cancel", grid.otherClientKey).assertError(404)).isEqualTo("job not found");
    assertThat(grid.get("/v1/jobs/" + id + "/events", grid.otherClientKey).assertError(404)).isEqualTo("job not found");
    assertThat(grid.get("/v1/jobs/" + id, grid.clientKey).status()).isEqualTo(200);
  }

  @Test
  void unknownOrMalformedJobIdsAreNotFound() {
    // The coordinator refuses the malformed ones (INVALID_ARGUMENT); to the CLI they are jobs that do not exist.
    for (String id : List.of("0".repeat(32), "zz" + "0".repeat(30), "abc", "0".repeat(33), "%20", "a%2Fb")) {
      for (String suffix : List.of("", "/result", "/events")) {
        assertThat(grid.get("/v1/jobs/" + id + suffix, grid.clientKey).assertError(404))
            .as(id + suffix).isEqualTo("job not found");
      }
      assertThat(grid.post("/v1/jobs/" + id + "/cancel", grid.clientKey).assertError(404)).isEqualTo("job not found");
      assertThat(grid.delete("/v1/jobs/" + id, grid.clientKey).assertError(404)).as(id).isEqualTo("job not found");
    }
    // Armeria refuses a path that climbs out of its prefix before any route sees it.
    grid.get("/v1/jobs/..%2F..%2Fhealth", grid.clientKey).assertError(400);
  }

  @Test
  void unreadableBodiesAre400() {
    List<String> bodies = List.of(
        "{payload: {}}",                                            // malformed
        "{\"payload\": {\"type\": \"inference\", \"prompt\": \"hi\"", // truncated
        "{\"payload\": {}} trailing",
        "{\"payload\": {}, \"payload\": {}}",                       // duplicate field
        "",                                                         // empty
        "   ",
        "hello");
    for (String body : bodies) {
      assertThat(grid.post("/v1/jobs", grid.clientKey, body).assertError(400)).as(body).isNotBlank();
    }
    Reply plain = grid.send(grid.request("/v1/jobs", grid.clientKey)
        .header("Content-Type", "text/plain").POST(BodyPublishers.ofString("just some words")));
    plain.assertError(400);
    Reply binary = grid.send(grid.request("/v1/jobs", grid.clientKey)
        .header("Content-Type", "application/octet-stream").POST(BodyPublishers.ofByteArray(new byte[] {(byte) 0xff, 0, 1})));
    binary.assertError(400);
  }

  @Test
  void wrongFieldTypesAre422() {
    // Each body with what its detail must name: first the bridge's own refusals (a JSON type its gRPC
    // field cannot hold), then the coordinator's (ranges and names), whose description becomes the detail.
    List<List<String>> cases = List.of(
        List.of("{\"payload\": \"a prompt\"}", "payload"),
        List.of("{\"ttl_seconds\": 900}", "payload"),
        List.of("{\"payload\": null}", "payload"),
        List.of("[{\"payload\": {}}]", "object"),
        List.of("{\"payload\": {}, \"ttl_seconds\": \"900\"}", "ttl_seconds"),
        List.of("{\"payload\": {}, \"ttl_seconds\": 1.5}", "ttl_seconds"),
        List.of("{\"payload\": {}, \"timeout_seconds\": \"60\"}", "timeout_seconds must be a whole number"),
        List.of("{\"payload\": {}, \"timeout_seconds\": 1.5}", "timeout_seconds must be a whole number"),
        List.of("{\"payload\": {}, \"constraints\": []}", "constraints"),
        List.of("{\"payload\": {}, \"constraints\": {\"min_vram_gb\": \"lots\"}}", "constraints.min_vram_gb"),
        List.of("{\"payload\": {}, \"constraints\": {\"models\": [1]}}", "constraints.models"),
        List.of("{\"payload\": {}, \"priority\": true}", "priority must be a whole number or a name"),
        List.of("{\"payload\": {}, \"priority\": 2.5}", "priority must be a whole number"),
        List.of("{\"payload\": {}, \"priority\": 4294967301}", "priority is out of range"),
        List.of("{\"payload\": {}, \"priority\": \"\"}", "priority is an empty string"),
        List.of("{\"payload\": {}, \"payment_amount\": \"1.5\"}", "payment_amount must be a number"),
        List.of("{\"payload\": {}, \"payment_amount\": -1}", "payment_amount must be between 0.01 and 1000000"),
        List.of("{\"payload\": {}, \"payment_amount\": 0.001}", "payment_amount must be between 0.01 and 1000000"),
        List.of("{\"payload\": {}, \"payment_amount\": 0.123456789}", "payment_amount has more than 8 decimal"),
        List.of("{\"payload\": {}, \"payment_amount\": 1, \"payment_currency\": \"XYZ\"}",
            "payment_currency must be one of AITBC, BTC, ETH, USDT"),
        List.of("{\"payload\": {}, \"priority\": \"urgent\"}", "priority must be low, normal, high or a whole number"),
        List.of("{\"payload\": {}, \"priority\": \"10\"}", "priority must be low, normal, high or a whole number"),
        List.of("{\"payload\": {}, \"priority\": 12}", "priority must be between 0 and 9"),
        List.of("{\"payload\": {\"type\": 7}}", "payload.type"),
        List.of("{\"payload\": {\"type\": \"no spaces allowed\"}}", "type"),
        List.of("{\"payload\": {\"prompt\": \"a\\u0000b\"}}", "payload.prompt contains a NUL"),
        List.of("{\"payload\": {}, \"ttl_seconds\": 99999999999}", "ttl_seconds must be at most 30 days"),
        List.of("{\"payload\": {}, \"timeout_seconds\": 0}", "timeout_seconds must be between 1 s and 30 days"),
        List.of("{\"payload\": {}, \"timeout_seconds\": 99999999999}", "timeout_seconds must be between"));
    for (List<String> c : cases) {
      assertThat(grid.post("/v1/jobs", grid.clientKey, c.get(0)).assertError(422)).as(c.get(0)).contains(c.get(1));
    }
  }

  @Test
  void unknownTopLevelFieldsAndZeroPaymentsAreIgnored() {
    Reply r = grid.post("/v1/jobs", grid.clientKey,
        "{\"payload\": {\"type\": \"inference\", \"model\": \"m\"}, \"ttl_seconds\": null, \"payment_amount\": 0,"
            + " \"payment_currency\": \"AITBC\", \"cli_version\": \"0.1\", \"constraints\": {\"gpu\": \"RTX\", \"extra\": 1}}");

    assertThat(r.status()).as(r.body()).isEqualTo(201);
  }

  @Test
  void oversizedBodyIs413() {
    String big = "{\"payload\": {\"prompt\": \"" + "x".repeat((1 << 20) + 1) + "\"}}";

    assertThat(grid.post("/v1/jobs", grid.clientKey, big).assertError(413)).contains("too large");
  }

  @Test
  void unknownRouteIs404AndWrongMethodIs405() {
    assertThat(grid.get("/v2/jobs", grid.clientKey).assertError(404)).isEqualTo("not found");
    assertThat(grid.get("/nope", null).assertError(404)).isEqualTo("not found");
    assertThat(grid.get("/v1/jobs/" + "a".repeat(32) + "/receipt/x", grid.clientKey).assertError(404)).isEqualTo("not found");
    grid.send(grid.request("/v1/jobs", grid.clientKey).PUT(BodyPublishers.ofString(GOOD_BODY))).assertError(405);
    grid.send(grid.request("/v1/jobs/" + "a".repeat(32), grid.clientKey)
        .method("PATCH", BodyPublishers.noBody())).assertError(405);
    grid.send(grid.request("/health", null).POST(BodyPublishers.noBody())).assertError(405);
    grid.send(grid.request("/v1/jobs/" + "a".repeat(32) + "/cancel", grid.clientKey).GET()).assertError(405);
  }

  @Test
  void badQueryValuesAre400() {
    for (String path : List.of("/v1/jobs", "/v1/jobs/history")) {
      assertThat(grid.get(path + "?status=done", grid.clientKey).assertError(400))
          .contains("queued", "pending", "running", "completed", "failed", "canceled", "expired");
      assertThat(grid.get(path + "?status=queued,bogus", grid.clientKey).assertError(400)).contains("bogus");
      assertThat(grid.get(path + "?from_time=yesterday", grid.clientKey).assertError(400)).contains("from_time");
      assertThat(grid.get(path + "?to_time=2026-13-01T00:00:00", grid.clientKey).assertError(400)).contains("to_time");
      // Years the coordinator cannot query: its check, in the REST parameter's name.
      assertThat(grid.get(path + "?from_time=%2B99999-01-01T00:00:00Z", grid.clientKey).assertError(400))
          .startsWith("from_time must be a time between the years 1 and 9999");
      assertThat(grid.get(path + "?to_time=0000-12-31T00:00:00Z", grid.clientKey).assertError(400))
          .startsWith("to_time must be a time between the years 1 and 9999");
      for (String limit : List.of("0", "-1", "1001", "abc", "", "1e3", "99999999999")) {
        assertThat(grid.get(path + "?limit=" + limit, grid.clientKey).assertError(400)).as(limit).startsWith("limit");
      }
      assertThat(grid.get(path + "?offset=-1", grid.clientKey).assertError(400)).startsWith("offset must not be negative");
      assertThat(grid.get(path + "?include_results=yes", grid.clientKey).assertError(400)).contains("include_results");
      assertThat(grid.get(path + "?limit=1000&offset=0", grid.clientKey).status()).isEqualTo(200);
    }
  }

  @Test
  void submissionsOverTheKeysRateAre429WithRetryAfter() {
    String slow = grid.coordinator.createKey(net.aitbc.grid.coordinator.auth.Role.CLIENT, "slow-client",
        new net.aitbc.grid.coordinator.auth.KeyLimits(1, 0.2, 2, null));
    assertThat(grid.post("/v1/jobs", slow, GOOD_BODY).status()).isEqualTo(201);
    assertThat(grid.post("/v1/jobs", slow, GOOD_BODY).status()).isEqualTo(201);
    Reply limited = grid.post("/v1/jobs", slow, GOOD_BODY);
    assertThat(limited.assertError(429)).contains("rate limit of 0.2 submissions per second");
    // The coordinator's RetryInfo: one token every 5 s.
    assertThat(limited.headers().firstValue("retry-after").map(Integer::parseInt)).hasValueSatisfying(
        s -> assertThat(s).isBetween(4, 5));
  }

  @Test
  void unreachableCoordinatorIs503WithRetryAfter() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    try (Bridge lonely = Bridge.start(Grid.config(1))) {
      Reply r = grid.send(Grid.request(lonely.port(), "/v1/jobs/" + "a".repeat(32), grid.clientKey).GET());
      assertThat(r.assertError(503)).startsWith("coordinator unavailable");
      assertThat(r.headers().firstValue("retry-after")).hasValue("1");

      Reply health = grid.send(Grid.request(lonely.port(), "/health", null).GET());
      assertThat(health.status()).isEqualTo(200);
      assertThat(health.json().get("status").asText()).isEqualTo("degraded");
      assertThat(health.json().get("coordinator").asText()).isEqualTo("UNAVAILABLE");
    }
  }

  @Test
  void multipartBodiesAre400() {
    for (String type : List.of("multipart/form-data", "multipart/form-data; boundary=xyz")) {
      Reply r = grid.send(grid.request("/v1/jobs", grid.clientKey).header("Content-Type", type).POST(BodyPublishers.ofString(
          "--xyz\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{}\r\n--xyz--\r\n")));
      assertThat(r.assertError(400)).as(type).contains("not valid JSON");
    }
  }

  @Test
  void keyTooLongToBeValidIs401() {
    // Far longer than any issued key, and short enough to pass the HTTP header limit.
    assertThat(grid.get("/v1/jobs", "k".repeat(7900)).assertError(401)).isEqualTo("invalid api key");
  }

  @Test
  void longCoordinatorErrorIs422AndLeavesOtherCallsAlone() throws Exception {
    String id = grid.submit(grid.clientKey, "m-long-error");
    HttpRequest watch = grid.request("/v1/jobs/" + id + "/events", grid.clientKey).GET().build();
    try (Stream<String> events = grid.sendAsync(watch, HttpResponse.BodyHandlers.ofLines()).get(10, TimeUnit.SECONDS)
        .body()) {
      // The coordinator quotes the whole type in its description, a grpc-message trailer of 70 KB.
      Reply r = grid.post("/v1/jobs", grid.clientKey, "{\"payload\": {\"type\": \"" + "z".repeat(70_000) + "\"}}");
      assertThat(r.assertError(422)).contains("job type");
      assertThat(grid.post("/v1/jobs/" + id + "/cancel", grid.clientKey).status()).isEqualTo(200);

      // The watch on the same gRPC connection saw the cancel, not the connection failing.
      List<String> lines = CompletableFuture.supplyAsync(events::toList).get(10, TimeUnit.SECONDS);
      assertThat(lines).noneMatch(l -> l.startsWith("event: error")).anyMatch(l -> l.contains("\"CANCELED\""));
    } finally {
      // However it ended, the job ends, and so does its event stream.
      grid.post("/v1/jobs/" + id + "/cancel", grid.clientKey);
    }
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void goodRequestStillWorksAfterAllThat() {
    Reply r = grid.post("/v1/jobs", grid.clientKey, GOOD_BODY);

    assertThat(r.status()).as(r.body()).isEqualTo(201);
    assertThat(grid.get("/v1/jobs/" + r.json().get("job_id").asText(), grid.clientKey).status()).isEqualTo(200);
  }
}
