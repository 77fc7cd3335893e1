package net.aitbc.grid.coordinator.store;

import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.CoordinationStrategy;

/**
 * A validated network to store.
 *
 * @param networkId its new id
 * @param clientId its owner
 * @param name 1 to 100 characters
 * @param description free text
 * @param workflowIds its agents, in order, distinct
 * @param strategy how its runs run them
 */
public record NewNetwork(UUID networkId, String clientId, String name, String description, List<UUID> workflowIds,
    CoordinationStrategy strategy) {
  /** Copies the list. */
  public NewNetwork {
    workflowIds = List.copyOf(workflowIds);
  }
}
