package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;
import static net.aitbc.grid.bridge.Requests.abbreviate;
import static net.aitbc.grid.bridge.Requests.kind;
import static net.aitbc.grid.bridge.Requests.present;
import static net.aitbc.grid.bridge.Requests.text;
import static net.aitbc.grid.bridge.Requests.whole;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Duration;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ListExecutionsRequest;
import net.aitbc.grid.v1.ListWorkflowsRequest;
import net.aitbc.grid.v1.VerificationLevel;
import org.jspecify.annotations.Nullable;

/**
 * Reads the agent routes' bodies and queries (contract §8) into WorkflowService requests, or says why
 * not: 400 when a body is not JSON, 422 when a field has the wrong JSON type or is not a field of the
 * request, or a query value is not one the route knows. The definition itself (steps, references,
 * cycles, types) and every range are the coordinator's to check; its INVALID_ARGUMENT names the step
 * and field and comes back as 422.
 */
final class AgentRequests {
  /** The gRPC fields whose REST names differ, as the coordinator's descriptions begin with them. */
  static final Map<String, String> FIELDS = Map.of("request_id", "workflow_id", "inputs_json", "inputs",
      "timeout", "timeout_seconds", "priority_name", "priority", "page_size", "limit");

  /** The parts of a create body that make the definition, passed on as one JSON object. */
  private static final List<String> DEFINITION = List.of("steps", "inputs", "output", "dependencies");
  private static final Set<String> CREATE_FIELDS = Set.of("name", "description", "verification_level", "workflow_id",
      "max_execution_time", "max_cost_budget", "tags", "is_public", "requires_verification", "steps", "inputs",
      "output", "dependencies");
  /**
   * What a workflow's JSON carries beyond its create fields: a file saved from {@code GET
   * /workflows/{id}} can be created again, and these are ignored.
   */
  private static final Set<String> READ_ONLY = Set.of("id", "owner_id", "version", "step_count", "created_at",
      "updated_at");
  private static final Set<String> EXECUTE_FIELDS = Set.of("workflow_id", "inputs", "verification_level", "priority",
      "timeout_seconds", "max_execution_time", "max_cost_budget");
  private static final Map<String, VerificationLevel> LEVELS = Map.of(
      "basic", VerificationLevel.VERIFICATION_LEVEL_BASIC,
      "full", VerificationLevel.VERIFICATION_LEVEL_FULL,
      "zero-knowledge", VerificationLevel.VERIFICATION_LEVEL_ZERO_KNOWLEDGE,
      "zero_knowledge", VerificationLevel.VERIFICATION_LEVEL_ZERO_KNOWLEDGE);
  private static final Map<String, ExecutionStatus> STATUSES = statuses();
  private static final String CREATE_EXAMPLE = "{\"name\": \"wf\", \"steps\": {\"hello\": {\"type\": \"noop\","
      + " \"payload\": {\"echo\": \"hi\"}}}}";
  private static final String EXECUTE_EXAMPLE = "{\"inputs\": {}, \"priority\": \"normal\"}";
  private static final int DEFAULT_PAGE = 20;
  private static final int MAX_PAGE = 200;

  private AgentRequests() {}

  /**
   * The body of {@code POST /workflows} ({@code agent create}): the CLI's fields shallow-merged with
   * the workflow file. {@code workflow_id} (the CLI's fresh uuid4) is the idempotency key; {@code
   * steps}, {@code inputs}, {@code output} and {@code dependencies} are the definition.
   */
  static CreateWorkflowRequest create(HttpData body) {
    ObjectNode root = object(body, CREATE_EXAMPLE);
    checkFields(root, CREATE_FIELDS, READ_ONLY, "a workflow");
    CreateWorkflowRequest.Builder b = CreateWorkflowRequest.newBuilder();
    String name = text(root, "name", "name");
    b.setName(name == null ? "" : name);
    String description = text(root, "description", "description");
    if (description != null) {
      b.setDescription(description);
    }
    VerificationLevel level = level(root);
    if (level != null) {
      b.setVerificationLevel(level);
    }
    String requestId = text(root, "workflow_id", "workflow_id");
    if (requestId != null && !requestId.isBlank()) {
      b.setRequestId(requestId.strip());
    }
    Long maxSeconds = whole(root, "max_execution_time", "max_execution_time", Long.MAX_VALUE);
    if (maxSeconds != null) {
      b.setMaxExecutionTime(Duration.newBuilder().setSeconds(maxSeconds));
    }
    String budget = decimal(root, "max_cost_budget");
    if (budget != null) {
      b.setMaxCostBudget(budget);
    }
    JsonNode tags = present(root, "tags");
    if (tags != null) {
      if (!tags.isArray()) {
        throw unprocessable("tags must be a list of strings, not " + kind(tags));
      }
      for (JsonNode t : tags) {
        if (!t.isTextual()) {
          throw unprocessable("tags must hold strings, not " + kind(t));
        }
        b.addTags(t.textValue());
      }
    }
    Boolean isPublic = flag(root, "is_public");
    if (isPublic != null) {
      b.setIsPublic(isPublic);
    }
    if (Boolean.FALSE.equals(flag(root, "requires_verification"))) {
      throw unprocessable("requires_verification cannot be false: every execution's receipt is signed (with"
          + " verification_level saying how much it proves); leave it out or set it to true");
    }
    ObjectNode definition = Json.object();
    for (String field : DEFINITION) {
      JsonNode n = present(root, field);
      if (n != null) {
        definition.set(field, n);
      }
    }
    return b.setDefinitionJson(Json.text(definition)).build();
  }

