package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NetworkSamples;
import net.aitbc.grid.coordinator.store.NetworkStore;
import net.aitbc.grid.coordinator.store.StoredNetwork;
import net.aitbc.grid.coordinator.store.StoredWorkflow;
import net.aitbc.grid.coordinator.store.WorkflowStore;
import net.aitbc.grid.coordinator.workflow.AgentInputs;
import net.aitbc.grid.coordinator.workflow.NetworkEngine;
import net.aitbc.grid.coordinator.workflow.NetworkOptimizer;
import net.aitbc.grid.coordinator.workflow.NetworkStats;
import net.aitbc.grid.coordinator.workflow.Objective;
import net.aitbc.grid.coordinator.workflow.WorkflowDefinition;
import net.aitbc.grid.v1.CreateNetworkRequest;
import net.aitbc.grid.v1.CreateNetworkResponse;
import net.aitbc.grid.v1.ExecuteNetworkRequest;
import net.aitbc.grid.v1.ExecuteNetworkResponse;
import net.aitbc.grid.v1.GetNetworkStatusRequest;
import net.aitbc.grid.v1.GetNetworkStatusResponse;
import net.aitbc.grid.v1.OptimizeNetworkRequest;
import net.aitbc.grid.v1.OptimizeNetworkResponse;

/**
 * WorkflowService's network methods (README "Networks"): a client's networks of workflows, their
 * runs (carried out by the {@link NetworkEngine}), what their latest runs measured, and what to
 * change for an objective. Another client's network is NOT_FOUND.
 */
final class NetworkCalls {
  /** How many of the latest runs a status lists. */
  static final int RUNS_LISTED = 10;

  private final NetworkStore networks;
  private final WorkflowStore workflows;
  private final NetworkEngine engine;
  private final JobIds ids = new JobIds();

  NetworkCalls(NetworkStore networks, WorkflowStore workflows, NetworkEngine engine) {
    this.networks = requireNonNull(networks, "networks");
    this.workflows = requireNonNull(workflows, "workflows");
    this.engine = requireNonNull(engine, "engine");
  }

  CreateNetworkResponse create(CreateNetworkRequest r, Principal principal) {
    List<UUID> agents = NetworkRequests.workflowIds(r.getWorkflowIdsList());
    StoredNetwork n = networks.create(NetworkRequests.network(r, principal, ids.next(), agents,
        workflows.find(agents, principal.clientId())));
    return CreateNetworkResponse.newBuilder().setNetwork(NetworkProtos.network(n)).build();
  }

  ExecuteNetworkResponse execute(ExecuteNetworkRequest r, Principal principal) {
    StoredNetwork n = network(r.getNetworkId(), principal);
    NetworkStore.Started started = networks.start(NetworkRequests.run(r, principal, ids.next(), n, agents(n,
        principal)));
    if (!started.existing()) {
      engine.wake();
    }
    // A retried request returns the run as it stands now; a new one has made no execution yet.
    NetworkStore.RunView view = started.existing() ? networks.run(started.run().runId(), principal.clientId())
        .orElseThrow() : new NetworkStore.RunView(started.run(), List.of());
    return ExecuteNetworkResponse.newBuilder().setRun(NetworkProtos.run(view)).build();
  }

  GetNetworkStatusResponse status(GetNetworkStatusRequest r, Principal principal) {
    StoredNetwork n = network(r.getNetworkId(), principal);
    List<String> metrics = NetworkRequests.metrics(r.getMetricsList());
    Map<UUID, StoredWorkflow> agents = agents(n, principal);
    NetworkSamples samples = networks.samples(n.networkId(), NetworkStats.RUNS_MEASURED);
    GetNetworkStatusResponse.Builder b = GetNetworkStatusResponse.newBuilder()
        .setNetwork(NetworkProtos.network(n))
        .addAllMetrics(metrics)
        .setRunStats(NetworkProtos.runs(NetworkStats.runs(samples)));
    figures(n, agents, samples).forEach(f -> b.addAgents(NetworkProtos.agent(f)));
    networks.latestRuns(n.networkId(), RUNS_LISTED).forEach(v -> b.addRuns(NetworkProtos.run(v)));
    return b.build();
  }

  OptimizeNetworkResponse optimize(OptimizeNetworkRequest r, Principal principal) {
    StoredNetwork n = network(r.getNetworkId(), principal);
    Objective objective = NetworkRequests.objective(r.getObjective());
    Map<UUID, StoredWorkflow> agents = agents(n, principal);
    NetworkSamples samples = networks.samples(n.networkId(), NetworkStats.RUNS_MEASURED);
    List<NetworkStats.AgentFigures> figures = figures(n, agents, samples);
    List<WorkflowDefinition> defs = n.workflowIds().stream()
        .map(id -> WorkflowRequests.definition(agents.get(id).definition(), type -> true)).toList();
    NetworkOptimizer.Input input = new NetworkOptimizer.Input(n.strategy(), figures,
        defs.stream().map(d -> AgentInputs.reads(d, AgentInputs.PREVIOUS)).toList(),
        AgentInputs.reads(defs.getFirst(), AgentInputs.RESULTS));
    OptimizeNetworkResponse.Builder b = OptimizeNetworkResponse.newBuilder()
        .setObjective(objective.title())
        .setRunStats(NetworkProtos.runs(NetworkStats.runs(samples)));
    NetworkOptimizer.optimize(objective, input).forEach(a -> b.addRecommendations(NetworkProtos.recommendation(a)));
    figures.forEach(f -> b.addAgents(NetworkProtos.agent(f)));
    return b.build();
  }

  private static List<NetworkStats.AgentFigures> figures(StoredNetwork n, Map<UUID, StoredWorkflow> agents,
      NetworkSamples samples) {
    Map<UUID, String> names = new HashMap<>();
    agents.forEach((id, w) -> names.put(id, w.name()));
    return NetworkStats.agents(n.workflowIds(), names, samples);
  }

  /** The network's workflows; they stay readable to its owner (workflows are never changed or removed). */
  private Map<UUID, StoredWorkflow> agents(StoredNetwork n, Principal principal) {
    Map<UUID, StoredWorkflow> found = workflows.find(n.workflowIds(), principal.clientId());
    if (found.size() != n.workflowIds().size()) {
      throw new IllegalStateException("network " + JobIds.format(n.networkId()) + " names a workflow its owner "
          + "cannot read");
    }
    return found;
  }

  private StoredNetwork network(String text, Principal principal) {
    UUID id = JobIds.parse(text).orElseThrow(() -> invalid("network_id must be 32 hex characters, not '"
        + GrpcErrors.abbreviate(text) + "'"));
    return networks.find(id, principal.clientId())
        .orElseThrow(() -> notFound("network " + GrpcErrors.abbreviate(text) + " not found"));
  }
}
