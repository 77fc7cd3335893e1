package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.VerificationLevel;

/**
 * A workflow as stored.
 *
 * @param workflowId its id
 * @param clientId its owner
 * @param name its name
 * @param description free text
 * @param definition the definition as the client wrote it
 * @param stepCount how many steps it has
 * @param verificationLevel the default of its executions
 * @param maxExecutionSeconds the longest an execution may run
 * @param maxCostBudget the default bound on an execution's cost; 0 for none
 * @param tags labels for listing
 * @param isPublic whether other clients may read and execute it
 * @param version 1 (workflows are not changed yet)
 * @param createdAt when it was stored
 * @param updatedAt when it last changed
 */
public record StoredWorkflow(UUID workflowId, String clientId, String name, String description, String definition,
    int stepCount, VerificationLevel verificationLevel, int maxExecutionSeconds, BigDecimal maxCostBudget,
    List<String> tags, boolean isPublic, int version, OffsetDateTime createdAt, OffsetDateTime updatedAt) {
  /** Copies the list. */
  public StoredWorkflow {
    tags = List.copyOf(tags);
  }
}
