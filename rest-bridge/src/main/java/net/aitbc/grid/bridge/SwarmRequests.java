package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.unprocessable;
import static net.aitbc.grid.bridge.Requests.abbreviate;
import static net.aitbc.grid.bridge.Requests.kind;
import static net.aitbc.grid.bridge.Requests.present;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import net.aitbc.grid.v1.ComputeConsensusRequest;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.JoinRequest;
import net.aitbc.grid.v1.ListSwarmsRequest;
import org.jspecify.annotations.Nullable;

/**
 * Reads the swarm routes' bodies and queries (contract §9) into SwarmService requests, or says why
 * not: 400 when a body is not JSON, 422 when a field is unknown, has the wrong JSON type, or is
 * given empty or zero where the gRPC field would quietly take its default. Which roles, strategies,
 * thresholds and timeouts are allowed is the coordinator's to check; its INVALID_ARGUMENT comes back
 * as 422 in these routes' terms ({@link #FIELDS}).
 */
final class SwarmRequests {
  /** The gRPC fields whose REST names differ, as the coordinator's descriptions begin with them. */
  static final Map<String, String> FIELDS = Map.of("timeout", "timeout_seconds");

  private static final String JOIN_EXAMPLE =
      "{\"role\": \"task-coordinator\", \"capability\": \"embedding\", \"priority\": \"normal\"}";
  private static final String COORDINATE_EXAMPLE =
      "{\"task\": \"embedding\", \"collaborators\": 3, \"strategy\": \"consensus\", \"timeout_seconds\": 600}";
  private static final String CONSENSUS_EXAMPLE = "{\"consensus_threshold\": 0.7}";
  private static final Set<String> JOIN_FIELDS = Set.of("role", "capability", "region", "priority");
  private static final Set<String> COORDINATE_FIELDS = Set.of("task", "collaborators", "strategy", "timeout_seconds",
      "consensus_threshold", "similarity", "swarm_id", "request_id", "constraints");
  private static final Set<String> CONSENSUS_FIELDS = Set.of("consensus_threshold");
  private static final int DEFAULT_PAGE = 20;
  private static final int MAX_PAGE = 200;

  private SwarmRequests() {}

  /** The body of {@code POST /swarm/join}: {@code {"role","capability","priority","region"?}}. */
  static JoinRequest join(HttpData body) {
    JsonNode root = object(body, JOIN_EXAMPLE, JOIN_FIELDS, "a join");
    JoinRequest.Builder b = JoinRequest.newBuilder();
    // Required: the coordinator names the choices when they are missing or empty.
    ifText(root, "role", true, b::setRole);
    ifText(root, "capability", true, b::setCapability);
    // An empty region is none, as an absent one.
    ifText(root, "region", true, b::setRegion);
    ifText(root, "priority", false, b::setPriority);
    return b.build();
  }

  /**
   * The body of {@code POST /swarm/coordinate}: {@code {"task","collaborators","strategy",
   * "timeout_seconds"}} as the CLI sends it, and optionally {@code consensus_threshold}, {@code
   * similarity}, {@code swarm_id}, {@code request_id} (or the {@code Idempotency-Key} header) and
   * {@code constraints} (as a job's). {@code task} is a job type or a payload: JSON object text, as
   * {@code --task '{…}'} sends it, or the object itself.
   */
  static CoordinateRequest coordinate(HttpData body, @Nullable String idempotencyKey) {
    JsonNode root = object(body, COORDINATE_EXAMPLE, COORDINATE_FIELDS, "a coordinate request");
    CoordinateRequest.Builder b = CoordinateRequest.newBuilder();
    JsonNode task = present(root, "task");
    if (task == null) {
      throw unprocessable("task is required: a job type (embedding, inference, noop: its verification probe) or a "
          + "job payload as a JSON object");
    }
    if (task.isTextual()) {
      b.setTask(task.textValue());
    } else if (task.isObject()) {
      b.setTask(Json.text(task));
    } else {
      throw unprocessable("task must be a job type or a job payload (a JSON object, or its text), not " + kind(task));
    }
    Long collaborators = Requests.whole(root, "collaborators", "collaborators", Integer.MAX_VALUE);
    if (collaborators != null) {
      if (collaborators < 1) {
        // 0 is the gRPC field's "unset": it would quietly become the default of 3.
        throw unprocessable("collaborators must be at least 1, not " + collaborators);
      }
      b.setCollaborators(collaborators.intValue());
    }
    ifText(root, "strategy", false, b::setStrategy);
    Long timeout = Requests.whole(root, "timeout_seconds", "timeout_seconds", Long.MAX_VALUE);
    if (timeout != null) {
      b.setTimeout(Duration.newBuilder().setSeconds(timeout));
    }
    Double threshold = number(root, "consensus_threshold");
    if (threshold != null) {
      b.setConsensusThreshold(threshold);
    }
    Double similarity = number(root, "similarity");
    if (similarity != null) {
      b.setSimilarity(similarity);
    }
    ifText(root, "swarm_id", false, b::setSwarmId);
    String requestId = Requests.text(root, "request_id", "request_id");
    if (requestId == null && idempotencyKey != null && !idempotencyKey.isBlank()) {
      requestId = idempotencyKey;
    }
    if (requestId != null) {
      if (requestId.isEmpty()) {
        throw unprocessable("request_id is an empty string: leave it out, or give an idempotency key");
      }
      b.setRequestId(requestId);
    }
    JsonNode constraints = present(root, "constraints");
    if (constraints != null) {
      b.setConstraints(JobRequests.constraints(constraints));
    }
    return b.build();
  }

