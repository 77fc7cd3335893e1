package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import net.aitbc.grid.v1.AgentNetwork;
import net.aitbc.grid.v1.AgentStats;
import net.aitbc.grid.v1.CoordinationStrategy;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetNetworkStatusResponse;
import net.aitbc.grid.v1.NetworkRun;
import net.aitbc.grid.v1.OptimizeNetworkResponse;
import net.aitbc.grid.v1.Recommendation;
import net.aitbc.grid.v1.RunStats;
import org.jspecify.annotations.Nullable;

/**
 * The one JSON mapping of agent networks (contract §8): a network, a run with its agents'
 * executions, the status with the figures asked for, and the recommendations. Statuses are the
 * agent states in lower case; costs are JSON numbers with the coordinator's exact digits; times are
 * naive UTC.
 */
final class NetworkJson {
  private static final String STATUS_PREFIX = "EXECUTION_STATUS_";
  private static final String STRATEGY_PREFIX = "COORDINATION_STRATEGY_";
  /** Every group of figures (the recommendations' measurements show them all). */
  private static final List<String> ALL = List.of("executions", "success_rate", "latency", "cost");

  private NetworkJson() {}

  /** A network: {@code id} (the CLI reads it), then its fields. */
  static ObjectNode network(AgentNetwork n) {
    ObjectNode o = Json.object();
    o.put("id", n.getNetworkId());
    o.put("network_id", n.getNetworkId());
    o.put("name", n.getName());
    o.put("description", n.getDescription());
    o.put("owner_id", n.getClientId());
    ArrayNode agents = o.putArray("agents");
    n.getWorkflowIdsList().forEach(agents::add);
    o.put("coordination_strategy", strategy(n.getCoordinationStrategy()));
    o.put("created_at", JobJson.time(n.getCreateTime()));
    return o;
  }

  /** A run: {@code id} is the run's (the CLI reads it), then where it stands and its agents' executions. */
  static ObjectNode run(NetworkRun r) {
    ObjectNode o = Json.object();
    o.put("id", r.getRunId());
    o.put("run_id", r.getRunId());
    o.put("network_id", r.getNetworkId());
    o.put("status", state(r.getStatus()));
    o.set("task", Json.parseStored(r.getTaskJson()));
    o.put("priority", r.getPriority());
    ArrayNode executions = o.putArray("executions");
    r.getExecutionsList().forEach(e -> executions.add(execution(e)));
    o.set("result", Json.parseStored(r.getResultJson()));
    o.put("error_message", orNull(r.getErrorMessage()));
    o.set("total_cost", number(r.getTotalCost()));
    o.put("created_at", JobJson.time(r.getCreateTime()));
    o.put("deadline", JobJson.time(r.getDeadline()));
    o.put("completed_at", r.hasEndTime() ? JobJson.time(r.getEndTime()) : null);
    return o;
  }

  private static ObjectNode execution(Execution e) {
    ObjectNode o = Json.object();
    o.put("agent", e.getWorkflowId());
    o.put("execution_id", e.getExecutionId());
    o.put("status", state(e.getStatus()));
    o.put("progress", e.getProgress());
    o.set("total_cost", number(e.getTotalCost()));
    o.put("started_at", e.hasStartTime() ? JobJson.time(e.getStartTime()) : null);
    o.put("completed_at", e.hasEndTime() ? JobJson.time(e.getEndTime()) : null);
    o.set("final_result", Json.parseStored(e.getFinalResultJson()));
    o.put("error_message", orNull(e.getErrorMessage()));
    return o;
  }

  /** {@code GET /networks/{id}/status}: the network, the figures asked for, and its latest runs. */
  static ObjectNode status(GetNetworkStatusResponse s) {
    ObjectNode o = Json.object();
    o.put("id", s.getNetwork().getNetworkId());
    o.put("network_id", s.getNetwork().getNetworkId());
    o.set("network", network(s.getNetwork()));
    ArrayNode metrics = o.putArray("metrics");
    s.getMetricsList().forEach(metrics::add);
    ArrayNode agents = o.putArray("agents");
    s.getAgentsList().forEach(a -> agents.add(agent(a, s.getMetricsList())));
    o.set("run_stats", runStats(s.getRunStats(), s.getMetricsList()));
    ArrayNode runs = o.putArray("runs");
    s.getRunsList().forEach(r -> runs.add(run(r)));
    return o;
  }

