package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.aitbc.grid.bridge.CliContractIT.Event;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Agent workflows over REST with a real coordinator and workers on real streams, as the aitbc CLI
 * calls them (contract §8 and §11: {@code agent create --workflow-file}, {@code agent list}, {@code
 * agent execute}, {@code agent status}), on both prefixes; then what malformed workflows, other
 * clients, cancel and the event stream get. Each test's steps have job types of their own, so that no
 * job of one test reaches another's worker.
 */
class AgentsIT {
  private static final String ID = "[0-9a-f]{32}";
  /** Generous: the machine may be busy. */
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** Metrics whose receipt price is 10 × the default unit price 0.02 = 0.2. */
  private static final String UNITS = "{\"units\":10,\"unit_type\":\"tokens\"}";
  /** README Example 1, the workflow file of {@code agent create --workflow-file workflow.json}. */
  private static final String EXAMPLE_1 = """
      {
        "inputs": {"query": null, "documents": []},
        "steps": {
          "query": {"type": "embedding", "payload": {"input": "{{inputs.query}}"}},
          "documents": {"type": "embedding", "for_each": "{{inputs.documents}}", "payload": {"input": "{{item}}"}},
          "report": {"type": "noop", "depends_on": ["query", "documents"],
                     "payload": {"echo": "embedded '{{inputs.query}}' and {{inputs.documents}}"}}
        },
        "output": {"query": "{{steps.query.result.embedding}}", "documents": "{{steps.documents.result}}",
                   "report": "{{steps.report.result.echo}}"}
      }""";

  private static Grid grid;
  private static ScheduledExecutorService heartbeats;

  @BeforeAll
  static void start() {
    grid = Grid.start();
    heartbeats = Executors.newSingleThreadScheduledExecutor();
  }

  @AfterAll
  static void stop() {
    heartbeats.shutdownNow();
    grid.close();
  }

  /**
   * What {@code agent create --name N --description D --verification V [--workflow-file F]} sends: its
   * own fields (a fresh uuid4 as workflow_id, the default time and budget) shallow-merged with the
   * file's, whose keys win.
   */
  private static String createBody(String name, String verification, String file) {
    ObjectNode body = Grid.JSON.createObjectNode().put("name", name).put("description", "d")
        .put("verification_level", verification).put("workflow_id", UUID.randomUUID().toString());
    body.putObject("inputs");
    body.put("max_execution_time", 3600).put("max_cost_budget", 0.0);
    if (file != null) {
      body.setAll((ObjectNode) parse(file));
    }
    return body.toString();
  }

  /** What {@code agent execute ID --inputs F --verification V --priority P --timeout T} sends. */
  private static String executeBody(String workflowId, String inputs, String verification, String priority,
      int timeout) {
    ObjectNode body = Grid.JSON.createObjectNode().put("verification_level", verification)
        .put("workflow_id", workflowId);
    body.set("inputs", parse(inputs));
    return body.put("priority", priority).put("timeout_seconds", timeout).toString();
  }

  private static JsonNode parse(String json) {
    try {
      return Grid.JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new AssertionError(json, e);
    }
  }

