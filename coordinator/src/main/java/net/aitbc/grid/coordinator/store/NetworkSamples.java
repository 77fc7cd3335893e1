package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jspecify.annotations.Nullable;

/**
 * What a network's latest runs measured: the rows its statistics and recommendations are computed
 * from.
 *
 * @param runs the runs, newest first
 * @param executions their executions
 */
public record NetworkSamples(List<Run> runs, List<Agent> executions) {
  /** Copies the lists. */
  public NetworkSamples {
    runs = List.copyOf(runs);
    executions = List.copyOf(executions);
  }

  /**
   * One run.
   *
   * @param runId its id
   * @param status where it stands
   * @param cost the sum of its executions' costs
   * @param createdAt when it was started
   * @param endedAt when it ended, or null
   */
  public record Run(UUID runId, ExecutionStatus status, BigDecimal cost, OffsetDateTime createdAt,
      @Nullable OffsetDateTime endedAt) {}

  /**
   * One execution of an agent.
   *
   * @param runId the run that made it
   * @param slot the agent's place in the network
   * @param workflowId the agent
   * @param status where it stands
   * @param cost its total cost
   * @param startedAt when its first step started (its creation, when none did)
   * @param endedAt when it ended, or null
   */
  public record Agent(UUID runId, int slot, UUID workflowId, ExecutionStatus status, BigDecimal cost,
      OffsetDateTime startedAt, @Nullable OffsetDateTime endedAt) {
    /** Whether it has ended. */
    public boolean ended() {
      return status != ExecutionStatus.pending && status != ExecutionStatus.running;
    }
  }
}
