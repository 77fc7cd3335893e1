package net.aitbc.grid.coordinator.store;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.CoordinationStrategy;

/**
 * A network as stored.
 *
 * @param networkId its id
 * @param clientId its owner
 * @param name its name
 * @param description free text
 * @param workflowIds its agents, in order (the first aggregates under hybrid)
 * @param strategy how its runs run them
 * @param createdAt when it was stored
 */
public record StoredNetwork(UUID networkId, String clientId, String name, String description, List<UUID> workflowIds,
    CoordinationStrategy strategy, OffsetDateTime createdAt) {
  /** Copies the list. */
  public StoredNetwork {
    workflowIds = List.copyOf(workflowIds);
  }
}
