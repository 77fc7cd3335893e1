package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.VerificationLevel;
import org.jspecify.annotations.Nullable;

/**
 * A validated execution to start.
 *
 * @param executionId its new id
 * @param workflowId what it runs
 * @param clientId its owner, whose jobs its steps are
 * @param keyId the key that started it, whose limits its step jobs are admitted under
 * @param requestId the idempotency key, or null
 * @param inputsJson the inputs merged over the workflow's defaults, a JSON object
 * @param priority 0 to 9, for steps without their own
 * @param verificationLevel how much proof its receipt carries
 * @param timeoutSeconds how long it may run, 1 to 86,400
 * @param maxCostBudget the bound on the sum of its steps' prices; 0 for none
 * @param steps its steps, all waiting
 */
public record NewExecution(UUID executionId, UUID workflowId, String clientId, String keyId,
    @Nullable String requestId, String inputsJson, int priority, VerificationLevel verificationLevel,
    int timeoutSeconds, BigDecimal maxCostBudget, List<StepSnapshot> steps) {
  /** Copies the list. */
  public NewExecution {
    steps = List.copyOf(steps);
  }
}
