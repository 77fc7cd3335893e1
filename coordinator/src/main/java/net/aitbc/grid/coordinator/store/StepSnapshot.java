package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * One step of an execution as the engine last saw it, kept with the execution for its readers.
 *
 * @param name the step's name
 * @param status where it stands
 * @param jobIds its jobs, in item order (empty until started)
 * @param items how many jobs it has, or -1 while its for_each list is not known
 * @param itemsCompleted how many of them completed
 * @param cost the sum of its completed jobs' prices
 * @param error why it failed, or null
 * @param startTime when its first job was created, or null
 * @param endTime when its last job ended, once it completed or failed, or null
 * @param dependsOn the steps it waits for
 */
public record StepSnapshot(String name, Status status, List<UUID> jobIds, int items, int itemsCompleted,
    BigDecimal cost, @Nullable String error, @Nullable OffsetDateTime startTime, @Nullable OffsetDateTime endTime,
    List<String> dependsOn) {
  /** Where a step stands. */
  public enum Status { WAITING, RUNNING, COMPLETED, FAILED, CANCELLED }

  /** Copies the lists. */
  public StepSnapshot {
    jobIds = List.copyOf(jobIds);
    dependsOn = List.copyOf(dependsOn);
  }

  /** The same step, canceled with its execution unless it had completed or failed. */
  public StepSnapshot endedWithExecution() {
    return status == Status.COMPLETED || status == Status.FAILED ? this
        : new StepSnapshot(name, Status.CANCELLED, jobIds, items, itemsCompleted, cost, error, startTime, endTime,
            dependsOn);
  }
}
