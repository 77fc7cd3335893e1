package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

/**
 * One job of an execution, as the engine plans from it.
 *
 * @param jobId the job
 * @param requestId its request id, which names its step and item
 * @param state its state
 * @param error why it failed, was canceled or expired, or null
 * @param price what its receipt states it cost, or null (no receipt: not completed, or no signing key)
 * @param createdAt when it was created
 * @param finishedAt when it ended, or null
 */
public record StepJobRow(UUID jobId, String requestId, JobState state, @Nullable String error,
    @Nullable BigDecimal price, OffsetDateTime createdAt, @Nullable OffsetDateTime finishedAt) {
  /** Whether it is queued or running. */
  public boolean unfinished() {
    return state == JobState.QUEUED || state == JobState.RUNNING;
  }
}
