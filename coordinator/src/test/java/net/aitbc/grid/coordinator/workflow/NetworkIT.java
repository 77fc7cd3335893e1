package net.aitbc.grid.coordinator.workflow;

import static net.aitbc.grid.coordinator.testing.Workflows.create;
import static net.aitbc.grid.coordinator.testing.Workflows.json;
import static net.aitbc.grid.coordinator.testing.Workflows.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.Networks;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Fail;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Hold;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Reply;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.v1.AgentStats;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CoordinationStrategy;
import net.aitbc.grid.v1.CreateNetworkRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteNetworkRequest;
import net.aitbc.grid.v1.GetNetworkStatusRequest;
import net.aitbc.grid.v1.GetNetworkStatusResponse;
import net.aitbc.grid.v1.NetworkRun;
import net.aitbc.grid.v1.OptimizeNetworkRequest;
import net.aitbc.grid.v1.OptimizeNetworkResponse;
import net.aitbc.grid.v1.Recommendation;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Networks over a real coordinator, PostgreSQL and hand-spoken workers: each strategy's order and
 * inputs, the run's result, the status figures against the executions they come from, and
 * recommendations that follow from them. Each test has its own client and its own job type.
 */
class NetworkIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  /** Metrics whose receipt price is 10 × the default unit price 0.02 = 0.2. */
  static final String UNITS = "{\"units\":10,\"unit_type\":\"tokens\"}";

  private WorkflowServiceBlockingStub client;

  private void as(String clientId) {
    client = Workflows.client(grid, grid.clientKey(clientId));
  }

  /** Completes with {@code {"output": prompt + "!"}}. */
  static Reply echo(Assignment a) {
    String prompt = parse(a.getPayloadJson()).path("prompt").asText();
    return new Complete(JsonNodeFactory.instance.objectNode().put("output", prompt + "!").toString(), UNITS);
  }

  /** A workflow of one step of {@code type} that prompts with {@code prompt}; its result is the step's output. */
  private String agent(String name, String type, String inputs, String prompt) {
    return create(client, name, "{'inputs': " + inputs + ", 'steps': {'s': {'type': '" + type
        + "', 'payload': {'prompt': '" + prompt + "'}}}, 'output': {'output': '{{steps.s.result.output}}'}}");
  }

  private static StatusRuntimeException refusal(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void centralizedRunsTheAgentsInOrderEachGivenThePreviousResult() {
    as("central");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-central", 4, NetworkIT::echo, "t-central")) {
      String first = agent("first", "t-central", "{'task': null}", "{{inputs.task.q}}");
      String second = agent("second", "t-central", "{'task': null, 'previous': null}",
          "{{inputs.previous.output}} then");
      String third = agent("third", "t-central", "{'task': null, 'previous': null}",
          "{{inputs.previous.output}} done");
      String net = Networks.create(client, "pipeline", CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED,
          first, second, third);
      NetworkRun run = Networks.ended(client, net, Networks.execute(client, net, "{'q': 'hi'}"));

      assertThat(run.getStatus()).as(run.getErrorMessage()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      assertThat(w.assignments()).extracting(a -> parse(a.getPayloadJson()).get("prompt").asText())
          .containsExactly("hi", "hi! then", "hi! then! done");
      assertThat(parse(run.getResultJson())).isEqualTo(parse(json("{'" + first + "': {'output': 'hi!'}, '" + second
          + "': {'output': 'hi! then!'}, '" + third + "': {'output': 'hi! then! done!'}}")));
      List<Execution> executions = run.getExecutionsList();
      assertThat(executions).extracting(Execution::getWorkflowId).containsExactly(first, second, third);
      assertThat(parse(executions.get(1).getInputsJson())).isEqualTo(parse(json(
          "{'task': {'q': 'hi'}, 'previous': {'output': 'hi!'}}")));
      // Each started only once the one before had ended.
      for (int i = 1; i < 3; i++) {
        assertThat(instant(executions.get(i).getCreateTime())).isAfterOrEqualTo(instant(executions.get(i - 1)
            .getEndTime()));
      }
      assertThat(run.getTotalCost()).isEqualTo("0.6");
      assertThat(parse(run.getTaskJson())).isEqualTo(parse("{\"q\":\"hi\"}"));
    }
  }

  @Test
  void decentralizedRunsEveryAgentAtOnceAndCollectsEveryResult() {
    as("decentral");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-decentral", 4, a -> new Hold(), "t-decentral")) {
      List<String> agents = new ArrayList<>();
      for (String name : List.of("a", "b", "c")) {
        agents.add(agent(name, "t-decentral", "{'task': null}", "{{inputs.task.q}} by " + name));
      }
      String net = Networks.create(client, "fan", CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED,
          agents.toArray(String[]::new));
      String runId = Networks.execute(client, net, "{'q': 'hi'}");
      // All three are out at once, none answered yet.
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 3);
      assertThat(w.assignments()).extracting(a -> parse(a.getPayloadJson()).get("prompt").asText())
          .containsExactlyInAnyOrder("hi by a", "hi by b", "hi by c");
      assertThat(Networks.run(client, net, runId).getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_RUNNING);
      for (Assignment a : List.copyOf(w.assignments())) {
        Complete c = (Complete) echo(a);
        w.worker().complete(a.getJobId(), a.getAttempt(), c.resultJson(), c.metricsJson());
      }
      NetworkRun run = Networks.ended(client, net, runId);

      assertThat(run.getStatus()).as(run.getErrorMessage()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      assertThat(parse(run.getResultJson())).isEqualTo(parse(json("{'" + agents.get(0) + "': {'output': 'hi by a!'}, '"
          + agents.get(1) + "': {'output': 'hi by b!'}, '" + agents.get(2) + "': {'output': 'hi by c!'}}")));
      assertThat(run.getExecutionsList()).allSatisfy(e ->
          assertThat(parse(e.getInputsJson())).isEqualTo(parse(json("{'task': {'q': 'hi'}}"))));
    }
  }

  @Test
  void hybridRunsTheOthersThenTheFirstAggregatesTheirResults() {
    as("hybrid");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-hybrid", 4, NetworkIT::echo, "t-hybrid")) {
      String lead = agent("lead", "t-hybrid", "{'task': null, 'results': null}", "sum of {{inputs.results}}");
      String a = agent("a", "t-hybrid", "{'task': null}", "{{inputs.task.q}} by a");
      String b = agent("b", "t-hybrid", "{'task': null}", "{{inputs.task.q}} by b");
      String net = Networks.create(client, "panel", CoordinationStrategy.COORDINATION_STRATEGY_HYBRID, lead, a, b);
      NetworkRun run = Networks.ended(client, net, Networks.execute(client, net, "{'q': 'hi'}"));

      assertThat(run.getStatus()).as(run.getErrorMessage()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      List<String> prompts = w.assignments().stream().map(x -> parse(x.getPayloadJson()).get("prompt").asText())
          .toList();
      assertThat(prompts).hasSize(3);
      assertThat(prompts.subList(0, 2)).containsExactlyInAnyOrder("hi by a", "hi by b");
      String aggregate = prompts.get(2);
      assertThat(aggregate).startsWith("sum of {").contains("\"" + a + "\":{\"output\":\"hi by a!\"}")
          .contains("\"" + b + "\":{\"output\":\"hi by b!\"}");
      assertThat(parse(run.getResultJson())).isEqualTo(JsonNodeFactory.instance.objectNode()
          .put("output", aggregate + "!"));
      assertThat(run.getExecutionsList()).extracting(Execution::getWorkflowId).last().isEqualTo(lead);
    }
  }

  @Test
  void statusFiguresAreThoseOfTheExecutionsAndAFailingAgentIsAdvisedToBeDropped() {
    as("measured");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-measured", 4,
        a -> parse(a.getPayloadJson()).get("prompt").asText().startsWith("bad") ? new Fail("model crashed", false)
            : echo(a), "t-measured")) {
      String good = agent("good", "t-measured", "{'task': null}", "good {{inputs.task}}");
      String bad = agent("bad", "t-measured", "{'task': null}", "bad {{inputs.task}}");
      String net = Networks.create(client, "measured", CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED, good,
          bad);
      for (int i = 0; i < 3; i++) {
        NetworkRun run = Networks.ended(client, net, Networks.execute(client, net, Integer.toString(i)));
        assertThat(run.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
        assertThat(run.getErrorMessage()).startsWith("agent 'bad' (" + bad + ") failed: step s failed: model crashed");
        // Every result that was made is kept.
        assertThat(parse(run.getResultJson()).get(good).get("output").asText()).isEqualTo("good " + i + "!");
      }
      GetNetworkStatusResponse status = client.getNetworkStatus(GetNetworkStatusRequest.newBuilder()
          .setNetworkId(net).addMetrics("latency, cost").build());

      assertThat(status.getMetricsList()).containsExactly("latency", "cost");
      assertThat(status.getRunsList()).hasSize(3);
      List<Execution> goods = new ArrayList<>();
      status.getRunsList().forEach(r -> r.getExecutionsList().stream().filter(e -> e.getWorkflowId().equals(good))
          .forEach(goods::add));
      AgentStats g = status.getAgents(0);
      assertThat(g.getWorkflowId()).isEqualTo(good);
      assertThat(g.getName()).isEqualTo("good");
      assertThat(g.getExecutions()).isEqualTo(3);
      assertThat(g.getCompleted()).isEqualTo(3);
      assertThat(g.getSuccessRate()).isEqualTo(1.0);
      assertThat(g.getTotalCost()).isEqualTo("0.6");
      assertThat(g.getMeanCost()).isEqualTo("0.2");
      assertThat(g.getCostPerSuccess()).isEqualTo("0.2");
      List<Long> millis = goods.stream().map(e -> Duration.between(instant(e.getStartTime()), instant(e.getEndTime()))
          .toMillis()).sorted().toList();
      assertThat(g.getLatencyP50Ms()).isEqualTo(millis.get(1));
      assertThat(g.getLatencyP95Ms()).isEqualTo(millis.get(2));
      AgentStats b = status.getAgents(1);
      assertThat(b.getName()).isEqualTo("bad");
      assertThat(b.getExecutions()).isEqualTo(3);
      assertThat(b.getFailed()).isEqualTo(3);
      assertThat(b.getSuccessRate()).isZero();
      assertThat(b.getCostPerSuccess()).isEmpty();
      assertThat(status.getRunStats().getRuns()).isEqualTo(3);
      assertThat(status.getRunStats().getFailed()).isEqualTo(3);
      assertThat(status.getRunStats().getTotalCost()).isEqualTo("0.6");

      for (String objective : List.of("quality", "speed", "cost", "efficiency")) {
        OptimizeNetworkResponse o = client.optimizeNetwork(OptimizeNetworkRequest.newBuilder().setNetworkId(net)
            .setObjective(objective).build());
        Recommendation first = o.getRecommendations(0);
        assertThat(first.getAction()).as(objective).isEqualTo("drop");
        assertThat(first.getWorkflowIdsList()).as(objective).containsExactly(bad);
        assertThat(first.getReason()).startsWith("'bad' completed 0 of 3 executions (0%), below 80%");
        assertThat(o.getAgentsList()).isEqualTo(status.getAgentsList());
      }
      Recommendation quality = client.optimizeNetwork(OptimizeNetworkRequest.newBuilder().setNetworkId(net)
          .setObjective("Quality").build()).getRecommendations(0);
      assertThat(quality.getExpectedEffect()).isEqualTo("run success rate: 0% → 100%");
      assertThat(quality.getCurrent()).isEqualTo("0");
      assertThat(quality.getExpected()).isEqualTo("1");
      assertThat(w.assignments()).hasSize(6);
    }
  }

  @Test
  void forSpeedIndependentAgentsInSequenceAreAdvisedToRunInParallelAsMeasured() {
    as("speedy");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-speedy", 2, a -> {
      // Each agent takes as long as its prompt says.
      sleep(parse(a.getPayloadJson()).get("prompt").asLong());
      return echo(a);
    }, "t-speedy")) {
      String slow = agent("slow", "t-speedy", "{'task': null}", "300");
      String fast = agent("fast", "t-speedy", "{'task': null}", "100");
      String net = Networks.create(client, "serial", CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED, slow,
          fast);
      for (int i = 0; i < 3; i++) {
        assertThat(Networks.ended(client, net, Networks.execute(client, net, "{}")).getStatus())
            .isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      }
      OptimizeNetworkResponse o = client.optimizeNetwork(OptimizeNetworkRequest.newBuilder().setNetworkId(net)
          .setObjective("speed").build());

      long p50Slow = o.getAgents(0).getLatencyP50Ms();
      long p50Fast = o.getAgents(1).getLatencyP50Ms();
      assertThat(p50Slow).isGreaterThanOrEqualTo(300);
      assertThat(p50Fast).isGreaterThanOrEqualTo(100);
      assertThat(o.getRecommendationsList()).hasSize(1);
      Recommendation r = o.getRecommendations(0);
      assertThat(r.getAction()).isEqualTo("run_in_parallel");
      assertThat(r.getCoordinationStrategy()).isEqualTo(CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED);
      assertThat(r.getWorkflowIdsList()).containsExactly(slow, fast);
      assertThat(r.getMetric()).isEqualTo("ms_per_completed_run");
      // In sequence a completed run takes the sum of the medians; in parallel the longest.
      assertThat(r.getCurrent()).isEqualTo(Long.toString(p50Slow + p50Fast));
      assertThat(r.getExpected()).isEqualTo(Long.toString(Math.max(p50Slow, p50Fast)));
      assertThat(r.getExpectedEffect()).startsWith("time per completed run: " + (p50Slow + p50Fast) + " ms → "
          + p50Slow + " ms (-");
      // A run took both agents' time, one after the other.
      assertThat(o.getRunStats().getLatencyP50Ms()).isGreaterThanOrEqualTo(400);
    }
  }

  @Test
  void aRunPastItsTimeoutFailsAndItsExecutionsEnd() {
    as("late");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-late", 2, a -> new Hold(), "t-late")) {
      String wait = agent("wait", "t-late", "{'task': null}", "x");
      String net = Networks.create(client, "late", CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED, wait);
      String runId = client.executeNetwork(ExecuteNetworkRequest.newBuilder().setNetworkId(net).setTaskJson("1")
          .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2)).build()).getRun().getRunId();
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 1);
      NetworkRun run = Networks.ended(client, net, runId);

      assertThat(run.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
      assertThat(run.getErrorMessage()).startsWith("timeout of 2 s exceeded after ");
      await().atMost(Duration.ofSeconds(10)).until(() -> Networks.run(client, net, runId).getExecutions(0).getStatus(),
          s -> s == ExecutionStatus.EXECUTION_STATUS_FAILED || s == ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    }
  }

  @Test
  void badRequestsAreRefusedSayingWhatIsWrongAndAnotherClientsNetworkIsNotFound() {
    as("picky");
    String plain = create(client, "plain", "{'inputs': {'task': null}}");
    String reader = create(client, "reader", "{'inputs': {'task': null, 'results': null}}");
    String unknown = "0123456789abcdef0123456789abcdef";

    StatusRuntimeException missing = refusal(() -> Networks.create(client, "n",
        CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED, plain, unknown));
    assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(missing.getStatus().getDescription()).isEqualTo("workflow_ids[1]: workflow " + unknown + " not found");
    StatusRuntimeException needs = refusal(() -> Networks.create(client, "n",
        CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED, plain, reader));
    assertThat(needs.getStatus().getDescription()).isEqualTo("workflow_ids[1]: workflow 'reader' requires the input"
        + " results, which its place in a decentralized network does not give it (it gets task)");
    assertThat(refusal(() -> Networks.create(client, "n", CoordinationStrategy.COORDINATION_STRATEGY_HYBRID, reader))
        .getStatus().getDescription()).startsWith("workflow_ids: a hybrid network needs at least 2 agents");
    assertThat(refusal(() -> Networks.create(client, "n", CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED,
        plain, plain)).getStatus().getDescription()).startsWith("workflow_ids[1] repeats workflow_ids[0]");
    assertThat(refusal(() -> client.createNetwork(CreateNetworkRequest.newBuilder().setName("n").build()))
        .getStatus().getDescription()).isEqualTo("workflow_ids must name 1 to 20 workflows, not 0");

    String net = Networks.create(client, "ok", CoordinationStrategy.COORDINATION_STRATEGY_HYBRID, reader, plain);
    assertThat(refusal(() -> client.optimizeNetwork(OptimizeNetworkRequest.newBuilder().setNetworkId(net)
        .setObjective("fast").build())).getStatus().getDescription())
        .isEqualTo("objective must be one of speed, efficiency, cost, quality, not 'fast'");
    assertThat(refusal(() -> client.getNetworkStatus(GetNetworkStatusRequest.newBuilder().setNetworkId(net)
        .addMetrics("latency,throughput").build())).getStatus().getDescription())
        .isEqualTo("metrics: 'throughput' is not a metric; the metrics are executions, success_rate, latency, cost"
            + " (or all)");
    assertThat(refusal(() -> client.executeNetwork(ExecuteNetworkRequest.newBuilder().setNetworkId(net)
        .setTaskJson("{oops").build())).getStatus().getDescription()).startsWith("task_json is not valid JSON");
    // Not measured yet: nothing to estimate.
    assertThat(client.optimizeNetwork(OptimizeNetworkRequest.newBuilder().setNetworkId(net).setObjective("cost")
        .build()).getRecommendations(0).getAction()).isEqualTo("collect_data");

    WorkflowServiceBlockingStub other = Workflows.client(grid, grid.clientKey("other"));
    for (Runnable call : List.<Runnable>of(
        () -> Networks.status(other, net),
        () -> Networks.execute(other, net, "1"),
        () -> other.optimizeNetwork(OptimizeNetworkRequest.newBuilder().setNetworkId(net).setObjective("cost")
            .build()))) {
      assertThat(refusal(call).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }
    // Another's workflows cannot be made agents either (unless public).
    assertThat(refusal(() -> Networks.create(other, "n", CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED,
        plain)).getStatus().getDescription()).isEqualTo("workflow_ids[0]: workflow " + plain + " not found");
  }

  @Test
  void aRetryWithTheSameRequestIdReturnsTheRunStartedTheFirstTime() {
    as("retry");
    String wf = create(client, "instant", "{}");
    String net = Networks.create(client, "once", CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED, wf);
    ExecuteNetworkRequest request = ExecuteNetworkRequest.newBuilder().setNetworkId(net).setTaskJson("\"t\"")
        .setRequestId("r-1").build();
    String first = client.executeNetwork(request).getRun().getRunId();
    NetworkRun ended = Networks.ended(client, net, first);
    assertThat(ended.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    // A workflow without steps returns its inputs.
    assertThat(parse(ended.getResultJson()).get(wf)).isEqualTo(parse("{\"task\":\"t\"}"));

    NetworkRun again = client.executeNetwork(request).getRun();
    assertThat(again.getRunId()).isEqualTo(first);
    assertThat(again.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(again.getExecutionsCount()).isEqualTo(1);
    assertThat(Networks.status(client, net).getRunsList()).hasSize(1);
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