  /** {@code POST /networks/{id}/optimize}: the recommendations, and the measurements they rest on. */
  static ObjectNode optimize(String networkId, OptimizeNetworkResponse r) {
    ObjectNode o = Json.object();
    o.put("network_id", networkId);
    o.put("objective", r.getObjective());
    ArrayNode recommendations = o.putArray("recommendations");
    r.getRecommendationsList().forEach(x -> recommendations.add(recommendation(x)));
    ObjectNode measurements = o.putObject("measurements");
    ArrayNode agents = measurements.putArray("agents");
    r.getAgentsList().forEach(a -> agents.add(agent(a, ALL)));
    measurements.set("runs", runStats(r.getRunStats(), ALL));
    return o;
  }

  private static ObjectNode recommendation(Recommendation r) {
    ObjectNode o = Json.object();
    o.put("action", r.getAction());
    ArrayNode agents = o.putArray("agents");
    r.getWorkflowIdsList().forEach(agents::add);
    o.put("reason", r.getReason());
    o.put("expected_effect", r.getExpectedEffect());
    o.put("metric", r.getMetric());
    o.set("current", number(r.getCurrent()));
    o.set("expected", number(r.getExpected()));
    o.put("coordination_strategy", r.getCoordinationStrategy() == CoordinationStrategy.COORDINATION_STRATEGY_UNSPECIFIED
        ? null : strategy(r.getCoordinationStrategy()));
    return o;
  }

  /** One agent's figures: always who it is, then the groups asked for. */
  private static ObjectNode agent(AgentStats a, List<String> metrics) {
    ObjectNode o = Json.object();
    o.put("agent", a.getWorkflowId());
    o.put("name", a.getName());
    if (metrics.contains("executions")) {
      o.put("executions", a.getExecutions());
      o.put("completed", a.getCompleted());
      o.put("failed", a.getFailed());
    }
    if (metrics.contains("success_rate")) {
      o.put("success_rate", a.getSuccessRate());
    }
    if (metrics.contains("latency")) {
      o.put("latency_p50_ms", a.getLatencyP50Ms());
      o.put("latency_p95_ms", a.getLatencyP95Ms());
      o.put("latency_mean_ms", a.getLatencyMeanMs());
    }
    if (metrics.contains("cost")) {
      o.set("total_cost", number(a.getTotalCost()));
      o.set("mean_cost", number(a.getMeanCost()));
      o.set("cost_per_success", number(a.getCostPerSuccess()));
    }
    return o;
  }

  private static ObjectNode runStats(RunStats r, List<String> metrics) {
    ObjectNode o = Json.object();
    if (metrics.contains("executions")) {
      o.put("runs", r.getRuns());
      o.put("completed", r.getCompleted());
      o.put("failed", r.getFailed());
    }
    if (metrics.contains("success_rate")) {
      o.put("success_rate", r.getSuccessRate());
    }
    if (metrics.contains("latency")) {
      o.put("latency_p50_ms", r.getLatencyP50Ms());
      o.put("latency_p95_ms", r.getLatencyP95Ms());
    }
    if (metrics.contains("cost")) {
      o.set("total_cost", number(r.getTotalCost()));
      o.set("mean_cost", number(r.getMeanCost()));
    }
    return o;
  }

  /** An agent state in lower case, as the CLI expects (contract §8). */
  static String state(ExecutionStatus s) {
    return s.name().startsWith(STATUS_PREFIX) ? s.name().substring(STATUS_PREFIX.length()).toLowerCase(Locale.ROOT)
        : "pending";
  }

  private static String strategy(CoordinationStrategy s) {
    return s.name().startsWith(STRATEGY_PREFIX) ? s.name().substring(STRATEGY_PREFIX.length()).toLowerCase(Locale.ROOT)
        : "centralized";
  }

  /** A decimal as a JSON number with its exact digits; null for none. */
  private static @Nullable JsonNode number(String decimal) {
    return decimal.isEmpty() ? null : DecimalNode.valueOf(new BigDecimal(decimal));
  }

  private static @Nullable String orNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
