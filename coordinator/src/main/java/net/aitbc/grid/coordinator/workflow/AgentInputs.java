package net.aitbc.grid.coordinator.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import net.aitbc.grid.coordinator.workflow.WorkflowDefinition.Step;
import net.aitbc.grid.db.enums.CoordinationStrategy;

/**
 * The inputs a network gives its agents, and what an agent's workflow does with them: which it
 * requires, and which it reads. Every agent gets {@value #TASK}; in a centralized network every agent
 * after the first also gets {@value #PREVIOUS} (the result of the agent before it), and in a hybrid
 * one the first agent, which aggregates, gets {@value #RESULTS} (the others' results by workflow id).
 */
public final class AgentInputs {
  /** The task the network was run on. */
  public static final String TASK = "task";
  /** Centralized: the result of the agent before. */
  public static final String PREVIOUS = "previous";
  /** Hybrid's aggregation: the other agents' results by workflow id. */
  public static final String RESULTS = "results";

  private AgentInputs() {}

  /** The inputs the agent in {@code slot} of a network with this strategy is given. */
  public static Set<String> given(CoordinationStrategy strategy, int slot) {
    return switch (strategy) {
      case centralized -> slot == 0 ? Set.of(TASK) : Set.of(TASK, PREVIOUS);
      case decentralized -> Set.of(TASK);
      case hybrid -> slot == 0 ? Set.of(TASK, RESULTS) : Set.of(TASK);
    };
  }

  /** The inputs {@code def} requires (declared with a null default) that are not among {@code given}. */
  public static List<String> missing(WorkflowDefinition def, Set<String> given) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : def.inputs().properties()) {
      if (e.getValue().isNull() && !given.contains(e.getKey())) {
        out.add(e.getKey());
      }
    }
    return out;
  }

  /**
   * Whether {@code def} reads the input {@code name}: a template refers to it (or to all the inputs),
   * or it has no steps, and so returns its inputs as its result.
   */
  public static boolean reads(WorkflowDefinition def, String name) {
    if (def.steps().isEmpty()) {
      return true;
    }
    boolean[] found = {false};
    BiConsumer<String, Reference> check = (field, ref) -> {
      if (ref.root() == Reference.Root.INPUTS && (ref.path().isEmpty() || ref.path().getFirst().equals(name))) {
        found[0] = true;
      }
    };
    for (Step s : def.steps()) {
      Templates.references(s.payload(), "payload", check);
      if (s.constraints() != null) {
        Templates.references(s.constraints(), "constraints", check);
      }
      if (s.forEach() != null) {
        check.accept("for_each", s.forEach());
      }
    }
    if (def.output() != null) {
      Templates.references(def.output(), "output", check);
    }
    return found[0];
  }
}
