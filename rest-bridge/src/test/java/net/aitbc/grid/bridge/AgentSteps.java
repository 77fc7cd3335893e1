package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import org.jspecify.annotations.Nullable;

/** The agent routes' requests as the aitbc CLI sends them, and workers that hold their step jobs. */
final class AgentSteps {
  static final String ID = "[0-9a-f]{32}";
  /** Generous: the machine may be busy. */
  static final Duration WAIT = Duration.ofSeconds(30);
  /** Metrics whose receipt price is 10 × the default unit price 0.02 = 0.2. */
  static final String UNITS = "{\"units\":10,\"unit_type\":\"tokens\"}";
  /** README Example 1, the workflow file of {@code agent create --workflow-file workflow.json}. */
  static final String EXAMPLE_1 = """
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

  private AgentSteps() {}

  /**
   * What {@code agent create --name N --description d --verification V [--workflow-file F]} sends: its
   * own fields (a fresh uuid4 as workflow_id, the default time and budget) shallow-merged with the
   * file's, whose keys win.
   */
  static String createBody(String name, String verification, @Nullable String file) {
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
  static String executeBody(String workflowId, String inputs, String verification, String priority, int timeout) {
    ObjectNode body = Grid.JSON.createObjectNode().put("verification_level", verification)
        .put("workflow_id", workflowId);
    body.set("inputs", parse(inputs));
    return body.put("priority", priority).put("timeout_seconds", timeout).toString();
  }

  static JsonNode parse(String json) {
    try {
      return Grid.JSON.readTree(json);
    } catch (IOException e) {
      throw new AssertionError(json, e);
    }
  }

  /** {@code agent create} under {@code prefix}; the new workflow's id. */
  static String create(Grid grid, String prefix, String key, String name, @Nullable String file) {
    Reply r = grid.post(prefix + "/workflows", key, createBody(name, "basic", file));
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    return r.json().get("id").asText();
  }

  /** {@code agent execute} under {@code prefix}; the new execution's id. */
  static String execute(Grid grid, String prefix, String key, String workflowId, String inputs) {
    Reply r = grid.post(prefix + "/workflows/" + workflowId + "/execute", key,
        executeBody(workflowId, inputs, "basic", "normal", 60));
    assertThat(r.status()).as(r.body()).isEqualTo(202);
    return r.json().get("id").asText();
  }

  /** {@code agent status EXEC_ID} of the grid's client: the body, checked for what {@code --watch} reads. */
  static JsonNode status(Grid grid, String executionId) {
    JsonNode s = ok(grid, "/api/v1/agents/executions/" + executionId, grid.clientKey);
    assertThat(s.get("status").asText()).isIn("pending", "running", "completed", "failed", "cancelled");
    assertThat(s.get("progress").isInt()).as(s.toString()).isTrue();
    assertThat(s.get("progress").asInt()).isBetween(0, 100);
    assertThat(s.get("current_step").isInt()).as(s.toString()).isTrue();
    assertThat(s.get("total_cost").isNumber()).as(s.toString()).isTrue();
    return s;
  }

  /** A worker of these (test-own) types that holds every assignment until the test answers it. */
  static Holding holdingWorker(Grid grid, String workerId, String... types) {
    TestWorker w = TestWorker.connect(grid.coordinator.grpcPort(), grid.workerKey, workerId, List.of(types), List.of());
    ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
    // It heartbeats, so that it keeps its (test-short) lease however slowly the test goes.
    beat.scheduleAtFixedRate(w::heartbeat, 500, 500, TimeUnit.MILLISECONDS);
    return new Holding(ScriptedWorker.over(w, 4, a -> new ScriptedWorker.Hold()), beat);
  }

  /** A holding worker: the test answers its assignments. */
  record Holding(ScriptedWorker scripted, ScheduledExecutorService beat) implements AutoCloseable {
    List<Assignment> assignments() {
      return scripted.assignments();
    }

    TestWorker worker() {
      return scripted.worker();
    }

    /** Completes a held assignment with this result (priced by {@link #UNITS}) and takes another. */
    void complete(Assignment a, String resultJson) {
      worker().complete(a.getJobId(), a.getAttempt(), resultJson, UNITS);
      worker().credit(1);
    }

    @Override
    public void close() {
      beat.shutdownNow();
      scripted.close();
    }
  }
}