  /** {@code GET /swarm/list?limit=&offset=&swarm_id=&status=&capability=}. */
  static ListSwarmsRequest list(QueryParams query) {
    ListSwarmsRequest.Builder b = ListSwarmsRequest.newBuilder()
        .setLimit(Requests.limit(query, DEFAULT_PAGE, MAX_PAGE))
        .setOffset(Requests.offset(query));
    String swarmId = query.get("swarm_id");
    if (swarmId != null) {
      b.setSwarmId(swarmId);
    }
    String status = query.get("status");
    if (status != null) {
      b.setStatus(status);
    }
    String capability = query.get("capability");
    if (capability != null) {
      b.setCapability(capability);
    }
    return b.build();
  }

  /**
   * The body of {@code POST /swarm/tasks/{id}/consensus}: {@code {"consensus_threshold": 0.7}}; an
   * empty body or an absent threshold recomputes at the task's own.
   */
  static ComputeConsensusRequest consensus(String taskId, HttpData body) {
    ComputeConsensusRequest.Builder b = ComputeConsensusRequest.newBuilder().setTaskId(taskId);
    if (body.isEmpty()) {
      return b.build();
    }
    Double threshold = number(object(body, CONSENSUS_EXAMPLE, CONSENSUS_FIELDS, "a consensus request"),
        "consensus_threshold");
    if (threshold != null) {
      b.setConsensusThreshold(threshold);
    }
    return b.build();
  }

  private static JsonNode object(HttpData body, String example, Set<String> known, String what) {
    JsonNode root = Requests.parse(body, example);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as " + example + ", not " + kind(root));
    }
    for (String f : (Iterable<String>) root::fieldNames) {
      if (!known.contains(f)) {
        // A misspelt field would otherwise be dropped without a word (a threshold that was never used).
        throw unprocessable(abbreviate(f) + " is not a field of " + what + "; it has "
            + String.join(", ", new TreeSet<>(known)));
      }
    }
    return root;
  }

  /**
   * A string field passed on when present. An empty one is refused unless {@code emptyAllowed}: the
   * gRPC field would read it as unset and quietly take its default.
   */
  private static void ifText(JsonNode root, String field, boolean emptyAllowed, Consumer<String> set) {
    String value = Requests.text(root, field, field);
    if (value == null) {
      return;
    }
    if (value.isEmpty() && !emptyAllowed) {
      throw unprocessable(field + " is an empty string: leave it out for the default, or give a value");
    }
    set.accept(value);
  }

  /** A JSON number field, null when absent or null; its range is the coordinator's to check. */
  private static @Nullable Double number(JsonNode root, String field) {
    JsonNode n = present(root, field);
    if (n == null) {
      return null;
    }
    if (!n.isNumber()) {
      throw unprocessable(field + " must be a number such as 0.7, not " + kind(n));
    }
    double value = n.doubleValue();
    if (!Double.isFinite(value)) {
      throw unprocessable(field + " is out of range: " + abbreviate(n.asText()));
    }
    return value;
  }
}
