package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.ExecutionStore;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NetworkRunStore;
import net.aitbc.grid.coordinator.store.NewExecution;
import net.aitbc.grid.coordinator.store.StepSnapshot;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.store.StoredNetwork;
import net.aitbc.grid.coordinator.store.StoredNetworkRun;
import net.aitbc.grid.coordinator.store.StoredWorkflow;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides for one locked network run, from the executions it has made alone: plans again
 * ({@link NetworkPlanner}), makes the executions the plan asks for (ordinary executions of the
 * agents' workflows, which the workflow engine runs), enforces the run's deadline, and ends the run
 * when the plan or the deadline says so. An ended run's unfinished executions are cancelled when it
 * is next woken (the wake-up its ending wrote).
 */
final class NetworkDecider {
  private static final Logger logger = LoggerFactory.getLogger(NetworkDecider.class);
  // Decimals in results stay as the workers wrote them when passed on to other agents.
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .build();

  private final ExecutionStore executions;
  private final JobIds ids = new JobIds();

  NetworkDecider(ExecutionStore executions) {
    this.executions = requireNonNull(executions, "executions");
  }

  void advance(NetworkRunStore.Locked locked) {
    StoredNetworkRun run = locked.run();
    Map<Integer, StoredExecution> made = locked.executions();
    if (run.ended()) {
      cancelUnfinished(run, made.values());
      return;
    }
    StoredNetwork network = locked.network();
    Map<UUID, StoredWorkflow> workflows = locked.workflows(network.workflowIds());
    List<NetworkPlanner.Agent> agents = network.workflowIds().stream()
        .map(id -> new NetworkPlanner.Agent(id, workflows.get(id).name())).toList();
    Map<Integer, NetworkPlanner.Slot> slots = new HashMap<>();
    made.forEach((slot, e) -> slots.put(slot, new NetworkPlanner.Slot(e.status(),
        e.finalResultJson() == null ? null : parse(e.finalResultJson()), e.errorMessage())));
    NetworkPlanner.Plan plan = NetworkPlanner.plan(network.strategy(), agents, slots, parse(run.taskJson()));
    OffsetDateTime now = locked.now();
    if (plan.outcome() != NetworkPlanner.Outcome.COMPLETED && !now.isBefore(run.deadline())) {
      end(locked, ExecutionStatus.failed, plan.collected(), "timeout of " + run.timeoutSeconds()
          + " s exceeded after " + Duration.between(run.createdAt(), now).toSeconds() + " s");
      return;
    }
    switch (plan.outcome()) {
      case FAILED -> end(locked, ExecutionStatus.failed, plan.result(), plan.error());
      case COMPLETED -> end(locked, ExecutionStatus.completed, plan.result(), null);
      case RUNNING -> {
        for (NetworkPlanner.Start start : plan.start()) {
          NetworkPlanner.Agent agent = agents.get(start.slot());
          NewExecution execution;
          try {
            execution = execution(run, workflows.get(agent.workflowId()), start.inputs(), now);
          } catch (InvalidWorkflow e) {
            end(locked, ExecutionStatus.failed, plan.collected(),
                agent.describe() + " cannot start: " + e.getMessage());
            return;
          }
          locked.start(start.slot(), execution);
        }
        locked.save(ExecutionStatus.running, null, null);
      }
    }
  }

  /** An agent's execution: its workflow's settings, within what is left of the run's time. */
  private NewExecution execution(StoredNetworkRun run, StoredWorkflow w, ObjectNode given, OffsetDateTime now) {
    WorkflowDefinition def = Definitions.parse(w.definition(), type -> true);
    ObjectNode inputs = Planner.inputs(def, given);
    // Whole seconds, rounded up: the run's own deadline, not the execution's, ends a run that runs out of time.
    Duration until = Duration.between(now, run.deadline());
    long left = Math.max(1, until.toSeconds() + (until.toNanosPart() > 0 ? 1 : 0));
    int timeout = (int) Math.min(w.maxExecutionSeconds(), left);
    List<StepSnapshot> steps = def.steps().stream().map(s -> new StepSnapshot(s.name(), StepSnapshot.Status.WAITING,
        List.of(), -1, 0, BigDecimal.ZERO, null, null, null, s.dependsOn())).toList();
    return new NewExecution(ids.next(), w.workflowId(), run.clientId(), run.keyId(), null, inputs.toString(),
        run.priority(), w.verificationLevel(), timeout, w.maxCostBudget(), steps);
  }

  private static void end(NetworkRunStore.Locked locked, ExecutionStatus status, @Nullable JsonNode result,
      @Nullable String error) {
    locked.save(status, result == null ? null : result.toString(), error);
    logger.info("[network_run={}] {}{}", JobIds.format(locked.run().runId()), status,
        error == null ? "" : ": " + error);
  }

  private void cancelUnfinished(StoredNetworkRun run, Iterable<StoredExecution> made) {
    String reason = "network run " + JobIds.format(run.runId()) + " " + run.status()
        + (run.errorMessage() == null ? "" : ": " + run.errorMessage());
    for (StoredExecution e : made) {
      if (!e.ended()) {
        // Its own transaction: the workflow engine cancels its step jobs at the wake-up this records.
        executions.cancel(e.executionId(), e.clientId(), reason);
      }
    }
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored JSON does not parse: " + e.getOriginalMessage(), e);
    }
  }
}