  /**
   * The body of {@code POST /workflows/{id}/execute} ({@code agent execute}); it may be empty. A
   * {@code workflow_id} in it must be the path's. {@code timeout_seconds} (or the upstream model's
   * {@code max_execution_time}) bounds the execution; the {@code Idempotency-Key} header, if any, is
   * its idempotency key.
   */
  static ExecuteWorkflowRequest execute(HttpData body, String workflowId, @Nullable String idempotencyKey) {
    ExecuteWorkflowRequest.Builder b = ExecuteWorkflowRequest.newBuilder().setWorkflowId(workflowId);
    if (idempotencyKey != null && !idempotencyKey.isBlank()) {
      b.setRequestId(idempotencyKey.strip());
    }
    if (body.isEmpty()) {
      return b.build();
    }
    ObjectNode root = object(body, EXECUTE_EXAMPLE);
    checkFields(root, EXECUTE_FIELDS, Set.of(), "an execution request");
    String inBody = text(root, "workflow_id", "workflow_id");
    if (inBody != null && !inBody.equals(workflowId)) {
      throw badRequest("workflow_id in the body ('" + abbreviate(inBody) + "') is not the one in the path");
    }
    JsonNode inputs = present(root, "inputs");
    if (inputs != null) {
      if (!inputs.isObject()) {
        throw unprocessable("inputs must be a JSON object of input names and values, not " + kind(inputs));
      }
      b.setInputsJson(Json.text(inputs));
    }
    VerificationLevel level = level(root);
    if (level != null) {
      b.setVerificationLevel(level);
    }
    priority(root, b);
    String timeoutField = present(root, "timeout_seconds") != null ? "timeout_seconds" : "max_execution_time";
    Long timeout = whole(root, timeoutField, timeoutField, Long.MAX_VALUE);
    if (timeout != null) {
      b.setTimeout(Duration.newBuilder().setSeconds(timeout));
    }
    String budget = decimal(root, "max_cost_budget");
    if (budget != null) {
      b.setMaxCostBudget(budget);
    }
    return b.build();
  }

  /** The reason in the optional body of {@code POST /executions/{id}/cancel}; empty when none. */
  static String cancelReason(HttpData body) {
    if (body.isEmpty()) {
      return "";
    }
    ObjectNode root = object(body, "{\"reason\": \"...\"}");
    checkFields(root, Set.of("reason"), Set.of(), "a cancel request");
    String reason = text(root, "reason", "reason");
    return reason == null ? "" : reason;
  }

