package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Timestamp;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.StepProgress;
import net.aitbc.grid.v1.StepState;
import net.aitbc.grid.v1.VerificationLevel;
import net.aitbc.grid.v1.Workflow;
import org.jspecify.annotations.Nullable;

/**
 * The one JSON mapping of agent workflows (contract §8): the upstream AIAgentWorkflow, and an
 * execution as the upstream's AgentExecutionResponse and AgentExecutionStatus together, with the
 * {@code id} and {@code progress} the CLI reads. Costs are JSON numbers written with the
 * coordinator's exact digits, never through a double, and never null.
 */
final class AgentJson {
  private static final String EXECUTION_PREFIX = "EXECUTION_STATUS_";
  private static final String STEP_PREFIX = "STEP_STATUS_";

  private AgentJson() {}

  /**
   * AIAgentWorkflow: {@code id, owner_id, name, description, steps, dependencies, max_execution_time,
   * max_cost_budget, requires_verification, verification_level, tags, version, is_public, created_at,
   * updated_at}, then ours: the definition's {@code inputs} and {@code output}, and {@code step_count}.
   */
  static ObjectNode workflow(Workflow w) {
    JsonNode definition = Json.parseStored(w.getDefinitionJson());
    ObjectNode o = Json.object();
    o.put("id", w.getWorkflowId());
    o.put("owner_id", w.getClientId());
    o.put("name", w.getName());
    o.put("description", w.getDescription());
    o.set("steps", part(definition, "steps", Json.object()));
    o.set("dependencies", part(definition, "dependencies", Json.object()));
    o.put("max_execution_time", w.getMaxExecutionTime().getSeconds());
    o.set("max_cost_budget", money(w.getMaxCostBudget()));
    // Every execution's receipt is signed; the level says how much it proves.
    o.put("requires_verification", true);
    o.put("verification_level", level(w.getVerificationLevel()));
    ArrayNode tags = o.putArray("tags");
    w.getTagsList().forEach(tags::add);
    o.put("version", w.getVersion());
    o.put("is_public", w.getIsPublic());
    o.put("created_at", JobJson.time(w.getCreateTime()));
    o.put("updated_at", JobJson.time(w.getUpdateTime()));
    o.set("inputs", part(definition, "inputs", Json.object()));
    o.set("output", part(definition, "output", null));
    o.put("step_count", w.getStepCount());
    return o;
  }

  /**
   * An execution: {@code id} (= {@code execution_id}, which the CLI reads), the upstream's
   * AgentExecutionResponse fields ({@code current_cost}, {@code estimated_completion} and {@code
   * estimated_total_cost}, the last two null: the grid makes no estimates) and AgentExecutionStatus
   * fields ({@code step_states} by step name, {@code total_cost}, {@code final_result}, …), {@code
   * progress} (0–100), then ours.
   */
  static ObjectNode execution(Execution e) {
    ObjectNode o = Json.object();
    o.put("id", e.getExecutionId());
    o.put("execution_id", e.getExecutionId());
    o.put("workflow_id", e.getWorkflowId());
    o.put("status", status(e.getStatus()));
    o.put("progress", e.getProgress());
    o.put("current_step", e.getCurrentStep());
    o.put("current_step_name", orNull(e.getCurrentStepName()));
    o.put("total_steps", e.getTotalSteps());
    ObjectNode steps = o.putObject("step_states");
    for (StepState s : e.getStepsList()) {
      steps.set(s.getName(), step(s));
    }
    DecimalNode cost = money(e.getTotalCost());
    o.set("total_cost", cost);
    o.set("current_cost", cost);
    o.putNull("estimated_total_cost");
    o.set("final_result", Json.parseStored(e.getFinalResultJson()));
    o.put("error_message", orNull(e.getErrorMessage()));
    o.put("created_at", JobJson.time(e.getCreateTime()));
    o.put("started_at", e.hasStartTime() ? JobJson.time(e.getStartTime()) : null);
    o.put("completed_at", e.hasEndTime() ? JobJson.time(e.getEndTime()) : null);
    o.putNull("estimated_completion");
    o.put("deadline", e.hasDeadline() ? JobJson.time(e.getDeadline()) : null);
    o.set("total_execution_time", e.hasStartTime() && e.hasEndTime()
        ? DecimalNode.valueOf(seconds(e.getStartTime(), e.getEndTime())) : null);
    o.putNull("verification_proof");
    o.put("verification_level", level(e.getVerificationLevel()));
    o.put("priority", e.getPriority());
    o.set("max_cost_budget", money(e.getMaxCostBudget()));
    o.set("inputs", Json.parseStored(e.getInputsJson()));
    o.put("receipt_id", orNull(e.getReceiptId()));
    return o;
  }