  private static String create(String prefix, String key, String name, String file) {
    Reply r = grid.post(prefix + "/workflows", key, createBody(name, "basic", file));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  private static String execute(String prefix, String key, String workflowId, String inputs) {
    Reply r = grid.post(prefix + "/workflows/" + workflowId + "/execute", key,
        executeBody(workflowId, inputs, "basic", "normal", 60));
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    return r.json().get("id").asText();
  }

  /** {@code agent status EXEC_ID}: the body, checked for what {@code --watch} reads. */
  private static JsonNode status(String executionId) {
    JsonNode s = ok(grid, "/api/v1/agents/executions/" + executionId, grid.clientKey);
    assertThat(s.get("status").asText()).isIn("pending", "running", "completed", "failed", "cancelled");
    assertThat(s.get("progress").isInt()).as(s.toString()).isTrue();
    assertThat(s.get("progress").asInt()).isBetween(0, 100);
    assertThat(s.get("current_step").isInt()).as(s.toString()).isTrue();
    assertThat(s.get("total_cost").isNumber()).as(s.toString()).isTrue();
    return s;
  }

  /**
   * A worker of these (test-own) types that holds every assignment until the test answers it. It
   * heartbeats, so that it keeps its (test-short) lease however slowly the test goes.
   */
  private static Holding holdingWorker(String workerId, String... types) {
    TestWorker w = TestWorker.connect(grid.coordinator.grpcPort(), grid.workerKey, workerId, List.of(types), List.of());
    return new Holding(ScriptedWorker.over(w, 4, a -> new ScriptedWorker.Hold()),
        heartbeats.scheduleAtFixedRate(w::heartbeat, 500, 500, TimeUnit.MILLISECONDS));
  }

  private record Holding(ScriptedWorker scripted, ScheduledFuture<?> beat) implements AutoCloseable {
    List<Assignment> assignments() {
      return scripted.assignments();
    }

    TestWorker worker() {
      return scripted.worker();
    }

    @Override
    public void close() {
      beat.cancel(false);
      scripted.close();
    }
  }

  private static void complete(Holding w, Assignment a, String resultJson) {
    w.worker().complete(a.getJobId(), a.getAttempt(), resultJson, UNITS);
    w.worker().credit(1);
  }

  private static JsonNode payload(Assignment a) {
    return parse(a.getPayloadJson());
  }

  @Test
  void theClisCallsCreateListExecuteAndWatchReadmeExampleOne() {
    try (Holding w = holdingWorker("w-agents-cli", "embedding", "noop")) {
      // agent create --name wf --description d --verification basic --workflow-file workflow.json
      String body = createBody("wf", "basic", EXAMPLE_1);
      Reply created = grid.post("/api/v1/agents/workflows", grid.clientKey, body);
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      JsonNode wf = created.json();
      String workflowId = wf.get("id").asText();
      assertThat(workflowId).matches(ID);
      assertThat(wf.properties()).extracting(Map.Entry::getKey).startsWith("id", "owner_id", "name", "description",
          "steps", "dependencies", "max_execution_time", "max_cost_budget", "requires_verification",
          "verification_level", "tags", "version", "is_public", "created_at", "updated_at");
      assertThat(wf.get("owner_id").asText()).isEqualTo("client-a");
      assertThat(wf.get("name").asText()).isEqualTo("wf");
      assertThat(wf.get("steps")).isEqualTo(parse(EXAMPLE_1).get("steps"));
      assertThat(wf.get("inputs")).isEqualTo(parse(EXAMPLE_1).get("inputs"));
      assertThat(wf.get("max_execution_time").asInt()).isEqualTo(3600);
      assertThat(wf.get("max_cost_budget").isNumber()).isTrue();
      assertThat(wf.get("verification_level").asText()).isEqualTo("basic");
      assertThat(wf.get("version").asInt()).isEqualTo(1);
      assertThat(wf.get("step_count").asInt()).isEqualTo(3);
      assertThat(wf.get("created_at").asText()).matches(Grid.NAIVE_TIME);
      // The same workflow_id again (a retry): the workflow made the first time, nothing new.
      Reply again = grid.post("/api/v1/agents/workflows", grid.clientKey, body);
      assertThat(again.status()).as(again.body()).isEqualTo(200);
      assertThat(again.json().get("id").asText()).isEqualTo(workflowId);
      assertThat(ok(grid, "/api/v1/agents/workflows/" + workflowId, grid.clientKey)).isEqualTo(wf);

      // agent list --limit 5
      Reply listed = grid.get("/api/v1/agents/workflows?limit=5", grid.clientKey);
      assertThat(listed.status()).as(listed.body()).isEqualTo(200);
      assertThat(listed.json().isArray()).isTrue();
      assertThat(listed.json().size()).isBetween(1, 5);
      assertThat(listed.json()).extracting(x -> x.get("id").asText()).contains(workflowId);

      // agent execute <ID> --inputs inputs.json --verification full --priority high --timeout 60
      Reply started = grid.post("/api/v1/agents/workflows/" + workflowId + "/execute", grid.clientKey,
          executeBody(workflowId, "{\"query\": \"q\", \"documents\": [\"a\", \"b\"]}", "full", "high", 60));
      assertThat(started.status()).as(started.body()).isEqualTo(202);
      JsonNode ex = started.json();
      String executionId = ex.get("id").asText();
      assertThat(executionId).matches(ID).isNotEqualTo(workflowId);
      assertThat(ex.properties()).extracting(Map.Entry::getKey).contains("id", "execution_id", "workflow_id",
          "status", "current_step", "total_steps", "started_at", "estimated_completion", "current_cost",
          "estimated_total_cost");
      assertThat(ex.get("execution_id").asText()).isEqualTo(executionId);
      assertThat(ex.get("workflow_id").asText()).isEqualTo(workflowId);
      assertThat(ex.get("status").asText()).isIn("pending", "running");
      assertThat(ex.get("total_steps").asInt()).isEqualTo(3);
      assertThat(Json.text(ex.get("current_cost"))).isEqualTo("0.0");
      assertThat(ex.get("verification_level").asText()).isEqualTo("full");
      assertThat(ex.get("priority").asInt()).isEqualTo(8);

      // agent status <EXEC_ID>, polled while the worker answers one job at a time.
      List<Integer> progress = new ArrayList<>();
      await().atMost(WAIT).until(() -> w.assignments().size() == 3);
      JsonNode running = status(executionId);
      assertThat(running.get("status").asText()).isEqualTo("running");
      assertThat(running.get("step_states").get("report").get("status").asText()).isEqualTo("waiting");
      progress.add(running.get("progress").asInt());
      for (Assignment a : List.copyOf(w.assignments())) {
        int before = status(executionId).get("progress").asInt();
        complete(w, a, "{\"embedding\": [0.5], \"dimensions\": 1}");
        progress.add(await().atMost(WAIT).until(
            () -> status(executionId).get("progress").asInt(), p -> p > before));
      }
      await().atMost(WAIT).until(() -> w.assignments().size() == 4);
      Assignment report = w.assignments().get(3);
      assertThat(payload(report).get("echo").asText()).isEqualTo("embedded 'q' and [\"a\",\"b\"]");
      JsonNode waiting = status(executionId);
      assertThat(waiting.get("current_step_name").asText()).isEqualTo("report");
      assertThat(waiting.get("total_cost").decimalValue()).isEqualByComparingTo("0.6");
      complete(w, report, "{\"echo\": " + Grid.JSON.valueToTree(payload(report).get("echo").asText()) + "}");
      JsonNode done = await().atMost(WAIT).until(() -> status(executionId),
          s -> s.get("status").asText().equals("completed"));
      progress.add(done.get("progress").asInt());

      assertThat(progress).isSorted().startsWith(0).endsWith(100);
      assertThat(progress).anySatisfy(p -> assertThat(p).isBetween(1, 99));
      assertThat(done.get("current_step").asInt()).isEqualTo(3);
      assertThat(done.get("total_cost").isNumber()).isTrue();
      assertThat(done.get("total_cost").decimalValue()).isEqualByComparingTo(new BigDecimal("0.8"));
      assertThat(Json.text(done.get("total_cost"))).isEqualTo("0.8");
      JsonNode result = done.get("final_result");
      assertThat(result.get("report").asText()).isEqualTo("embedded 'q' and [\"a\",\"b\"]");
      assertThat(result.get("documents").size()).isEqualTo(2);
      assertThat(result.get("query").isArray()).isTrue();
      assertThat(done.get("error_message").isNull()).isTrue();
      assertThat(done.get("started_at").asText()).matches(Grid.NAIVE_TIME);
      assertThat(done.get("completed_at").asText()).matches(Grid.NAIVE_TIME);
      assertThat(done.get("total_execution_time").isNumber()).isTrue();
      assertThat(done.get("verification_proof").isNull()).isTrue();
      JsonNode documents = done.get("step_states").get("documents");
      assertThat(documents.get("status").asText()).isEqualTo("completed");
      assertThat(documents.get("items").asInt()).isEqualTo(2);
      assertThat(documents.get("completed").asInt()).isEqualTo(2);
      assertThat(documents.get("job_ids").size()).isEqualTo(2);
      assertThat(documents.get("cost").decimalValue()).isEqualByComparingTo("0.4");
      assertThat(done.get("step_states").get("report").get("depends_on")).extracting(JsonNode::asText)
          .containsExactly("query", "documents");
      // Each step job is an ordinary job of the client's.
      String jobId = documents.get("job_ids").get(0).asText();
      assertThat(ok(grid, "/v1/jobs/" + jobId, grid.clientKey).get("state").asText()).isEqualTo("COMPLETED");

      // The execution list, by workflow and status.
      Reply executions = grid.get("/api/v1/agents/executions?workflow_id=" + workflowId + "&status=completed",
          grid.clientKey);
      assertThat(executions.status()).as(executions.body()).isEqualTo(200);
      assertThat(executions.json()).extracting(x -> x.get("id").asText()).containsExactly(executionId);
      assertThat(executions.json().get(0).get("final_result")).isEqualTo(result);
      assertThat(grid.get("/api/v1/agents/workflows?status=completed&limit=200", grid.clientKey).json())
          .extracting(x -> x.get("id").asText()).contains(workflowId);
    }
  }

  @Test
  void aWorkflowWithoutStepsCompletesAtOnceWithItsInputsOnTheRoadmapsPrefixToo() {
    // agent create --name empty (no --workflow-file): no steps.
    Reply created = grid.post("/v1/agents/workflows", grid.clientKey, createBody("empty", "basic", null));
    assertThat(created.status()).as(created.body()).isEqualTo(201);
    String workflowId = created.json().get("id").asText();
    assertThat(created.json().get("steps")).isEqualTo(Grid.JSON.createObjectNode());
    assertThat(created.json().get("step_count").asInt()).isZero();
    assertThat(ok(grid, "/api/v1/agents/workflows/" + workflowId, grid.clientKey)).isEqualTo(created.json());

    Reply started = grid.post("/v1/agents/workflows/" + workflowId + "/execute", grid.clientKey,
        executeBody(workflowId, "{\"x\": 1, \"y\": [\"a\"]}", "basic", "low", 60));
    assertThat(started.status()).as(started.body()).isEqualTo(202);
    String executionId = started.json().get("id").asText();
    JsonNode done = await().atMost(WAIT).until(
        () -> ok(grid, "/v1/agents/executions/" + executionId, grid.clientKey),
        s -> s.get("status").asText().equals("completed"));
    assertThat(done.get("final_result")).isEqualTo(parse("{\"x\": 1, \"y\": [\"a\"]}"));
    assertThat(done.get("progress").asInt()).isEqualTo(100);
    assertThat(done.get("total_steps").asInt()).isZero();
    assertThat(Json.text(done.get("total_cost"))).isEqualTo("0.0");
    assertThat(done.get("priority").asInt()).isEqualTo(2);
    // The upstream's status path, and the other prefix, answer the same.
    for (String path : List.of("/api/v1/agents/executions/" + executionId + "/status",
        "/api/v1/agents/executions/" + executionId)) {
      JsonNode same = ok(grid, path, grid.clientKey);
      assertThat(same.get("status")).isEqualTo(done.get("status"));
      assertThat(same.get("final_result")).isEqualTo(done.get("final_result"));
      assertThat(same.get("completed_at")).isEqualTo(done.get("completed_at"));
    }
    Reply listed = grid.get("/v1/agents/workflows?limit=200", grid.clientKey);
    assertThat(listed.json()).extracting(x -> x.get("id").asText()).contains(workflowId);
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
    String workflowId = create("/api/v1/agents", grid.clientKey, "needs-input",
        "{\"inputs\": {\"text\": null}}");
    String path = "/api/v1/agents/workflows/" + workflowId + "/execute";

    assertThat(grid.post(path, grid.clientKey, executeBody("0".repeat(32), "{}", "basic", "high", 60))
        .assertError(400)).isEqualTo("workflow_id in the body ('" + "0".repeat(32) + "') is not the one in the path");
    assertThat(grid.post(path, grid.clientKey, executeBody(workflowId, "{}", "basic", "high", 60)).assertError(422))
        .isEqualTo("inputs.text: is required by this workflow and was not given");
    assertThat(grid.post(path, grid.clientKey, executeBody(workflowId, "{\"text\": 1}", "basic", "high", 7200))
        .assertError(422)).isEqualTo("timeout_seconds must be from 1 s to the workflow's max_execution_time of 3600 s,"
            + " not 7200 s");
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
    String workflowId = create("/api/v1/agents", grid.clientKey, "target", null);
    String executionId = execute("/api/v1/agents", grid.clientKey, workflowId, "{}");
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
        "{\"timeout_seconds\": 99999999999999}", "{\"verification_level\": \"\"}", "{\"max_cost_budget\": -0.5}");
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
    String workflowId = create("/api/v1/agents", grid.clientKey, "private", null);
    String executionId = execute("/api/v1/agents", grid.clientKey, workflowId, "{}");
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
    String shared = create("/api/v1/agents", grid.clientKey, "shared",
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
  void cancelEndsTheExecutionAndItsRunningStepJobs() {
    try (Holding w = holdingWorker("w-agents-cancel", "t-cancel")) {
      String workflowId = create("/api/v1/agents", grid.clientKey, "to-cancel",
          "{\"steps\": {\"slow\": {\"type\": \"t-cancel\", \"payload\": {\"prompt\": \"wait\"}},"
              + " \"after\": {\"type\": \"t-cancel\", \"depends_on\": [\"slow\"], \"payload\": {}}}}");
      String executionId = execute("/api/v1/agents", grid.clientKey, workflowId, "{}");
      await().atMost(WAIT).until(() -> w.assignments().size() == 1);
      String jobId = w.assignments().getFirst().getJobId();

      Reply r = grid.post("/api/v1/agents/executions/" + executionId + "/cancel", grid.clientKey,
          "{\"reason\": \"enough\"}");
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.json().get("id").asText()).isEqualTo(executionId);
      assertThat(r.json().get("status").asText()).isEqualTo("cancelled");
      assertThat(r.json().get("error_message").asText()).contains("enough");
      assertThat(r.json().get("completed_at").asText()).matches(Grid.NAIVE_TIME);
      assertThat(r.json().get("total_cost").isNumber()).isTrue();

      await().atMost(WAIT).untilAsserted(() -> {
        assertThat(ok(grid, "/v1/jobs/" + jobId, grid.clientKey).get("state").asText()).isEqualTo("CANCELED");
        JsonNode s = status(executionId);
        assertThat(s.get("step_states").get("slow").get("status").asText()).isEqualTo("cancelled");
        assertThat(s.get("step_states").get("after").get("status").asText()).isEqualTo("cancelled");
      });
      await().atMost(WAIT).until(() -> w.scripted().revoked().containsKey(jobId));
      // Again: the ended execution, as it is.
      Reply again = grid.post("/v1/agents/executions/" + executionId + "/cancel", grid.clientKey);
      assertThat(again.status()).as(again.body()).isEqualTo(200);
      assertThat(again.json().get("status").asText()).isEqualTo("cancelled");
      assertThat(grid.get("/api/v1/agents/executions?status=cancelled&workflow_id=" + workflowId, grid.clientKey)
          .json()).extracting(x -> x.get("id").asText()).containsExactly(executionId);
    }
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

  @Test
  void listsPageWithTheNextOffsetInAHeader() {
    String workflowId = create("/api/v1/agents", grid.clientKey, "paged", null);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.addFirst(execute("/api/v1/agents", grid.clientKey, workflowId, "{\"i\": " + i + "}"));
    }
    String path = "/api/v1/agents/executions?workflow_id=" + workflowId + "&limit=2";
    Reply first = grid.get(path, grid.clientKey);
    assertThat(first.json()).extracting(x -> x.get("id").asText()).containsExactly(ids.get(0), ids.get(1));
    assertThat(first.headers().firstValue(AgentRoutes.NEXT_OFFSET)).hasValue("2");
    Reply last = grid.get(path + "&offset=2", grid.clientKey);
    assertThat(last.json()).extracting(x -> x.get("id").asText()).containsExactly(ids.get(2));
    assertThat(last.headers().firstValue(AgentRoutes.NEXT_OFFSET)).isEmpty();
    assertThat(grid.get("/api/v1/agents/workflows?limit=1", grid.clientKey).headers()
        .firstValue(AgentRoutes.NEXT_OFFSET)).hasValue("1");
  }

  @Test
  void eventsStreamTheExecutionAfterEveryTransitionAndItsStepsOutput() throws Exception {
    try (Holding w = holdingWorker("w-agents-sse", "t-sse")) {
      String workflowId = create("/api/v1/agents", grid.clientKey, "watched",
          "{\"steps\": {\"first\": {\"type\": \"t-sse\", \"payload\": {\"prompt\": \"1\"}},"
              + " \"second\": {\"type\": \"t-sse\", \"payload\": {\"prompt\": \"{{steps.first.result.output}}\"}}}}");
      String executionId = execute("/api/v1/agents", grid.clientKey, workflowId, "{}");
      HttpRequest req = grid.request("/api/v1/agents/executions/" + executionId + "/events", grid.clientKey)
          .timeout(Duration.ofMinutes(1)).header("Accept", "text/event-stream").GET().build();
      HttpResponse<Stream<String>> r = grid.sendAsync(req, HttpResponse.BodyHandlers.ofLines())
          .get(30, TimeUnit.SECONDS);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(
          t -> assertThat(t).startsWith("text/event-stream"));
      Queue<String> lines = new ConcurrentLinkedQueue<>();
      CompletableFuture<Void> ended = CompletableFuture.runAsync(() -> r.body().forEach(lines::add));

      await().atMost(WAIT).until(() -> w.assignments().size() == 1);
      Assignment first = w.assignments().getFirst();
      // Once a snapshot shows the step running, the watch follows its job's output.
      await().atMost(WAIT).until(() -> CliContractIT.events(lines).stream()
          .anyMatch(e -> e.name().equals("execution")
              && e.data().get("step_states").get("first").get("status").asText().equals("running")));
      w.worker().progress(first.getJobId(), first.getAttempt(), "half way");
      await().atMost(WAIT).until(() -> CliContractIT.events(lines).stream()
          .anyMatch(e -> e.name().equals("progress")));
      complete(w, first, "{\"output\": \"one\"}");
      await().atMost(WAIT).until(() -> w.assignments().size() == 2);
      complete(w, w.assignments().get(1), "{\"output\": \"two\"}");
      ended.get(30, TimeUnit.SECONDS);

      List<Event> events = CliContractIT.events(lines);
      assertThat(events.getFirst().name()).isEqualTo("execution");
      assertThat(events.getFirst().data().get("id").asText()).isEqualTo(executionId);
      JsonNode progress = events.stream().filter(e -> e.name().equals("progress")).findFirst().orElseThrow().data();
      assertThat(progress.get("execution_id").asText()).isEqualTo(executionId);
      assertThat(progress.get("step").asText()).isEqualTo("first");
      assertThat(progress.get("job_id").asText()).isEqualTo(first.getJobId());
      assertThat(progress.get("output").asText()).isEqualTo("half way");
      List<JsonNode> snapshots = events.stream().filter(e -> e.name().equals("execution")).map(Event::data).toList();
      assertThat(snapshots).extracting(s -> s.get("status").asText()).contains("running").last()
          .isEqualTo("completed");
      assertThat(snapshots).extracting(s -> s.get("progress").asInt()).isSorted().last().isEqualTo(100);
      assertThat(snapshots).extracting(s -> s.get("step_states").get("first").get("status").asText())
          .contains("running", "completed");
      assertThat(snapshots).allSatisfy(s -> assertThat(s.get("total_cost").isNumber()).isTrue());
      assertThat(snapshots.getLast().get("final_result")).isEqualTo(parse("{\"second\": {\"output\": \"two\"}}"));
      assertThat(events.getLast().name()).isEqualTo("execution");

      // The same through /stream, for an ended execution: its one snapshot, then the end.
      Reply again = grid.get("/v1/agents/executions/" + executionId + "/stream", grid.clientKey);
      assertThat(again.status()).isEqualTo(200);
      List<Event> replay = CliContractIT.events(new ConcurrentLinkedQueue<>((again.body() + "\n").lines().toList()));
      assertThat(replay).singleElement().satisfies(e -> {
        assertThat(e.name()).isEqualTo("execution");
        assertThat(e.data().get("status").asText()).isEqualTo("completed");
      });
    }
  }
}
