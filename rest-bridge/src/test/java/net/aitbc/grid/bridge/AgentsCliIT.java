package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.AgentSteps.EXAMPLE_1;
import static net.aitbc.grid.bridge.AgentSteps.ID;
import static net.aitbc.grid.bridge.AgentSteps.WAIT;
import static net.aitbc.grid.bridge.AgentSteps.create;
import static net.aitbc.grid.bridge.AgentSteps.createBody;
import static net.aitbc.grid.bridge.AgentSteps.execute;
import static net.aitbc.grid.bridge.AgentSteps.executeBody;
import static net.aitbc.grid.bridge.AgentSteps.holdingWorker;
import static net.aitbc.grid.bridge.AgentSteps.parse;
import static net.aitbc.grid.bridge.AgentSteps.status;
import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.aitbc.grid.bridge.AgentSteps.Holding;
import net.aitbc.grid.bridge.CliContractIT.Event;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.v1.Assignment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Agent workflows over REST with a real coordinator and workers on real streams, as the aitbc CLI
 * calls them (contract §8 and §11: {@code agent create --workflow-file}, {@code agent list}, {@code
 * agent execute}, {@code agent status}), on both prefixes; then cancel, paging and the event stream.
 * Each test's steps have job types of their own, so that no job of one test reaches another's worker.
 */
class AgentsCliIT {
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
  void theClisCallsCreateListExecuteAndWatchReadmeExampleOne() {
    try (Holding w = holdingWorker(grid, "w-agents-cli", "embedding", "noop")) {
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
      JsonNode running = status(grid, executionId);
      assertThat(running.get("status").asText()).isEqualTo("running");
      assertThat(running.get("step_states").get("report").get("status").asText()).isEqualTo("waiting");
      progress.add(running.get("progress").asInt());
      for (Assignment a : List.copyOf(w.assignments())) {
        int before = status(grid, executionId).get("progress").asInt();
        w.complete(a, "{\"embedding\": [0.5], \"dimensions\": 1}");
        progress.add(await().atMost(WAIT).until(
            () -> status(grid, executionId).get("progress").asInt(), p -> p > before));
      }
      await().atMost(WAIT).until(() -> w.assignments().size() == 4);
      Assignment report = w.assignments().get(3);
      String echo = parse(report.getPayloadJson()).get("echo").asText();
      assertThat(echo).isEqualTo("embedded 'q' and [\"a\",\"b\"]");
      JsonNode waiting = status(grid, executionId);
      assertThat(waiting.get("current_step_name").asText()).isEqualTo("report");
      assertThat(waiting.get("total_cost").decimalValue()).isEqualByComparingTo("0.6");
      w.complete(report, "{\"echo\": " + Grid.JSON.valueToTree(echo) + "}");
      JsonNode done = await().atMost(WAIT).until(() -> status(grid, executionId),
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
  void cancelEndsTheExecutionAndItsRunningStepJobs() {
    try (Holding w = holdingWorker(grid, "w-agents-cancel", "t-cancel")) {
      String workflowId = create(grid, "/api/v1/agents", grid.clientKey, "to-cancel",
          "{\"steps\": {\"slow\": {\"type\": \"t-cancel\", \"payload\": {\"prompt\": \"wait\"}},"
              + " \"after\": {\"type\": \"t-cancel\", \"depends_on\": [\"slow\"], \"payload\": {}}}}");
      String executionId = execute(grid, "/api/v1/agents", grid.clientKey, workflowId, "{}");
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
        JsonNode s = status(grid, executionId);
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
  void listsPageWithTheNextOffsetInAHeader() {
    String workflowId = create(grid, "/api/v1/agents", grid.clientKey, "paged", null);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.addFirst(execute(grid, "/api/v1/agents", grid.clientKey, workflowId, "{\"i\": " + i + "}"));
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
    try (Holding w = holdingWorker(grid, "w-agents-sse", "t-sse")) {
      String workflowId = create(grid, "/api/v1/agents", grid.clientKey, "watched",
          "{\"steps\": {\"first\": {\"type\": \"t-sse\", \"payload\": {\"prompt\": \"1\"}},"
              + " \"second\": {\"type\": \"t-sse\", \"payload\": {\"prompt\": \"{{steps.first.result.output}}\"}}}}");
      String executionId = execute(grid, "/api/v1/agents", grid.clientKey, workflowId, "{}");
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
      w.complete(first, "{\"output\": \"one\"}");
      await().atMost(WAIT).until(() -> w.assignments().size() == 2);
      w.complete(w.assignments().get(1), "{\"output\": \"two\"}");
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
