package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.VerificationLevel;
import org.jspecify.annotations.Nullable;

/**
 * A validated workflow to store.
 *
 * @param workflowId its new id
 * @param clientId its owner
 * @param requestId the idempotency key, or null
 * @param name 1 to 100 characters
 * @param description free text
 * @param definition the definition as the client wrote it (checked by the workflow package)
 * @param stepCount how many steps it has
 * @param verificationLevel the default of its executions
 * @param maxExecutionSeconds the longest an execution may run, 1 to 86,400
 * @param maxCostBudget the default bound on an execution's cost; 0 for none
 * @param tags labels for listing
 * @param isPublic whether other clients may read and execute it
 */
public record NewWorkflow(UUID workflowId, String clientId, @Nullable String requestId, String name,
    String description, String definition, int stepCount, VerificationLevel verificationLevel,
    int maxExecutionSeconds, BigDecimal maxCostBudget, List<String> tags, boolean isPublic) {
  /** Copies the list. */
  public NewWorkflow {
    tags = List.copyOf(tags);
  }
}
