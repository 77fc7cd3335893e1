package net.aitbc.grid.coordinator.swarm;

import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;

/**
 * The request ids of swarm member jobs: {@value #PREFIX}, the task's id (32 hex characters), a
 * colon, and {@code slot.replacement}, e.g. {@code swarm:0190…:2.1}. A member job is created through
 * the normal submission path with this id, so that deciding again after a crash, or on another
 * coordinator, finds the job made the first time instead of making a second. Clients may not use the
 * prefix for their own request ids.
 */
public final class SwarmKeys {
  /** The prefix of request ids reserved for member jobs. */
  public static final String PREFIX = "swarm:";

  private SwarmKeys() {}

  /**
   * A member job's place in its task.
   *
   * @param slot the consensus member, the leader (0), or the distributed part
   * @param replacement 0 for the first job of the slot
   */
  public record Key(int slot, int replacement) {}

  /** The request id of a member job. */
  public static String requestId(UUID taskId, int slot, int replacement) {
    return PREFIX + JobIds.format(taskId) + ":" + slot + "." + replacement;
  }

  /** The slot and replacement a member job's request id names; empty for any other request id. */
  public static Optional<Key> parse(String requestId) {
    int colon = PREFIX.length() + 32;
    if (!requestId.startsWith(PREFIX) || requestId.length() <= colon + 1 || requestId.charAt(colon) != ':') {
      return Optional.empty();
    }
    String[] parts = requestId.substring(colon + 1).split("\\.", -1);
    try {
      return parts.length == 2 ? Optional.of(new Key(Integer.parseInt(parts[0]), Integer.parseInt(parts[1])))
          : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