  /**
   * {@code GET /workflows?limit=&offset=&type=&status=&verification=&owner=&include_public=} ({@code
   * agent list}). {@code type} (or {@code tag}) is a tag: the workflows tagged so. {@code status}: those
   * with an execution in that status now. {@code owner}: that client's, its public ones included when
   * it is not the caller.
   */
  static ListWorkflowsRequest workflows(QueryParams q) {
    ListWorkflowsRequest.Builder b = ListWorkflowsRequest.newBuilder()
        .setPageSize(Requests.limit(q, DEFAULT_PAGE, MAX_PAGE))
        .setOffset(Requests.offset(q));
    String tag = firstOf(q, "type", "tag");
    if (tag != null) {
      b.setTag(tag);
    }
    String level = firstOf(q, "verification", "verification_level");
    if (level != null) {
      VerificationLevel l = LEVELS.get(level.toLowerCase(Locale.ROOT));
      if (l == null) {
        throw unprocessable("verification must be basic, full or zero-knowledge, not '" + abbreviate(level) + "'");
      }
      b.setVerificationLevel(l);
    }
    ExecutionStatus status = status(q);
    if (status != null) {
      b.setStatus(status);
    }
    String owner = firstOf(q, "owner", "owner_id");
    if (owner != null) {
      b.setOwner(owner);
    }
    boolean includePublic = switch (q.get("include_public", "false").strip().toLowerCase(Locale.ROOT)) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw unprocessable("include_public must be true or false, not '"
          + abbreviate(q.get("include_public", "")) + "'");
    };
    // Another owner's workflows can only be its public ones.
    return b.setIncludePublic(includePublic || owner != null).build();
  }

  /** {@code GET /executions?limit=&offset=&workflow_id=&status=}: the caller's executions, newest first. */
  static ListExecutionsRequest executions(QueryParams q) {
    ListExecutionsRequest.Builder b = ListExecutionsRequest.newBuilder()
        .setPageSize(Requests.limit(q, DEFAULT_PAGE, MAX_PAGE))
        .setOffset(Requests.offset(q));
    String workflowId = firstOf(q, "workflow_id");
    if (workflowId != null) {
      b.setWorkflowId(workflowId);
    }
    ExecutionStatus status = status(q);
    if (status != null) {
      b.setStatus(status);
    }
    return b.build();
  }

  private static ObjectNode object(HttpData body, String example) {
    JsonNode root = Requests.parse(body, example);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as " + example + ", not " + kind(root));
    }
    return (ObjectNode) root;
  }

  /** A misspelt field would otherwise be dropped without a word (a {@code step} that made no steps). */
  private static void checkFields(ObjectNode root, Set<String> known, Set<String> ignored, String what) {
    for (String f : (Iterable<String>) root::fieldNames) {
      if (!known.contains(f) && !ignored.contains(f)) {
        throw unprocessable(abbreviate(f) + " is not a field of " + what + "; it has " + String.join(", ",
            new TreeSet<>(known)));
      }
    }
  }

  private static @Nullable VerificationLevel level(JsonNode root) {
    String text = text(root, "verification_level", "verification_level");
    if (text == null) {
      return null;
    }
    VerificationLevel l = LEVELS.get(text.strip().toLowerCase(Locale.ROOT));
    if (l == null) {
      throw unprocessable("verification_level must be basic, full or zero-knowledge, not '" + abbreviate(text) + "'");
    }
    return l;
  }

  /**
   * A cost as exact decimal text: a JSON number with every digit the client wrote, or a string the
   * coordinator reads as a decimal.
   */
  private static @Nullable String decimal(JsonNode root, String field) {
    JsonNode n = present(root, field);
    if (n == null) {
      return null;
    }
    if (n.isNumber()) {
      return n.decimalValue().toString();
    }
    if (n.isTextual() && !n.textValue().isBlank()) {
      return n.textValue().strip();
    }
    throw unprocessable(field + " must be a number such as 2.5 (0 for no bound), not " + kind(n));
  }

  private static @Nullable Boolean flag(JsonNode root, String field) {
    JsonNode n = present(root, field);
    if (n == null) {
      return null;
    }
    if (!n.isBoolean()) {
      throw unprocessable(field + " must be true or false, not " + kind(n));
    }
    return n.booleanValue();
  }

  /** A number goes to {@code priority}, a name to {@code priority_name}; the coordinator reads both. */
  private static void priority(JsonNode root, ExecuteWorkflowRequest.Builder b) {
    JsonNode p = present(root, "priority");
    if (p != null && p.isTextual()) {
      if (p.textValue().isBlank()) {
        throw unprocessable("priority is an empty string: leave it out for normal, or give low, normal or high");
      }
      b.setPriorityName(p.textValue());
      return;
    }
    if (p != null && !p.isNumber()) {
      throw unprocessable("priority must be low, normal, high or a whole number 0 to 9, not " + kind(p));
    }
    Long value = whole(root, "priority", "priority", Integer.MAX_VALUE);
    if (value != null) {
      b.setPriority(value.intValue());
    }
  }

  private static @Nullable ExecutionStatus status(QueryParams q) {
    String text = firstOf(q, "status");
    if (text == null) {
      return null;
    }
    ExecutionStatus s = STATUSES.get(text.toLowerCase(Locale.ROOT));
    if (s == null) {
      throw unprocessable("status must be one of " + String.join(", ", STATUSES.keySet()) + ", not '"
          + abbreviate(text) + "'");
    }
    return s;
  }

  /** The first of these query parameters that has a value, stripped; null when none has. */
  private static @Nullable String firstOf(QueryParams q, String... names) {
    for (String name : names) {
      String v = q.get(name);
      if (v != null && !v.isBlank()) {
        return v.strip();
      }
    }
    return null;
  }

  private static Map<String, ExecutionStatus> statuses() {
    Map<String, ExecutionStatus> m = new LinkedHashMap<>();
    m.put("pending", ExecutionStatus.EXECUTION_STATUS_PENDING);
    m.put("running", ExecutionStatus.EXECUTION_STATUS_RUNNING);
    m.put("completed", ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    m.put("failed", ExecutionStatus.EXECUTION_STATUS_FAILED);
    m.put("cancelled", ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    m.put("canceled", ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    return m;
  }
}
