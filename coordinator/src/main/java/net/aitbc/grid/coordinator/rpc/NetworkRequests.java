package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NewNetwork;
import net.aitbc.grid.coordinator.store.NewNetworkRun;
import net.aitbc.grid.coordinator.store.StoredNetwork;
import net.aitbc.grid.coordinator.store.StoredWorkflow;
import net.aitbc.grid.coordinator.workflow.AgentInputs;
import net.aitbc.grid.coordinator.workflow.Objective;
import net.aitbc.grid.coordinator.workflow.WorkflowDefinition;
import net.aitbc.grid.db.enums.CoordinationStrategy;
import net.aitbc.grid.v1.CreateNetworkRequest;
import net.aitbc.grid.v1.ExecuteNetworkRequest;

/**
 * Turns the network requests into what to store or compute, or says exactly what is wrong
 * (INVALID_ARGUMENT whose description starts with the field: {@code workflow_ids[1]: ...}).
 */
final class NetworkRequests {
  static final int MAX_AGENTS = 20;
  /** The figures a status may be asked for, in the order they are listed. */
  static final List<String> METRICS = List.of("executions", "success_rate", "latency", "cost");
  private static final String ALL_METRICS = "all";

  private NetworkRequests() {}

  /**
   * A network to store: its agents {@code ids} (read by {@link #workflowIds}) must be among
   * {@code workflows} (the caller's own or public ones), and each must require no input its place does
   * not give it.
   */
  static NewNetwork network(CreateNetworkRequest r, Principal principal, UUID id, List<UUID> ids,
      Map<UUID, StoredWorkflow> workflows) {
    String name = r.getName().strip();
    if (name.isEmpty() || name.length() > 100) {
      throw invalid("name must be 1 to 100 characters, not " + name.length());
    }
    WorkflowRequests.text(name, "name", 100);
    WorkflowRequests.text(r.getDescription(), "description", WorkflowRequests.MAX_DESCRIPTION);
    CoordinationStrategy strategy = strategy(r);
    if (strategy == CoordinationStrategy.hybrid && ids.size() < 2) {
      throw invalid("workflow_ids: a hybrid network needs at least 2 agents (the first aggregates the others' "
          + "results), not " + ids.size());
    }
    for (int i = 0; i < ids.size(); i++) {
      StoredWorkflow w = workflows.get(ids.get(i));
      if (w == null) {
        throw invalid("workflow_ids[" + i + "]: workflow " + JobIds.format(ids.get(i)) + " not found");
      }
      WorkflowDefinition def = WorkflowRequests.definition(w.definition(), type -> true);
      Set<String> given = AgentInputs.given(strategy, i);
      List<String> missing = AgentInputs.missing(def, given);
      if (!missing.isEmpty()) {
        throw invalid("workflow_ids[" + i + "]: workflow '" + w.name() + "' requires the input"
            + (missing.size() == 1 ? " " : "s ") + String.join(", ", missing) + ", which its place in a "
            + strategy + " network does not give it (it gets " + String.join(", ", new TreeSet<>(given))
            + ")");
      }
    }
    return new NewNetwork(id, principal.clientId(), name, r.getDescription(), ids, strategy);
  }

