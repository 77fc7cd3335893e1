package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The aitbc CLI's {@code agent network} requests (contract §8), sent as the CLI sends them, against a
 * real coordinator whose agents' steps a scripted worker runs: create, execute, status with metrics,
 * optimize, under both prefixes, and what is refused and how.
 */
@ExtendWith(Grid.PerClass.class)
class AgentNetworkCliIT {
  private static final String ID = "[0-9a-f]{32}";
  private static final String NETWORKS = "/api/v1/agents/networks";

  private final Grid grid;
  private final ManagedChannel channel;
  private final WorkflowServiceBlockingStub workflows;

  AgentNetworkCliIT(Grid grid) {
    this.grid = grid;
    this.channel = GrpcClients.channel(grid.coordinator.grpcPort());
    this.workflows = GrpcClients.withKey(WorkflowServiceGrpc.newBlockingStub(channel), grid.clientKey);
  }

  /** Completes with {@code {"output": prompt + "!"}} after {@code sleepMs}. */
  private static Complete echo(Assignment a, long sleepMs) {
    try {
      Thread.sleep(sleepMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    String prompt = Workflows.parse(a.getPayloadJson()).path("prompt").asText();
    return new Complete(JsonNodeFactory.instance.objectNode().put("output", prompt + "!").toString(), "{}");
  }

  /** A workflow of one inference step on {@code model} prompting with {@code prompt}. */
  private String workflow(String name, String model, String inputs, String prompt) {
    return Workflows.create(workflows, name, "{'inputs': " + inputs + ", 'steps': {'s': {'type': 'inference', "
        + "'payload': {'model': '" + model + "', 'prompt': '" + prompt + "'}}}, "
        + "'output': {'output': '{{steps.s.result.output}}'}}");
  }

  /** The network's run once it has ended, as the status route lists it. */
  private JsonNode ended(String prefix, String network, String runId) {
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
      Reply r = grid.get(prefix + "/" + network + "/status", grid.clientKey);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      for (JsonNode run : r.json().get("runs")) {
        if (run.get("id").asText().equals(runId)) {
          return run;
        }
      }
      throw new AssertionError("run " + runId + " not listed: " + r.body());
    }, run -> List.of("completed", "failed", "cancelled").contains(run.get("status").asText()));
  }

