package net.aitbc.grid.coordinator.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.workflow.NetworkPlanner.Agent;
import net.aitbc.grid.coordinator.workflow.NetworkPlanner.Outcome;
import net.aitbc.grid.coordinator.workflow.NetworkPlanner.Plan;
import net.aitbc.grid.coordinator.workflow.NetworkPlanner.Slot;
import net.aitbc.grid.coordinator.workflow.NetworkPlanner.Start;
import net.aitbc.grid.db.enums.CoordinationStrategy;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.junit.jupiter.api.Test;

class NetworkPlannerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNode TASK = json("{'q': 'why'}");
  private final List<Agent> agents = List.of(agent("lead"), agent("a"), agent("b"));
  private final Map<Integer, Slot> slots = new HashMap<>();

  private static Agent agent(String name) {
    return new Agent(UUID.nameUUIDFromBytes(name.getBytes()), name);
  }

  private static JsonNode json(String singleQuoted) {
    try {
      return JSON.readTree(singleQuoted.replace('\'', '"'));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private String id(int i) {
    return JobIds.format(agents.get(i).workflowId());
  }

  private Plan plan(CoordinationStrategy strategy) {
    return NetworkPlanner.plan(strategy, agents, slots, TASK);
  }

  private void running(int slot) {
    slots.put(slot, new Slot(ExecutionStatus.running, null, null));
  }

  private void completed(int slot, String result) {
    slots.put(slot, new Slot(ExecutionStatus.completed, json(result), null));
  }

  private void failed(int slot, String error) {
    slots.put(slot, new Slot(ExecutionStatus.failed, null, error));
  }

  @Test
  void centralizedStartsOneAgentAtATimeGivingEachThePreviousResult() {
    Plan first = plan(CoordinationStrategy.centralized);
    assertThat(first.outcome()).isEqualTo(Outcome.RUNNING);
    assertThat(first.start()).extracting(Start::slot).containsExactly(0);
    assertThat(first.start().getFirst().inputs()).isEqualTo(json("{'task': {'q': 'why'}}"));

    running(0);
    assertThat(plan(CoordinationStrategy.centralized).start()).isEmpty();

    completed(0, "{'answer': 1}");
    Plan second = plan(CoordinationStrategy.centralized);
    assertThat(second.start()).extracting(Start::slot).containsExactly(1);
    assertThat(second.start().getFirst().inputs()).isEqualTo(json("{'task': {'q': 'why'}, 'previous': {'answer': 1}}"));

    completed(1, "{'answer': 2}");
    completed(2, "{'answer': 3}");
    Plan done = plan(CoordinationStrategy.centralized);
    assertThat(done.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(done.result()).isEqualTo(json("{'" + id(0) + "': {'answer': 1}, '" + id(1) + "': {'answer': 2}, '"
        + id(2) + "': {'answer': 3}}"));
  }

  @Test
  void centralizedStopsAtTheFirstAgentThatDoesNotComplete() {
    completed(0, "{'answer': 1}");
    failed(1, "step s failed: boom");
    Plan p = plan(CoordinationStrategy.centralized);

    assertThat(p.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(p.start()).isEmpty();
    assertThat(p.error()).isEqualTo("agent 'a' (" + id(1) + ") failed: step s failed: boom");
    assertThat(p.result()).isEqualTo(json("{'" + id(0) + "': {'answer': 1}}"));
  }

  @Test
  void decentralizedStartsEveryAgentOnTheTaskAndWaitsForAllOfThem() {
    Plan first = plan(CoordinationStrategy.decentralized);
    assertThat(first.start()).extracting(Start::slot).containsExactly(0, 1, 2);
    assertThat(first.start()).allSatisfy(s -> assertThat(s.inputs()).isEqualTo(json("{'task': {'q': 'why'}}")));

    running(0);
    failed(1, "boom");
    completed(2, "{'x': 2}");
    Plan waiting = plan(CoordinationStrategy.decentralized);
    assertThat(waiting.outcome()).isEqualTo(Outcome.RUNNING);
    assertThat(waiting.start()).isEmpty();

    completed(0, "{'x': 0}");
    Plan ended = plan(CoordinationStrategy.decentralized);
    assertThat(ended.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(ended.error()).isEqualTo("agent 'a' (" + id(1) + ") failed: boom");
    assertThat(ended.result()).isEqualTo(json("{'" + id(0) + "': {'x': 0}, '" + id(2) + "': {'x': 2}}"));

    completed(1, "{'x': 1}");
    assertThat(plan(CoordinationStrategy.decentralized).outcome()).isEqualTo(Outcome.COMPLETED);
  }

  @Test
  void hybridRunsTheOthersThenTheFirstOnTheirResults() {
    Plan first = plan(CoordinationStrategy.hybrid);
    assertThat(first.start()).extracting(Start::slot).containsExactly(1, 2);

    completed(1, "{'x': 1}");
    completed(2, "{'x': 2}");
    Plan aggregate = plan(CoordinationStrategy.hybrid);
    assertThat(aggregate.start()).extracting(Start::slot).containsExactly(0);
    assertThat(aggregate.start().getFirst().inputs()).isEqualTo(json("{'task': {'q': 'why'}, 'results': {'" + id(1)
        + "': {'x': 1}, '" + id(2) + "': {'x': 2}}}"));

    completed(0, "{'summary': 3}");
    Plan done = plan(CoordinationStrategy.hybrid);
    assertThat(done.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(done.result()).isEqualTo(json("{'summary': 3}"));
  }

  @Test
  void hybridDoesNotAggregateWhenAnAgentFailed() {
    completed(1, "{'x': 1}");
    slots.put(2, new Slot(ExecutionStatus.cancelled, null, "cancelled by client"));
    Plan p = plan(CoordinationStrategy.hybrid);

    assertThat(p.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(p.start()).isEmpty();
    assertThat(p.error()).isEqualTo("agent 'b' (" + id(2) + ") cancelled: cancelled by client");
  }

  @Test
  void agentInputsSayWhatAPlaceGivesAndWhatAWorkflowReadsAndRequires() {
    WorkflowDefinition chained = Definitions.parse("""
        {"inputs": {"task": null, "previous": {}},
         "steps": {"s": {"type": "noop", "payload": {"echo": "{{inputs.previous.answer}}"}}}}""", t -> true);
    WorkflowDefinition aggregator = Definitions.parse("""
        {"inputs": {"task": null, "results": null},
         "steps": {"s": {"type": "noop", "payload": {"echo": "{{inputs.task}}"}}},
         "output": {"all": "{{inputs.results}}"}}""", t -> true);
    WorkflowDefinition noSteps = Definitions.parse("{}", t -> true);

    assertThat(AgentInputs.reads(chained, AgentInputs.PREVIOUS)).isTrue();
    assertThat(AgentInputs.reads(chained, AgentInputs.RESULTS)).isFalse();
    assertThat(AgentInputs.reads(aggregator, AgentInputs.RESULTS)).isTrue();
    assertThat(AgentInputs.reads(aggregator, AgentInputs.PREVIOUS)).isFalse();
    assertThat(AgentInputs.reads(noSteps, AgentInputs.PREVIOUS)).isTrue();
    assertThat(AgentInputs.given(CoordinationStrategy.hybrid, 0)).isEqualTo(Set.of("task", "results"));
    assertThat(AgentInputs.given(CoordinationStrategy.centralized, 0)).isEqualTo(Set.of("task"));
    assertThat(AgentInputs.missing(aggregator, AgentInputs.given(CoordinationStrategy.hybrid, 1)))
        .containsExactly("results");
    assertThat(AgentInputs.missing(aggregator, AgentInputs.given(CoordinationStrategy.hybrid, 0))).isEmpty();
  }
}
