package net.aitbc.grid.coordinator.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.CoordinationStrategy;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jspecify.annotations.Nullable;

/**
 * Decides what a network run does next from the executions it has made: which agents' executions to
 * make now (with what inputs), and whether the run has completed (with what result) or failed (and
 * why). A pure function of the strategy, the agents and their executions, so that it answers the
 * same after any crash or on any coordinator; an execution it asks for in a slot that has one is
 * never made again (the slot is the key).
 *
 * <p>Rules (README "Networks"): centralized runs the agents one after another, each given the result
 * of the one before as {@code previous}, and the first that does not complete fails the run;
 * decentralized runs them all at once and waits for every one; hybrid runs the agents after the
 * first at once, then the first on their results. A run completes only when every execution it made
 * completed; its result then holds every agent's result by workflow id, or hybrid's aggregate.
 */
public final class NetworkPlanner {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private NetworkPlanner() {}

  /**
   * One agent of the network.
   *
   * @param workflowId its workflow
   * @param name the workflow's name, for messages
   */
  public record Agent(UUID workflowId, String name) {
    /** How messages name it. */
    String describe() {
      return "agent '" + name + "' (" + JobIds.format(workflowId) + ")";
    }
  }

  /**
   * The execution made in one slot.
   *
   * @param status where it stands
   * @param result its result once completed, or null
   * @param error why it failed or was cancelled, or null
   */
  public record Slot(ExecutionStatus status, @Nullable JsonNode result, @Nullable String error) {
    boolean unfinished() {
      return status == ExecutionStatus.pending || status == ExecutionStatus.running;
    }
  }

  /**
   * An execution to make.
   *
   * @param slot the agent's place (hybrid's aggregation: 0)
   * @param inputs its inputs: the task and what its place adds
   */
  public record Start(int slot, ObjectNode inputs) {}

  /** How the run stands. */
  public enum Outcome { RUNNING, COMPLETED, FAILED }

  /**
   * The decision.
   *
   * @param start the executions to make now (none once the run has ended)
   * @param outcome how the run stands
   * @param collected every completed agent's result so far by workflow id (hybrid's aggregation
   *     aside)
   * @param result the run's result, once it has ended
   * @param error why it failed, once failed
   */
  public record Plan(List<Start> start, Outcome outcome, ObjectNode collected, @Nullable JsonNode result,
      @Nullable String error) {}

  /** The plan for a run of {@code agents} on {@code task}, whose executions so far are {@code slots}. */
  public static Plan plan(CoordinationStrategy strategy, List<Agent> agents, Map<Integer, Slot> slots,
      JsonNode task) {
    return switch (strategy) {
      case centralized -> inSequence(agents, slots, task);
      case decentralized -> inParallel(agents, 0, slots, task);
      case hybrid -> aggregated(agents, slots, task);
    };
  }

  private static Plan inSequence(List<Agent> agents, Map<Integer, Slot> slots, JsonNode task) {
    ObjectNode collected = NODES.objectNode();
    for (int i = 0; i < agents.size(); i++) {
      Slot slot = slots.get(i);
      if (slot == null) {
        ObjectNode inputs = inputs(task);
        if (i > 0) {
          inputs.set(AgentInputs.PREVIOUS, collected.get(id(agents.get(i - 1))));
        }
        return running(List.of(new Start(i, inputs)), collected);
      }
      if (slot.unfinished()) {
        return running(List.of(), collected);
      }
      if (slot.status() != ExecutionStatus.completed) {
        return new Plan(List.of(), Outcome.FAILED, collected, collected, failure(agents.get(i), slot));
      }
      collected.set(id(agents.get(i)), result(slot));
    }
    return new Plan(List.of(), Outcome.COMPLETED, collected, collected, null);
  }

  /** Agents {@code from} onwards, all at once on the task; the plan ends when every one has. */
  private static Plan inParallel(List<Agent> agents, int from, Map<Integer, Slot> slots, JsonNode task) {
    ObjectNode collected = NODES.objectNode();
    List<Start> start = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    boolean unfinished = false;
    for (int i = from; i < agents.size(); i++) {
      Slot slot = slots.get(i);
      if (slot == null) {
        start.add(new Start(i, inputs(task)));
      } else if (slot.unfinished()) {
        unfinished = true;
      } else if (slot.status() == ExecutionStatus.completed) {
        collected.set(id(agents.get(i)), result(slot));
      } else {
        failures.add(failure(agents.get(i), slot));
      }
    }
    if (!start.isEmpty() || unfinished) {
      return running(start, collected);
    }
    if (!failures.isEmpty()) {
      String error = failures.size() == 1 ? failures.getFirst() : failures.size() + " of " + (agents.size() - from)
          + " agents did not complete: " + String.join("; ", failures);
      return new Plan(List.of(), Outcome.FAILED, collected, collected, error);
    }
    return new Plan(List.of(), Outcome.COMPLETED, collected, collected, null);
  }

  private static Plan aggregated(List<Agent> agents, Map<Integer, Slot> slots, JsonNode task) {
    Plan parallel = inParallel(agents, 1, slots, task);
    if (parallel.outcome() != Outcome.COMPLETED) {
      return parallel;
    }
    ObjectNode collected = parallel.collected();
    Slot aggregation = slots.get(0);
    if (aggregation == null) {
      ObjectNode inputs = inputs(task);
      inputs.set(AgentInputs.RESULTS, collected.deepCopy());
      return running(List.of(new Start(0, inputs)), collected);
    }
    if (aggregation.unfinished()) {
      return running(List.of(), collected);
    }
    if (aggregation.status() != ExecutionStatus.completed) {
      return new Plan(List.of(), Outcome.FAILED, collected, collected,
          "the aggregation by " + failure(agents.getFirst(), aggregation));
    }
    return new Plan(List.of(), Outcome.COMPLETED, collected, result(aggregation), null);
  }

  private static Plan running(List<Start> start, ObjectNode collected) {
    return new Plan(List.copyOf(start), Outcome.RUNNING, collected, null, null);
  }

  private static ObjectNode inputs(JsonNode task) {
    ObjectNode inputs = NODES.objectNode();
    inputs.set(AgentInputs.TASK, task.deepCopy());
    return inputs;
  }

  private static String failure(Agent agent, Slot slot) {
    return agent.describe() + " " + slot.status() + (slot.error() == null ? "" : ": " + slot.error());
  }

  private static String id(Agent agent) {
    return JobIds.format(agent.workflowId());
  }

  private static JsonNode result(Slot slot) {
    return slot.result() == null ? NullNode.getInstance() : slot.result();
  }
}
