package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.AgentSteps.create;
import static net.aitbc.grid.bridge.AgentSteps.createBody;
import static net.aitbc.grid.bridge.AgentSteps.execute;
import static net.aitbc.grid.bridge.AgentSteps.executeBody;
import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.bridge.Grid.Reply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the agent routes refuse, and to whom: malformed workflow files (422 naming the step and
 * field), executions that cannot run, odd bodies (a 4xx, never a 5xx), other clients (404), worker
 * keys (403) and missing keys (401); and the OpenAPI document of the routes.
 */
class AgentRefusalsIT {
  private static Grid grid;

  @BeforeAll
  static void start() {
    grid = Grid.start();
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  @Test
  void malformedWorkflowFilesAre422NamingTheStepAndField() {
    String cycle = "{\"steps\": {\"a\": {\"type\": \"noop\", \"payload\": {}, \"depends_on\": [\"b\"]},"
        + " \"b\": {\"type\": \"noop\", \"payload\": {}, \"depends_on\": [\"a\"]}}}";
    assertThat(grid.post("/api/v1/agents/workflows", grid.clientKey, createBody("c", "basic", cycle)).assertError(422))
        .isEqualTo("steps.a.depends_on: the steps wait for each other in a cycle: a → b → a");

    String unknownRef = "{\"steps\": {\"embed\": {\"type\": \"embedding\","
        + " \"payload\": {\"input\": \"{{steps.summarize.result}}\"}}}}";
    assertThat(grid.post("/api/v1/agents/workflows", grid.clientKey, createBody("r", "basic", unknownRef))
        .assertError(422)).isEqualTo("steps.embed.payload.input: {{steps.summarize.result}}: there is no step named"
            + " 'summarize'");

    String unknownType = "{\"steps\": {\"x\": {\"type\": \"teleport\", \"payload\": {}}}}";
    assertThat(grid.post("/v1/agents/workflows", grid.clientKey, createBody("t", "basic", unknownType))
        .assertError(422)).isEqualTo("steps.x.type: no worker runs jobs of type 'teleport'");

    String unknownField = "{\"steps\": {\"x\": {\"type\": \"noop\", \"payload\": {}, \"retry\": 2}}}";
    assertThat(grid.post("/api/v1/agents/workflows", grid.clientKey, createBody("f", "basic", unknownField))
        .assertError(422)).startsWith("steps.x.retry: is not a step field; a step has ");

    assertThat(grid.post("/api/v1/agents/workflows", grid.clientKey, createBody("", "basic", null)).assertError(422))
        .isEqualTo("name must be 1 to 100 characters, not 0");
    assertThat(grid.post("/api/v1/agents/workflows", grid.clientKey, "{\"name\": \"x\",").assertError(400))
        .startsWith("the request body is not valid JSON");
    assertThat(grid.post("/api/v1/agents/workflows", grid.clientKey, "{\"name\": \"x\", \"max_cost_budget\": -1}")
        .assertError(422)).isEqualTo("max_cost_budget must be from 0 (no bound) to 1000000, not -1");
    // Nothing of these was stored.
    assertThat(grid.get("/api/v1/agents/workflows?limit=200", grid.clientKey).json())
        .extracting(x -> x.get("name").asText()).doesNotContain("c", "r", "t", "f", "x");
  }

  @Test
  void executeRefusesWhatItCannotRun() {
    String workflowId = create(grid, "/api/v1/agents", grid.clientKey, "needs-input",
        "{\"inputs\": {\"text\": null}}");
    String path = "/api/v1/agents/workflows/" + workflowId + "/execute";

    assertThat(grid.post(path, grid.clientKey, executeBody("0".repeat(32), "{}", "basic", "high", 60))
        .assertError(400)).isEqualTo("workflow_id in the body ('" + "0".repeat(32) + "') is not the one in the path");
    assertThat(grid.post(path, grid.clientKey, executeBody(workflowId, "{}", "basic", "high", 60)).assertError(422))
        .isEqualTo("inputs.text: is required by this workflow and was not given");
    assertThat(grid.post(path, grid.clientKey, executeBody(workflowId, "{\"text\": 1}", "basic", "high", 0))
        .assertError(422)).isEqualTo("timeout_seconds must be at least 1 s, not 0 s");
    assertThat(grid.post(path, grid.clientKey, executeBody(workflowId, "{\"text\": 1}", "basic", "urgent", 60))
        .assertError(422)).isEqualTo("priority must be low, normal or high, not 'urgent'");
    assertThat(grid.post("/api/v1/agents/workflows/" + "0".repeat(32) + "/execute", grid.clientKey, "{}")
        .assertError(404)).isEqualTo("workflow " + "0".repeat(32) + " not found");
    assertThat(grid.post("/api/v1/agents/workflows/nope/execute", grid.clientKey, "{}").assertError(404))
        .isEqualTo("workflow not found");
    assertThat(grid.get("/api/v1/agents/workflows/nope", grid.clientKey).assertError(404))
        .isEqualTo("workflow not found");
    assertThat(grid.get("/api/v1/agents/executions/nope", grid.clientKey).assertError(404))
        .isEqualTo("execution not found");
    assertThat(grid.get("/api/v1/agents/workflows?status=done", grid.clientKey).assertError(422))
        .startsWith("status must be one of pending, running");
  }

  @Test
  void oddBodiesGetA4xxWithADetailNeverA5xx() {
    String workflowId = create(grid, "/api/v1/agents", grid.clientKey, "target", null);
    String executionId = execute(grid, "/api/v1/agents", grid.clientKey, workflowId, "{}");
    List<String> creates = List.of("null", "\"wf\"", "[]", "{\"name\": \"x\", \"steps\": 5}",
        "{\"name\": \"x\", \"steps\": [{\"type\": \"noop\"}]}", "{\"name\": \"x\", \"inputs\": {\"a b\": 1}}",
        "{\"name\": \"x\", \"max_execution_time\": 1e30}", "{\"name\": \"x\", \"max_execution_time\": 0}",
        "{\"name\": \"x\", \"max_cost_budget\": \"abc\"}", "{\"name\": \"x\", \"max_cost_budget\": 1e400}",
        "{\"name\": \"x\", \"max_cost_budget\": 0.000000001}", "{\"name\": \"" + "n".repeat(101) + "\"}",
        "{\"name\": \"x\\u0000\"}", "{\"name\": \"x\", \"workflow_id\": \"" + "a".repeat(300) + "\"}",
        "{\"name\": \"x\", \"steps\": {\"a\": " + "[".repeat(40) + "]".repeat(40) + "}}",
        "{\"name\": \"x\", \"tags\": [\"\"]}", "{\"name\": \"x\", \"output\": \"{{steps.none.result}}\"}");
    for (String body : creates) {
      Reply r = grid.post("/api/v1/agents/workflows", grid.clientKey, body);
      assertThat(r.status()).as(body + " → " + r.body()).isBetween(400, 499);
      assertThat(r.assertError(r.status())).as(body).isNotBlank();
    }
    List<String> executes = List.of("null", "7", "{\"inputs\": \"x\"}", "{\"inputs\": {\"n\": 1e999999}}",
        "{\"priority\": 1e10}", "{\"priority\": -1}", "{\"timeout_seconds\": -5}",
        "{\"timeout_seconds\": \"soon\"}", "{\"verification_level\": \"\"}", "{\"max_cost_budget\": -0.5}");
    for (String body : executes) {
      Reply r = grid.post("/api/v1/agents/workflows/" + workflowId + "/execute", grid.clientKey, body);
      assertThat(r.status()).as(body + " → " + r.body()).isBetween(400, 499);
      assertThat(r.assertError(r.status())).as(body).isNotBlank();
    }
    for (String body : List.of("[]", "{\"reason\": 5}", "{\"reason\": \"x\", \"more\": 1}")) {
      Reply r = grid.post("/api/v1/agents/executions/" + executionId + "/cancel", grid.clientKey, body);
      assertThat(r.assertError(422)).as(body).isNotBlank();
    }
  }

  @Test
  void anotherClientsWorkflowsAndExecutionsAreNotFoundAndOnlyClientsMayCall() {
    String workflowId = create(grid, "/api/v1/agents", grid.clientKey, "private", null);
    String executionId = execute(grid, "/api/v1/agents", grid.clientKey, workflowId, "{}");
    String other = grid.otherClientKey;

    assertThat(grid.get("/api/v1/agents/workflows/" + workflowId, other).assertError(404))
        .isEqualTo("workflow " + workflowId + " not found");
    assertThat(grid.post("/api/v1/agents/workflows/" + workflowId + "/execute", other,
        executeBody(workflowId, "{}", "basic", "high", 60)).assertError(404))
        .isEqualTo("workflow " + workflowId + " not found");
    for (String path : List.of("/api/v1/agents/executions/" + executionId, "/v1/agents/executions/" + executionId,
        "/api/v1/agents/executions/" + executionId + "/events")) {
      assertThat(grid.get(path, other).assertError(404)).isEqualTo("execution " + executionId + " not found");
    }
    assertThat(grid.post("/api/v1/agents/executions/" + executionId + "/cancel", other).assertError(404))
        .isEqualTo("execution " + executionId + " not found");
    assertThat(grid.get("/api/v1/agents/workflows?limit=200", other).json())
        .extracting(x -> x.get("id").asText()).doesNotContain(workflowId);
    assertThat(grid.get("/api/v1/agents/executions?limit=200", other).json())
        .extracting(x -> x.get("id").asText()).doesNotContain(executionId);

    // A public workflow: others may list (by owner) and read it, but not its executions.
    String shared = create(grid, "/api/v1/agents", grid.clientKey, "shared",
        "{\"is_public\": true, \"tags\": [\"demo\"]}");
    assertThat(ok(grid, "/api/v1/agents/workflows/" + shared, other).get("owner_id").asText()).isEqualTo("client-a");
    assertThat(grid.get("/api/v1/agents/workflows?owner=client-a&type=demo", other).json())
        .extracting(x -> x.get("id").asText()).containsExactly(shared);
    assertThat(grid.get("/api/v1/agents/workflows?type=demo", other).json()).isEmpty();

    assertThat(grid.get("/api/v1/agents/workflows", grid.workerKey).assertError(403)).isNotBlank();
    assertThat(grid.post("/api/v1/agents/workflows", grid.workerKey, createBody("w", "basic", null)).assertError(403))
        .isNotBlank();
    assertThat(grid.get("/api/v1/agents/executions/" + executionId, grid.workerKey).assertError(403)).isNotBlank();
    assertThat(grid.get("/api/v1/agents/workflows", null).assertError(401)).isEqualTo("missing api key");
    assertThat(grid.get("/v1/agents/executions/" + executionId, "nokey").assertError(401)).isEqualTo("invalid api key");
  }

  @Test
  void openApiDescribesTheAgentRoutesUnderBothPrefixes() {
    JsonNode api = ok(grid, "/openapi.json", null);
    for (String prefix : AgentRoutes.PREFIXES) {
      assertThat(api.get("paths").properties()).extracting(Map.Entry::getKey).contains(prefix + "/workflows",
          prefix + "/workflows/{workflow_id}", prefix + "/workflows/{workflow_id}/execute", prefix + "/executions",
          prefix + "/executions/{execution_id}", prefix + "/executions/{execution_id}/status",
          prefix + "/executions/{execution_id}/cancel", prefix + "/executions/{execution_id}/events",
          prefix + "/executions/{execution_id}/stream");
    }
    api.get("paths").properties().forEach(p -> {
      JsonNode ref = p.getValue().get("$ref");
      if (ref != null) {
        String name = ref.asText().substring("#/components/pathItems/".length());
        assertThat(api.get("components").get("pathItems").has(name)).as(p.getKey()).isTrue();
      }
    });
  }
}