  /** A step job's streamed output: {@code {"execution_id","step","item","job_id","attempt","percent","output"}}. */
  static ObjectNode progress(String executionId, StepProgress p) {
    ObjectNode o = Json.object();
    o.put("execution_id", executionId);
    o.put("step", p.getStep());
    o.put("item", p.getItem());
    o.put("job_id", p.getJobId());
    o.put("attempt", p.getProgress().getAttempt());
    o.put("percent", p.getProgress().getPercent());
    o.put("output", p.getProgress().getOutput());
    return o;
  }

  /** The contract's spelling: {@code EXECUTION_STATUS_CANCELLED} → {@code cancelled}. */
  static String status(ExecutionStatus s) {
    return lower(s.name(), EXECUTION_PREFIX);
  }

  /** {@code basic}, {@code full} or {@code zero-knowledge}; null when unset. */
  static @Nullable String level(VerificationLevel l) {
    return switch (l) {
      case VERIFICATION_LEVEL_BASIC -> "basic";
      case VERIFICATION_LEVEL_FULL -> "full";
      case VERIFICATION_LEVEL_ZERO_KNOWLEDGE -> "zero-knowledge";
      case VERIFICATION_LEVEL_UNSPECIFIED, UNRECOGNIZED -> null;
    };
  }

  private static ObjectNode step(StepState s) {
    ObjectNode o = Json.object();
    o.put("status", lower(s.getStatus().name(), STEP_PREFIX));
    ArrayNode deps = o.putArray("depends_on");
    s.getDependsOnList().forEach(deps::add);
    o.put("items", s.getItems());
    o.put("completed", s.getItemsCompleted());
    ArrayNode jobs = o.putArray("job_ids");
    s.getJobIdsList().forEach(jobs::add);
    o.set("cost", money(s.getCost()));
    o.put("error", orNull(s.getError()));
    o.put("started_at", s.hasStartTime() ? JobJson.time(s.getStartTime()) : null);
    o.put("completed_at", s.hasEndTime() ? JobJson.time(s.getEndTime()) : null);
    return o;
  }

  private static @Nullable JsonNode part(@Nullable JsonNode definition, String field, @Nullable JsonNode absent) {
    JsonNode n = definition == null ? null : definition.get(field);
    return n == null || n.isNull() ? absent : n;
  }

  /**
   * A decimal as a JSON number with exactly the coordinator's digits, at least one decimal place
   * (0.0, 0.6, 2.0): a float, as the upstream writes costs. Empty (never sent) is 0.0.
   */
  private static DecimalNode money(String decimal) {
    BigDecimal v = decimal.isEmpty() ? BigDecimal.ZERO : new BigDecimal(decimal).stripTrailingZeros();
    return DecimalNode.valueOf(v.scale() < 1 ? v.setScale(1) : v);
  }

  private static BigDecimal seconds(Timestamp from, Timestamp to) {
    BigDecimal a = BigDecimal.valueOf(from.getSeconds()).add(BigDecimal.valueOf(from.getNanos(), 9));
    BigDecimal b = BigDecimal.valueOf(to.getSeconds()).add(BigDecimal.valueOf(to.getNanos(), 9));
    // Milliseconds are the precision worth showing.
    BigDecimal s = b.subtract(a).setScale(3, RoundingMode.HALF_EVEN).stripTrailingZeros();
    return s.scale() < 1 ? s.setScale(1) : s;
  }

  private static String lower(String name, String prefix) {
    return (name.startsWith(prefix) ? name.substring(prefix.length()) : name).toLowerCase(Locale.ROOT);
  }

  private static @Nullable String orNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