  /** The distinct workflow ids of a CreateNetwork request, in order. */
  static List<UUID> workflowIds(List<String> texts) {
    if (texts.isEmpty() || texts.size() > MAX_AGENTS) {
      throw invalid("workflow_ids must name 1 to " + MAX_AGENTS + " workflows, not " + texts.size());
    }
    List<UUID> ids = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i).strip();
      int at = i;
      UUID id = JobIds.parse(text).orElseThrow(() -> invalid("workflow_ids[" + at
          + "] must be a workflow id of 32 hex characters, not '" + GrpcErrors.abbreviate(text) + "'"));
      int before = ids.indexOf(id);
      if (before >= 0) {
        throw invalid("workflow_ids[" + i + "] repeats workflow_ids[" + before + "] (" + JobIds.format(id)
            + "): a network runs each workflow once");
      }
      ids.add(id);
    }
    return ids;
  }

  private static CoordinationStrategy strategy(CreateNetworkRequest r) {
    return switch (r.getCoordinationStrategy()) {
      case COORDINATION_STRATEGY_UNSPECIFIED, COORDINATION_STRATEGY_CENTRALIZED -> CoordinationStrategy.centralized;
      case COORDINATION_STRATEGY_DECENTRALIZED -> CoordinationStrategy.decentralized;
      case COORDINATION_STRATEGY_HYBRID -> CoordinationStrategy.hybrid;
      case UNRECOGNIZED -> throw invalid("coordination_strategy must be centralized, decentralized or hybrid");
    };
  }

  /** A run of {@code network} to start; its timeout defaults to what its agents' workflows allow. */
  static NewNetworkRun run(ExecuteNetworkRequest r, Principal principal, UUID id, StoredNetwork network,
      Map<UUID, StoredWorkflow> workflows) {
    if (r.getTaskJson().isBlank()) {
      throw invalid("task_json is required: the task, a JSON value given to every agent as its input 'task'");
    }
    String task;
    try {
      task = JsonChecks.value(r.getTaskJson(), "task_json", WorkflowRequests.MAX_INPUTS_CHARS).toString();
    } catch (JsonChecks.Invalid e) {
      throw invalid(e.getMessage());
    }
    int priority = WorkflowRequests.priority(r.hasPriority(), r.getPriority(), r.getPriorityName());
    int timeout = defaultTimeout(network, workflows);
    if (r.hasTimeout()) {
      long s = r.getTimeout().getSeconds();
      if (s < 1 || s > WorkflowRequests.MAX_EXECUTION_S || r.getTimeout().getNanos() != 0) {
        throw invalid("timeout must be a whole number of seconds from 1 to " + WorkflowRequests.MAX_EXECUTION_S
            + ", not " + s + " s");
      }
      timeout = (int) s;
    }
    return new NewNetworkRun(id, network.networkId(), principal.clientId(), principal.keyId(),
        WorkflowRequests.requestId(r.getRequestId()), task, priority, timeout);
  }

  /** As long as the agents' max_execution_time allow: their sum in sequence, the longest in parallel. */
  private static int defaultTimeout(StoredNetwork network, Map<UUID, StoredWorkflow> workflows) {
    List<Integer> max = network.workflowIds().stream().map(w -> workflows.get(w).maxExecutionSeconds()).toList();
    long seconds = switch (network.strategy()) {
      case centralized -> max.stream().mapToLong(Integer::longValue).sum();
      case decentralized -> max.stream().mapToLong(Integer::longValue).max().orElse(1);
      case hybrid -> max.subList(1, max.size()).stream().mapToLong(Integer::longValue).max().orElse(0) + max.getFirst();
    };
    return (int) Math.min(seconds, WorkflowRequests.MAX_EXECUTION_S);
  }

  /** The figures asked for, by name, in the order they are listed; all of them for none or "all". */
  static List<String> metrics(List<String> asked) {
    Set<String> named = new LinkedHashSet<>();
    for (String m : asked) {
      for (String part : m.split(",", -1)) {
        String name = part.strip().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
          continue;
        }
        if (name.equals(ALL_METRICS)) {
          return METRICS;
        }
        if (!METRICS.contains(name)) {
          throw invalid("metrics: '" + GrpcErrors.abbreviate(part.strip()) + "' is not a metric; the metrics are "
              + String.join(", ", METRICS) + " (or " + ALL_METRICS + ")");
        }
        named.add(name);
      }
    }
    return named.isEmpty() ? METRICS : METRICS.stream().filter(named::contains).toList();
  }

  /** The objective named. */
  static Objective objective(String name) {
    if (name.isBlank()) {
      throw invalid("objective is required: one of " + Objective.names());
    }
    return Objective.named(name).orElseThrow(() -> invalid("objective must be one of " + Objective.names() + ", not '"
        + GrpcErrors.abbreviate(name.strip()) + "'"));
  }
}
