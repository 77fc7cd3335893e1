package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.unprocessable;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import java.util.Locale;
import java.util.Map;
import net.aitbc.grid.v1.CoordinationStrategy;
import net.aitbc.grid.v1.CreateNetworkRequest;
import net.aitbc.grid.v1.ExecuteNetworkRequest;
import net.aitbc.grid.v1.GetNetworkStatusRequest;
import net.aitbc.grid.v1.OptimizeNetworkRequest;

/**
 * Reads the agent network routes' bodies and queries (contract §8) into gRPC requests, or says why
 * not: 400 when a body is not JSON, 422 when a field has the wrong JSON type or names no strategy.
 * Which workflows may be agents, priorities, timeouts, metrics and objectives are the coordinator's
 * to check; its INVALID_ARGUMENT comes back as 422 in these routes' terms ({@link #FIELDS}).
 */
final class NetworkRequests {
  /** The gRPC fields whose REST names differ, as the coordinator's descriptions begin with them. */
  static final Map<String, String> FIELDS = Map.of("workflow_ids", "agents", "task_json", "task",
      "priority_name", "priority", "timeout", "timeout_seconds");

  private static final String CREATE_EXAMPLE =
      "{\"name\": \"n\", \"agents\": [\"<workflow id>\"], \"coordination_strategy\": \"centralized\"}";
  private static final String EXECUTE_EXAMPLE = "{\"task\": {\"text\": \"...\"}, \"priority\": \"normal\"}";
  private static final String OPTIMIZE_EXAMPLE = "{\"objective\": \"speed\"}";
  private static final String STRATEGIES = "centralized, decentralized, hybrid";

  private NetworkRequests() {}

  /** The body of {@code POST /networks}. */
  static CreateNetworkRequest create(HttpData body) {
    JsonNode root = object(body, CREATE_EXAMPLE);
    CreateNetworkRequest.Builder b = CreateNetworkRequest.newBuilder();
    String name = Requests.text(root, "name", "name");
    b.setName(name == null ? "" : name);
    String description = Requests.text(root, "description", "description");
    b.setDescription(description == null ? "" : description);
    JsonNode agents = Requests.present(root, "agents");
    if (agents == null) {
      throw unprocessable("agents is required: the workflow ids of the network's agents, in order");
    }
    if (agents.isTextual()) {
      // As the CLI's --agents a,b is written.
      for (String id : agents.textValue().split(",", -1)) {
        b.addWorkflowIds(id.strip());
      }
    } else if (agents.isArray()) {
      for (int i = 0; i < agents.size(); i++) {
        if (!agents.get(i).isTextual()) {
          throw unprocessable("agents[" + i + "] must be a workflow id (a string), not "
              + Requests.kind(agents.get(i)));
        }
        b.addWorkflowIds(agents.get(i).textValue());
      }
    } else {
      throw unprocessable("agents must be a list of workflow ids, not " + Requests.kind(agents));
    }
    String strategy = Requests.text(root, "coordination_strategy", "coordination_strategy");
    if (strategy != null) {
      b.setCoordinationStrategy(strategy(strategy));
    }
    return b.build();
  }

  private static CoordinationStrategy strategy(String name) {
    return switch (name.strip().toLowerCase(Locale.ROOT)) {
      case "centralized" -> CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED;
      case "decentralized" -> CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED;
      case "hybrid" -> CoordinationStrategy.COORDINATION_STRATEGY_HYBRID;
      default -> throw unprocessable("coordination_strategy must be one of " + STRATEGIES + ", not '"
          + Requests.abbreviate(name) + "'");
    };
  }

  /** The body of {@code POST /networks/{id}/execute}. */
  static ExecuteNetworkRequest execute(String networkId, HttpData body) {
    JsonNode root = object(body, EXECUTE_EXAMPLE);
    JsonNode task = Requests.present(root, "task");
    if (task == null) {
      throw unprocessable("task is required: any JSON value, given to every agent as its input 'task'");
    }
    ExecuteNetworkRequest.Builder b = ExecuteNetworkRequest.newBuilder().setNetworkId(networkId)
        .setTaskJson(Json.text(task));
    JsonNode priority = Requests.present(root, "priority");
    if (priority != null && priority.isTextual()) {
      if (priority.textValue().isEmpty()) {
        // An empty proto string is an unset one: the run would quietly take the default priority.
        throw unprocessable("priority is an empty string: leave it out for the default, or give a name or a number");
      }
      b.setPriorityName(priority.textValue());
    } else if (priority != null) {
      Long p = Requests.whole(root, "priority", "priority", Integer.MAX_VALUE);
      b.setPriority(p.intValue());
    }
    Long timeout = Requests.whole(root, "timeout_seconds", "timeout_seconds", Long.MAX_VALUE);
    if (timeout != null) {
      b.setTimeout(Duration.newBuilder().setSeconds(timeout));
    }
    String requestId = Requests.text(root, "request_id", "request_id");
    if (requestId != null) {
      b.setRequestId(requestId);
    }
    return b.build();
  }

  /** {@code GET /networks/{id}/status?metrics=a,b}. */
  static GetNetworkStatusRequest status(String networkId, QueryParams query) {
    return GetNetworkStatusRequest.newBuilder().setNetworkId(networkId).addAllMetrics(query.getAll("metrics"))
        .build();
  }

  /** The body of {@code POST /networks/{id}/optimize}. */
  static OptimizeNetworkRequest optimize(String networkId, HttpData body) {
    OptimizeNetworkRequest.Builder b = OptimizeNetworkRequest.newBuilder().setNetworkId(networkId);
    if (body.isEmpty()) {
      return b.build();
    }
    String objective = Requests.text(object(body, OPTIMIZE_EXAMPLE), "objective", "objective");
    return b.setObjective(objective == null ? "" : objective).build();
  }

  private static JsonNode object(HttpData body, String example) {
    JsonNode root = Requests.parse(body, example);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as " + example + ", not " + Requests.kind(root));
    }
    return root;
  }
}