  @Test
  void theCliCreatesExecutesWatchesAndOptimizesAHybridNetwork() {
    try (ScriptedWorker w = ScriptedWorker.over(grid.worker("w-net-cli", "net-cli"), 4, a -> echo(a, 20))) {
      String lead = workflow("lead", "net-cli", "{'task': null, 'results': null}", "combine {{inputs.results}}");
      String helper = workflow("helper", "net-cli", "{'task': null}", "{{inputs.task.text}} by helper");

      // agent network create --name n --agents LEAD,HELPER --coordination hybrid
      Reply created = grid.post(NETWORKS, grid.clientKey, "{\"name\": \"n\", \"description\": \"\", \"agents\": [\""
          + lead + "\", \"" + helper + "\"], \"coordination_strategy\": \"hybrid\"}");
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      String network = created.json().get("id").asText();
      assertThat(network).matches(ID);
      assertThat(created.json().get("coordination_strategy").asText()).isEqualTo("hybrid");
      assertThat(created.json().get("agents")).extracting(JsonNode::asText).containsExactly(lead, helper);

      // agent network execute NET --task task.json
      Reply executed = grid.post(NETWORKS + "/" + network + "/execute", grid.clientKey,
          "{\"task\": {\"text\": \"hello\"}, \"priority\": \"normal\"}");
      assertThat(executed.status()).as(executed.body()).isEqualTo(202);
      String runId = executed.json().get("id").asText();
      assertThat(runId).matches(ID).isNotEqualTo(network);
      assertThat(executed.json().get("status").asText()).isIn("pending", "running");
      assertThat(executed.json().get("task")).isEqualTo(Workflows.parse("{\"text\":\"hello\"}"));
      JsonNode run = ended(NETWORKS, network, runId);
      assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("completed");
      assertThat(run.get("executions")).extracting(e -> e.get("agent").asText()).containsExactly(helper, lead);
      String aggregate = run.get("result").get("output").asText();
      assertThat(aggregate).startsWith("combine {").contains("\"output\":\"hello by helper!\"").endsWith("!");
      assertThat(run.get("completed_at").asText()).matches(Grid.NAIVE_TIME);

      // agent network status NET --metrics latency,cost
      Reply status = grid.get(NETWORKS + "/" + network + "/status?metrics=latency,cost", grid.clientKey);
      assertThat(status.status()).as(status.body()).isEqualTo(200);
      JsonNode s = status.json();
      assertThat(s.get("metrics")).extracting(JsonNode::asText).containsExactly("latency", "cost");
      assertThat(s.get("network").get("id").asText()).isEqualTo(network);
      JsonNode leadStats = s.get("agents").get(0);
      assertThat(leadStats.get("agent").asText()).isEqualTo(lead);
      assertThat(leadStats.get("name").asText()).isEqualTo("lead");
      assertThat(leadStats.has("latency_p50_ms")).isTrue();
      assertThat(leadStats.get("total_cost").isNumber()).isTrue();
      assertThat(leadStats.has("success_rate")).isFalse();
      assertThat(leadStats.has("executions")).isFalse();
      assertThat(s.get("run_stats").has("latency_p50_ms")).isTrue();
      assertThat(s.get("runs")).hasSize(1);

      // agent network optimize NET --objective speed
      Reply optimized = grid.post(NETWORKS + "/" + network + "/optimize", grid.clientKey, "{\"objective\": \"speed\"}");
      assertThat(optimized.status()).as(optimized.body()).isEqualTo(200);
      JsonNode o = optimized.json();
      assertThat(o.get("objective").asText()).isEqualTo("speed");
      JsonNode keep = o.get("recommendations").get(0);
      assertThat(keep.get("action").asText()).isEqualTo("keep");
      // Hybrid: a completed run takes the helper's time, then the aggregation's.
      JsonNode agents = o.get("measurements").get("agents");
      long expected = agents.get(0).get("latency_p50_ms").asLong() + agents.get(1).get("latency_p50_ms").asLong();
      assertThat(keep.get("metric").asText()).isEqualTo("ms_per_completed_run");
      assertThat(keep.get("current").asLong()).isEqualTo(expected);
      assertThat(keep.get("expected_effect").asText()).isEqualTo("no change advised; time per completed run stays "
          + expected + " ms");
      assertThat(agents.get(1).get("success_rate").asDouble()).isEqualTo(1.0);
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void underTheV1PrefixIndependentAgentsInSequenceAreAdvisedToRunInParallel() {
    try (ScriptedWorker w = ScriptedWorker.over(grid.worker("w-net-v1", "net-v1"), 4,
        a -> echo(a, Workflows.parse(a.getPayloadJson()).get("prompt").asText().startsWith("slow") ? 200 : 60))) {
      String slow = workflow("slow", "net-v1", "{'task': null}", "slow {{inputs.task}}");
      String fast = workflow("fast", "net-v1", "{'task': null}", "fast {{inputs.task}}");
      // The CLI's --agents a,b, sent as one string, is read as the list it means.
      Reply created = grid.post("/v1/agents/networks", grid.clientKey, "{\"name\": \"serial\", \"agents\": \""
          + slow + "," + fast + "\", \"coordination_strategy\": \"centralized\"}");
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      String network = created.json().get("id").asText();
      List<String> runs = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        Reply executed = grid.post("/v1/agents/networks/" + network + "/execute", grid.clientKey,
            "{\"task\": " + i + "}");
        assertThat(executed.status()).as(executed.body()).isEqualTo(202);
        runs.add(executed.json().get("id").asText());
        assertThat(ended("/v1/agents/networks", network, runs.getLast()).get("status").asText())
            .isEqualTo("completed");
      }
      Reply optimized = grid.post("/v1/agents/networks/" + network + "/optimize", grid.clientKey,
          "{\"objective\": \"speed\"}");

      assertThat(optimized.status()).as(optimized.body()).isEqualTo(200);
      JsonNode r = optimized.json().get("recommendations").get(0);
      assertThat(r.get("action").asText()).isEqualTo("run_in_parallel");
      assertThat(r.get("coordination_strategy").asText()).isEqualTo("decentralized");
      assertThat(r.get("agents")).extracting(JsonNode::asText).containsExactly(slow, fast);
      JsonNode agents = optimized.json().get("measurements").get("agents");
      long slowMs = agents.get(0).get("latency_p50_ms").asLong();
      long fastMs = agents.get(1).get("latency_p50_ms").asLong();
      assertThat(r.get("current").asLong()).isEqualTo(slowMs + fastMs);
      assertThat(r.get("expected").asLong()).isEqualTo(Math.max(slowMs, fastMs));
      assertThat(r.get("reason").asText()).startsWith("no agent reads 'previous'");
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void badRequestsAreRefusedWithClearStatusesAndAnotherClientsNetworkIsNotFound() {
    try {
      String wf = Workflows.create(workflows, "plain", "{'inputs': {'task': null}}");
      String unknown = "0123456789abcdef0123456789abcdef";

      assertThat(grid.post(NETWORKS, grid.clientKey, "{\"name\": \"n\", \"agents\": [\"" + wf + "\", \"" + unknown
          + "\"]}").assertError(422)).isEqualTo("agents[1]: workflow " + unknown + " not found");
      assertThat(grid.post(NETWORKS, grid.clientKey, "{\"name\": \"n\", \"agents\": [\"" + wf
          + "\"], \"coordination_strategy\": \"star\"}").assertError(422))
          .isEqualTo("coordination_strategy must be one of centralized, decentralized, hybrid, not 'star'");
      assertThat(grid.post(NETWORKS, grid.clientKey, "{\"name\": \"n\"}").assertError(422)).startsWith("agents is "
          + "required");
      assertThat(grid.post(NETWORKS, grid.clientKey, "{\"name\": \"n\", \"agents\": [1]}").assertError(422))
          .isEqualTo("agents[0] must be a workflow id (a string), not an integer");
      assertThat(grid.post(NETWORKS, grid.clientKey, "{\"name\": ").assertError(400)).startsWith("the request body is "
          + "not valid JSON");

      Reply created = grid.post(NETWORKS, grid.clientKey, "{\"name\": \"n\", \"agents\": [\"" + wf + "\"]}");
      assertThat(created.status()).as(created.body()).isEqualTo(201);
      assertThat(created.json().get("coordination_strategy").asText()).isEqualTo("centralized");
      String network = created.json().get("id").asText();
      assertThat(grid.post(NETWORKS + "/" + network + "/optimize", grid.clientKey, "{\"objective\": \"fast\"}")
          .assertError(422)).isEqualTo("objective must be one of speed, efficiency, cost, quality, not 'fast'");
      assertThat(grid.get(NETWORKS + "/" + network + "/status?metrics=latency,accuracy", grid.clientKey)
          .assertError(422)).startsWith("metrics: 'accuracy' is not a metric; the metrics are executions,");
      assertThat(grid.post(NETWORKS + "/" + network + "/execute", grid.clientKey, "{\"priority\": \"high\"}")
          .assertError(422)).startsWith("task is required");
      assertThat(grid.post(NETWORKS + "/" + network + "/execute", grid.clientKey,
          "{\"task\": 1, \"priority\": \"top\"}").assertError(422)).isEqualTo("priority must be low, normal or high, not 'top'");

      String other = grid.otherClientKey;
      assertThat(grid.get(NETWORKS + "/" + network + "/status", other).assertError(404)).contains("not found");
      assertThat(grid.post(NETWORKS + "/" + network + "/execute", other, "{\"task\": 1}").assertError(404))
          .contains("not found");
      assertThat(grid.post(NETWORKS + "/" + network + "/optimize", other, "{\"objective\": \"cost\"}")
          .assertError(404)).contains("not found");
      assertThat(grid.get("/v1/agents/networks/" + unknown + "/status", grid.clientKey).assertError(404))
          .isEqualTo("network " + unknown + " not found");
      assertThat(grid.get(NETWORKS + "/" + network + "/status", grid.workerKey).assertError(403)).contains("worker");
      assertThat(grid.get(NETWORKS + "/" + network + "/status", null).assertError(401)).isEqualTo("missing api key");
    } finally {
      channel.shutdownNow();
    }
  }
}
