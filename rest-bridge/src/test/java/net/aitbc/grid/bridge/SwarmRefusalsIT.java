package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import net.aitbc.grid.bridge.Grid.Reply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What the swarm routes refuse, and how: malformed bodies 400; fields of the wrong type, unknown,
 * empty or out of range 422 naming the field; too few capable workers 409 at once, saying how many
 * can; unknown, malformed and other clients' tasks 404; a worker key on tasks 403; no key 401. Under
 * both prefixes; never a 500.
 */
@ExtendWith(Grid.PerClass.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SwarmRefusalsIT {
  private static final String UNKNOWN = "0123456789abcdef0123456789abcdef";

  private final Grid grid;
  private final SwarmFleet fleet;

  SwarmRefusalsIT(Grid grid) {
    this.grid = grid;
    this.fleet = new SwarmFleet(grid);
  }

  @AfterAll
  void stop() {
    fleet.close();
  }

  private String join(String body) {
    return grid.post("/swarm/join", grid.clientKey, body).assertError(422);
  }

  private String coordinate(String body) {
    return grid.post("/swarm/coordinate", grid.clientKey, body).assertError(422);
  }

  @Test
  void badJoinsNameTheField() {
    assertThat(join("{\"role\": \"boss\", \"capability\": \"gpu\"}"))
        .isEqualTo("role must be one of load-balancer, resource-optimizer, task-coordinator, monitor, not 'boss'");
    assertThat(join("{\"capability\": \"gpu\"}")).startsWith("role must be one of");
    assertThat(join("{\"role\": 1, \"capability\": \"gpu\"}")).isEqualTo("role must be a string, not an integer");
    assertThat(join("{\"role\": \"monitor\", \"capability\": \"g p u\"}")).startsWith("capability must be 1 to 64");
    assertThat(join("{\"role\": \"monitor\", \"capability\": \"gpu\", \"priority\": \"urgent\"}"))
        .isEqualTo("priority must be low, normal or high, not 'urgent'");
    assertThat(join("{\"role\": \"monitor\", \"capability\": \"gpu\", \"priority\": \"\"}"))
        .startsWith("priority is an empty string");
    assertThat(join("{\"role\": \"monitor\", \"capability\": \"gpu\", \"colour\": \"red\"}"))
        .isEqualTo("colour is not a field of a join; it has capability, priority, region, role");
    assertThat(join("[1]")).startsWith("the body must be a JSON object");
    assertThat(grid.post("/swarm/join", grid.clientKey, "{\"role\": ").assertError(400))
        .startsWith("the request body is not valid JSON");
    assertThat(grid.post("/v1/swarm/join", grid.clientKey).assertError(400)).startsWith("the request body is empty");
  }

  @Test
  void badCoordinatesNameTheField() {
    assertThat(coordinate("{\"collaborators\": 3}")).startsWith("task is required");
    assertThat(coordinate("{\"task\": 5}")).isEqualTo("task must be a job type or a job payload (a JSON object, or "
        + "its text), not an integer");
    assertThat(coordinate("{\"task\": \"telepathy\"}")).isEqualTo("task must be a job payload as a JSON object, or a "
        + "job type with a verification probe (embedding, inference, noop), not 'telepathy'");
    assertThat(coordinate("{\"task\": \"{\\\"type\\\": 7}\"}")).startsWith("task.type must be a string");
    assertThat(coordinate("{\"task\": \"embedding\", \"collaborators\": 0}"))
        .isEqualTo("collaborators must be at least 1, not 0");
    assertThat(coordinate("{\"task\": \"embedding\", \"collaborators\": 21}"))
        .isEqualTo("collaborators must be between 1 and 20, not 21");
    assertThat(coordinate("{\"task\": \"embedding\", \"collaborators\": 2.5}"))
        .isEqualTo("collaborators must be a whole number, not a number with a fraction");
    assertThat(coordinate("{\"task\": \"embedding\", \"strategy\": \"vote\"}"))
        .isEqualTo("strategy must be consensus, leader-election or distributed, not 'vote'");
    assertThat(coordinate("{\"task\": \"embedding\", \"strategy\": \"\"}")).startsWith("strategy is an empty string");
    assertThat(coordinate("{\"task\": \"embedding\", \"timeout_seconds\": 0}"))
        .isEqualTo("timeout_seconds must be a whole number of seconds from 1 to 86400, not 0 s");
    assertThat(coordinate("{\"task\": \"embedding\", \"consensus_threshold\": \"high\"}"))
        .isEqualTo("consensus_threshold must be a number such as 0.7, not a string");
    assertThat(coordinate("{\"task\": \"embedding\", \"consensus_threshold\": 1.5}"))
        .isEqualTo("consensus_threshold must be above 0 and at most 1, not 1.5");
    assertThat(coordinate("{\"task\": \"embedding\", \"threshold\": 0.5}"))
        .startsWith("threshold is not a field of a coordinate request; it has collaborators, consensus_threshold,");
    assertThat(coordinate("{\"task\": \"{\\\"type\\\": \\\"noop\\\"}\", \"strategy\": \"distributed\"}"))
        .startsWith("task: the distributed strategy splits a list, and the payload has none");
    assertThat(grid.post("/v1/swarm/coordinate", grid.clientKey, "{\"task\": ").assertError(400))
        .startsWith("the request body is not valid JSON");
  }

  @Test
  void tooFewCapableWorkersIsAConflictSayingHowManyCan() {
    long start = System.nanoTime();
    assertThat(grid.post("/swarm/coordinate", grid.clientKey, "{\"task\": \"embedding\", \"collaborators\": 5, "
        + "\"strategy\": \"consensus\", \"timeout_seconds\": 600}").assertError(409))
        .isEqualTo("only 3 connected workers can run embedding, and the task needs 5 distinct workers (collaborators 5,"
            + " strategy consensus)");
    assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
    assertThat(grid.post("/v1/swarm/coordinate", grid.clientKey, "{\"task\": \"inference\", \"collaborators\": 3}")
        .assertError(409)).startsWith("no connected worker can run inference");
  }

  @Test
  void unknownMalformedAndOtherClientsTasksAreNotFound() {
    Reply started = grid.post("/swarm/coordinate", grid.clientKey, "{\"task\": \"noop\", \"collaborators\": 2}");
    assertThat(started.status()).as(started.body()).isEqualTo(202);
    String mine = started.json().get("task_id").asText();

    for (String prefix : SwarmRoutes.PREFIXES) {
      assertThat(grid.get(prefix + "/tasks/" + UNKNOWN + "/status", grid.clientKey).assertError(404))
          .isEqualTo("swarm task " + UNKNOWN + " not found");
      assertThat(grid.get(prefix + "/tasks/not-an-id/status", grid.clientKey).assertError(404))
          .isEqualTo("swarm task not found");
      assertThat(grid.get(prefix + "/tasks/" + mine + "/status", grid.otherClientKey).assertError(404))
          .isEqualTo("swarm task " + mine + " not found");
      assertThat(grid.post(prefix + "/tasks/" + mine + "/consensus", grid.otherClientKey,
          "{\"consensus_threshold\": 0.5}").assertError(404)).contains("not found");
      assertThat(grid.post(prefix + "/tasks/" + UNKNOWN + "/cancel", grid.clientKey).assertError(404))
          .contains("not found");
      assertThat(grid.get(prefix + "/tasks/" + mine + "/receipt", grid.otherClientKey).assertError(404))
          .contains("not found");
    }
    assertThat(grid.post("/swarm/tasks/" + mine + "/consensus", grid.clientKey, "{\"consensus_threshold\": 0}")
        .assertError(422)).isEqualTo("consensus_threshold must be above 0 and at most 1, not 0.0");
    assertThat(grid.post("/swarm/tasks/" + mine + "/consensus", grid.clientKey, "{\"consensus_threshold\": \"0.7\"}")
        .assertError(422)).isEqualTo("consensus_threshold must be a number such as 0.7, not a string");
    assertThat(grid.post("/swarm/tasks/" + mine + "/consensus", grid.clientKey, "{\"consensus_threshold\": 0.7, "
        + "\"force\": true}").assertError(422)).startsWith("force is not a field of a consensus request");
    assertThat(grid.get("/swarm/tasks/" + mine + "/status?include_results=maybe", grid.clientKey).assertError(400))
        .isEqualTo("include_results must be true or false, not 'maybe'");
  }

  @Test
  void badListQueriesAndLeavesOfUnknownSwarms() {
    assertThat(grid.get("/swarm/list?limit=0", grid.clientKey).assertError(422))
        .isEqualTo("limit must be between 1 and 200, not 0");
    assertThat(grid.get("/swarm/list?limit=many", grid.clientKey).assertError(422)).startsWith("limit must be a whole");
    assertThat(grid.get("/v1/swarm/list?status=busy", grid.clientKey).assertError(422))
        .isEqualTo("status must be active, empty or joined, not 'busy'");
    // A swarm that does not exist lists nothing.
    Reply none = grid.get("/swarm/list?swarm_id=nowhere", grid.clientKey);
    assertThat(none.status()).isEqualTo(200);
    assertThat(none.json().get("swarms")).isEmpty();
    assertThat(grid.post("/swarm/nowhere/leave", grid.clientKey).assertError(404)).isEqualTo("swarm nowhere not found");
    assertThat(grid.post("/v1/swarm/" + UNKNOWN + "/leave", grid.clientKey).assertError(404)).contains("not found");
  }

  @Test
  void workerKeysJoinButRunNoTasksAndEveryRouteNeedsAKey() {
    String workerKey = fleet.keys.get("sw-1");
    Reply joined = grid.post("/swarm/join", workerKey, "{\"role\": \"monitor\", \"capability\": \"embedding\"}");
    assertThat(joined.status()).as(joined.body()).isEqualTo(201);
    assertThat(joined.json().get("member").get("kind").asText()).isEqualTo("owner");
    assertThat(grid.post("/swarm/coordinate", workerKey, "{\"task\": \"noop\"}").assertError(403)).contains("worker");
    assertThat(grid.get("/swarm/tasks/" + UNKNOWN + "/status", workerKey).assertError(403)).contains("worker");
    assertThat(grid.post("/swarm/embedding/leave", workerKey).status()).isEqualTo(200);

    for (Map.Entry<String, String> route : Map.of("/swarm/list", "GET", "/v1/swarm/list", "GET", "/swarm/join", "POST",
        "/swarm/coordinate", "POST", "/swarm/tasks/" + UNKNOWN + "/status", "GET").entrySet()) {
      Reply r = route.getValue().equals("GET") ? grid.get(route.getKey(), null) : grid.post(route.getKey(), null, "{}");
      assertThat(r.assertError(401)).as(route.getKey()).isEqualTo("missing api key");
    }
    assertThat(grid.get("/swarm/list", "no-such-key").assertError(401)).isEqualTo("invalid api key");
    JsonNode api = grid.get("/openapi.json", null).json();
    for (String prefix : SwarmRoutes.PREFIXES) {
      assertThat(api.get("paths").properties()).extracting(Map.Entry::getKey).contains(prefix + "/join",
          prefix + "/coordinate", prefix + "/list", prefix + "/{swarm_id}/leave", prefix + "/tasks/{task_id}/status",
          prefix + "/tasks/{task_id}/consensus", prefix + "/tasks/{task_id}/receipt");
    }
  }

  @Test
  void oddBodiesGetA4xxNamingWhatIsWrongNeverA500() {
    String task = grid.post("/swarm/coordinate", grid.clientKey, "{\"task\": \"noop\", \"collaborators\": 1}").json()
        .get("task_id").asText();
    java.util.List<String> bodies = java.util.List.of("null", "[]", "\"x\"", "7", "{}", "{\"task\": null}",
        "{\"task\": {}}", "{\"task\": \"{\"}", "{\"task\": \"{\\\"type\\\": \\\"embedding\\\", \\\"input\\\": []}\"}",
        "{\"task\": \"noop\", \"collaborators\": 1e20}", "{\"task\": \"noop\", \"timeout_seconds\": 9223372036854775807}",
        "{\"task\": \"noop\", \"timeout_seconds\": -1}", "{\"task\": \"noop\", \"consensus_threshold\": 1e400}",
        "{\"task\": \"noop\", \"similarity\": -0.5}", "{\"task\": \"noop\", \"constraints\": 5}",
        "{\"task\": \"noop\", \"swarm_id\": \"no such swarm\"}", "{\"task\": \"noop\", \"request_id\": \"\"}",
        "{\"role\": \"monitor\", \"capability\": \"" + "x".repeat(100) + "\"}",
        "{\"role\": \"monitor\", \"capability\": \"gpu\", \"region\": \"\u0000\"}",
        "{\"consensus_threshold\": NaN}", "{\"consensus_threshold\": null}", "{\"reason\": 5}",
        "[".repeat(2000), "{\"task\": \"noop\", \"task\": \"embedding\"}");
    java.util.List<String> paths = java.util.List.of("/swarm/join", "/swarm/coordinate", "/v1/swarm/tasks/" + task
        + "/consensus", "/swarm/tasks/" + task + "/cancel");
    for (String path : paths) {
      for (String body : bodies) {
        Reply r = grid.post(path, grid.clientKey, body);
        assertThat(r.status()).as(path + " " + body + " -> " + r.body()).isBetween(200, 499);
        if (r.status() >= 400) {
          assertThat(r.assertError(r.status())).as(path + " " + body).isNotBlank();
        }
      }
    }
  }
}
