package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.Money;
import net.aitbc.grid.coordinator.store.NewExecution;
import net.aitbc.grid.coordinator.store.NewWorkflow;
import net.aitbc.grid.coordinator.store.StepSnapshot;
import net.aitbc.grid.coordinator.store.StoredWorkflow;
import net.aitbc.grid.coordinator.workflow.Definitions;
import net.aitbc.grid.coordinator.workflow.InvalidWorkflow;
import net.aitbc.grid.coordinator.workflow.Planner;
import net.aitbc.grid.coordinator.workflow.WorkflowDefinition;
import net.aitbc.grid.db.enums.VerificationLevel;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import org.jspecify.annotations.Nullable;

/**
 * Turns CreateWorkflow and ExecuteWorkflow requests into what to store, or says exactly what is
 * wrong: a definition's fault is INVALID_ARGUMENT whose description starts with the field path
 * ({@code steps.summarise.depends_on: ...}).
 */
final class WorkflowRequests {
  static final int DEFAULT_MAX_EXECUTION_S = 3600;
  static final int MAX_EXECUTION_S = 86_400;
  static final int MAX_DESCRIPTION = 10_000;
  static final int MAX_TAGS = 20;
  static final int MAX_INPUTS_CHARS = 1 << 20;
  private static final BigDecimal MAX_BUDGET = new BigDecimal("1000000");
  private static final Map<String, Integer> PRIORITY_NAMES = Map.of("low", 2, "normal", 5, "high", 8);

  private WorkflowRequests() {}

  static NewWorkflow workflow(CreateWorkflowRequest r, Principal principal, UUID id, Predicate<String> knownType) {
    String name = r.getName().strip();
    if (name.isEmpty() || name.length() > 100) {
      throw invalid("name must be 1 to 100 characters, not " + name.length());
    }
    text(name, "name", 100);
    text(r.getDescription(), "description", MAX_DESCRIPTION);
    WorkflowDefinition def = definition(r.getDefinitionJson(), knownType);
    int maxSeconds = DEFAULT_MAX_EXECUTION_S;
    if (r.hasMaxExecutionTime()) {
      long s = r.getMaxExecutionTime().getSeconds();
      if (s < 1 || s > MAX_EXECUTION_S || r.getMaxExecutionTime().getNanos() != 0) {
        throw invalid("max_execution_time must be a whole number of seconds from 1 to " + MAX_EXECUTION_S + ", not "
            + s + " s");
      }
      maxSeconds = (int) s;
    }
    if (r.getTagsCount() > MAX_TAGS) {
      throw invalid("tags may hold at most " + MAX_TAGS + " tags, not " + r.getTagsCount());
    }
    List<String> tags = new ArrayList<>();
    for (String t : r.getTagsList()) {
      String tag = t.strip();
      if (tag.isEmpty()) {
        throw invalid("tags must not hold an empty tag");
      }
      text(tag, "tags", 64);
      tags.add(tag);
    }
    VerificationLevel level = WorkflowProtos.level(r.getVerificationLevel(), "verification_level");
    return new NewWorkflow(id, principal.clientId(), requestId(r.getRequestId()), name, r.getDescription(),
        r.getDefinitionJson().isBlank() ? "{}" : r.getDefinitionJson(), def.steps().size(),
        level == null ? VerificationLevel.basic : level, maxSeconds,
        budget(r.getMaxCostBudget(), "max_cost_budget", BigDecimal.ZERO), tags, r.getIsPublic());
  }

  /** Parses a definition; its fault is INVALID_ARGUMENT naming the field. */
  static WorkflowDefinition definition(String json, Predicate<String> knownType) {
    try {
      return Definitions.parse(json, knownType);
    } catch (InvalidWorkflow e) {
      throw invalid(e.getMessage());
    }
  }

  static NewExecution execution(ExecuteWorkflowRequest r, Principal principal, UUID id, StoredWorkflow w) {
    WorkflowDefinition def = definition(w.definition(), type -> true);
    ObjectNode given;
    try {
      given = r.getInputsJson().isBlank() ? JsonChecks.object("{}", "inputs_json", MAX_INPUTS_CHARS)
          : JsonChecks.object(r.getInputsJson(), "inputs_json", MAX_INPUTS_CHARS);
    } catch (JsonChecks.Invalid e) {
      throw invalid(e.getMessage());
    }
    ObjectNode inputs;
    try {
      inputs = Planner.inputs(def, given);
    } catch (InvalidWorkflow e) {
      throw invalid(e.getMessage());
    }
    int timeout = w.maxExecutionSeconds();
    if (r.hasTimeout()) {
      long s = r.getTimeout().getSeconds();
      if (s < 1 || r.getTimeout().getNanos() < 0 || r.getTimeout().getNanos() >= 1_000_000_000) {
        throw invalid("timeout must be at least 1 s, not " + s + " s");
      }
      // The workflow's bound wins over a longer timeout (the CLI always sends one, 3600 s unless told).
      timeout = (int) Math.min(s, w.maxExecutionSeconds());
    }
    VerificationLevel level = WorkflowProtos.level(r.getVerificationLevel(), "verification_level");
    List<StepSnapshot> steps = def.steps().stream().map(s -> new StepSnapshot(s.name(), StepSnapshot.Status.WAITING,
        List.of(), -1, 0, BigDecimal.ZERO, null, null, null, s.dependsOn())).toList();
    return new NewExecution(id, w.workflowId(), principal.clientId(), principal.keyId(), requestId(r.getRequestId()),
        inputs.toString(), priority(r), level == null ? w.verificationLevel() : level, timeout,
        budget(r.getMaxCostBudget(), "max_cost_budget", w.maxCostBudget()), steps);
  }

  private static int priority(ExecuteWorkflowRequest r) {
    return priority(r.hasPriority(), r.getPriority(), r.getPriorityName());
  }

  /** A priority given as a number (when {@code given}) or a name; 5 when neither. */
  static int priority(boolean given, int priority, String name) {
    if (given) {
      if (priority < 0 || priority > 9) {
        throw invalid("priority must be between 0 and 9, not " + priority);
      }
      return priority;
    }
    if (name.isBlank()) {
      return 5;
    }
    Integer named = PRIORITY_NAMES.get(name.strip().toLowerCase(java.util.Locale.ROOT));
    if (named == null) {
      throw invalid("priority_name must be low, normal or high, not '" + GrpcErrors.abbreviate(name) + "'");
    }
    return named;
  }

  /** A cost budget: 0 (none) to 1,000,000 with at most 8 decimals; {@code absent} when empty. */
  private static BigDecimal budget(String text, String field, BigDecimal absent) {
    if (text.isBlank()) {
      return absent;
    }
    BigDecimal v = Money.parse(text, field);
    if (v.signum() < 0 || v.compareTo(MAX_BUDGET) > 0) {
      throw invalid(field + " must be from 0 (no bound) to 1000000, not " + v.stripTrailingZeros().toPlainString());
    }
    return v;
  }

  static @Nullable String requestId(String text) {
    if (text.isEmpty()) {
      return null;
    }
    text(text, "request_id", 200);
    return text;
  }

  static void text(String value, String field, int max) {
    try {
      JsonChecks.checkText(value, field, max);
    } catch (JsonChecks.Invalid e) {
      throw invalid(e.getMessage());
    }
  }
}
