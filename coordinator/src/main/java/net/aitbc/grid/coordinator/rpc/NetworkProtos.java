package net.aitbc.grid.coordinator.rpc;

import java.math.BigDecimal;
import java.util.List;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NetworkStore;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.store.StoredNetwork;
import net.aitbc.grid.coordinator.store.StoredNetworkRun;
import net.aitbc.grid.coordinator.workflow.NetworkOptimizer;
import net.aitbc.grid.coordinator.workflow.NetworkStats;
import net.aitbc.grid.v1.AgentNetwork;
import net.aitbc.grid.v1.AgentStats;
import net.aitbc.grid.v1.CoordinationStrategy;
import net.aitbc.grid.v1.NetworkRun;
import net.aitbc.grid.v1.Recommendation;
import net.aitbc.grid.v1.RunStats;
import org.jspecify.annotations.Nullable;

/** Networks, their runs, their measurements and recommendations as messages. */
final class NetworkProtos {
  private NetworkProtos() {}

  static AgentNetwork network(StoredNetwork n) {
    AgentNetwork.Builder b = AgentNetwork.newBuilder()
        .setNetworkId(JobIds.format(n.networkId()))
        .setClientId(n.clientId())
        .setName(n.name())
        .setDescription(n.description())
        .setCoordinationStrategy(strategy(n.strategy()))
        .setCreateTime(JobProtos.timestamp(n.createdAt()));
    n.workflowIds().forEach(id -> b.addWorkflowIds(JobIds.format(id)));
    return b.build();
  }

  static NetworkRun run(NetworkStore.RunView view) {
    return run(view.run(), view.executions());
  }

  static NetworkRun run(StoredNetworkRun r, List<StoredExecution> executions) {
    BigDecimal cost = executions.stream().map(StoredExecution::totalCost).reduce(BigDecimal.ZERO, BigDecimal::add);
    NetworkRun.Builder b = NetworkRun.newBuilder()
        .setRunId(JobIds.format(r.runId()))
        .setNetworkId(JobIds.format(r.networkId()))
        .setStatus(WorkflowProtos.status(r.status()))
        .setTaskJson(r.taskJson())
        .setPriority(r.priority())
        .setDeadline(JobProtos.timestamp(r.deadline()))
        .setTotalCost(WorkflowProtos.decimal(cost))
        .setCreateTime(JobProtos.timestamp(r.createdAt()));
    executions.forEach(e -> b.addExecutions(WorkflowProtos.execution(e)));
    if (r.resultJson() != null) {
      b.setResultJson(r.resultJson());
    }
    if (r.errorMessage() != null) {
      b.setErrorMessage(r.errorMessage());
    }
    if (r.endedAt() != null) {
      b.setEndTime(JobProtos.timestamp(r.endedAt()));
    }
    return b.build();
  }

  static AgentStats agent(NetworkStats.AgentFigures f) {
    BigDecimal perSuccess = f.costPerSuccess();
    return AgentStats.newBuilder()
        .setWorkflowId(JobIds.format(f.workflowId()))
        .setName(f.name())
        .setExecutions(f.executions())
        .setCompleted(f.completed())
        .setFailed(f.failed())
        .setSuccessRate(f.successRate())
        .setTotalCost(WorkflowProtos.decimal(f.totalCost()))
        .setMeanCost(WorkflowProtos.decimal(f.meanCost()))
        .setCostPerSuccess(perSuccess == null ? "" : WorkflowProtos.decimal(perSuccess))
        .setLatencyP50Ms(f.latency().p50())
        .setLatencyP95Ms(f.latency().p95())
        .setLatencyMeanMs(f.latency().mean())
        .build();
  }

  static RunStats runs(NetworkStats.RunFigures f) {
    return RunStats.newBuilder()
        .setRuns(f.runs())
        .setCompleted(f.completed())
        .setFailed(f.failed())
        .setSuccessRate(f.successRate())
        .setTotalCost(WorkflowProtos.decimal(f.totalCost()))
        .setMeanCost(WorkflowProtos.decimal(f.meanCost()))
        .setLatencyP50Ms(f.latency().p50())
        .setLatencyP95Ms(f.latency().p95())
        .build();
  }

  static Recommendation recommendation(NetworkOptimizer.Advice a) {
    Recommendation.Builder b = Recommendation.newBuilder()
        .setAction(a.action())
        .setReason(a.reason())
        .setExpectedEffect(a.expectedEffect())
        .setMetric(a.metric())
        .setCurrent(a.current())
        .setExpected(a.expected());
    a.workflowIds().forEach(id -> b.addWorkflowIds(JobIds.format(id)));
    if (a.strategy() != null) {
      b.setCoordinationStrategy(strategy(a.strategy()));
    }
    return b.build();
  }

  static CoordinationStrategy strategy(net.aitbc.grid.db.enums.@Nullable CoordinationStrategy s) {
    if (s == null) {
      return CoordinationStrategy.COORDINATION_STRATEGY_UNSPECIFIED;
    }
    return switch (s) {
      case centralized -> CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED;
      case decentralized -> CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED;
      case hybrid -> CoordinationStrategy.COORDINATION_STRATEGY_HYBRID;
    };
  }
}
