package net.aitbc.grid.coordinator.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A validated workflow: its steps in definition order, each with every step it waits for, and what
 * its inputs and result are. Made by {@link Definitions#parse}.
 *
 * @param steps the steps, in the order the definition lists them
 * @param inputs the declared inputs and their defaults (a null default: the input is required)
 * @param output the template of the final result, or null for the default (see {@link Planner})
 */
public record WorkflowDefinition(List<Step> steps, ObjectNode inputs, @Nullable JsonNode output) {
  /**
   * One step: a job template.
   *
   * @param name unique in its workflow
   * @param type the job type
   * @param payload the job's payload template (a JSON object)
   * @param constraints the job's constraints template, or null
   * @param priority 0 to 9, or null for the execution's
   * @param retries how many times a failed job is tried again (its max attempts less one), or null for the grid's default
   * @param timeoutSeconds how long one attempt may run, or null for the grid's default
   * @param paymentAmount what each of its jobs pays (escrowed like any job's), or null for unpaid
   * @param dependsOn every step it waits for: those named in depends_on and those it refers to
   * @param forEach the reference to the list it fans out over, or null for one job
   */
  public record Step(String name, String type, ObjectNode payload, @Nullable ObjectNode constraints,
      @Nullable Integer priority, @Nullable Integer retries, @Nullable Integer timeoutSeconds,
      @Nullable String paymentAmount, List<String> dependsOn, @Nullable Reference forEach) {}

  /** The steps by name. */
  public Map<String, Step> byName() {
    Map<String, Step> m = new java.util.LinkedHashMap<>();
    steps.forEach(s -> m.put(s.name(), s));
    return m;
  }
}
