package net.aitbc.grid.coordinator.workflow;

import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;

/**
 * The request ids of step jobs: {@value #PREFIX}, the execution's id (32 hex characters), a colon,
 * and the step job's key ({@code step#item}), e.g. {@code wf:0190…:summarise#0}. A step job is
 * created through the normal submission path with this id, so that planning again after a crash
 * or on another coordinator finds the job made the first time instead of making a second one.
 * Clients may not use the prefix for their own request ids.
 */
public final class StepKeys {
  /** The prefix of request ids reserved for step jobs. */
  public static final String PREFIX = "wf:";

  private StepKeys() {}

  /**
   * A step job's place in its execution.
   *
   * @param step the step's name
   * @param item its for_each item (0 for a plain step)
   */
  public record Key(String step, int item) {}

  /** The request id of a step job of an execution. */
  public static String requestId(UUID executionId, Planner.StepJob job) {
    return PREFIX + JobIds.format(executionId) + ":" + job.key();
  }

  /** The step and item a step job's request id names; empty for any other request id. */
  public static Optional<Key> parse(String requestId) {
    int colon = PREFIX.length() + 32;
    int hash = requestId.lastIndexOf('#');
    if (!requestId.startsWith(PREFIX) || requestId.length() <= colon || requestId.charAt(colon) != ':'
        || hash <= colon + 1) {
      return Optional.empty();
    }
    try {
      int item = Integer.parseInt(requestId.substring(hash + 1));
      return Optional.of(new Key(requestId.substring(colon + 1, hash), item));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
