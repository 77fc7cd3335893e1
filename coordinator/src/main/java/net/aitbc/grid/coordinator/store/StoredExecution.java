package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.VerificationLevel;
import org.jspecify.annotations.Nullable;

/**
 * An execution as stored: what it was started with, and what the engine last decided.
 *
 * @param executionId its id
 * @param workflowId what it runs
 * @param clientId its owner
 * @param keyId the key that started it
 * @param status where it stands
 * @param inputsJson its inputs, a JSON object
 * @param priority 0 to 9
 * @param verificationLevel how much proof its receipt carries
 * @param timeoutSeconds how long it may run
 * @param deadline when it fails if it has not ended
 * @param maxCostBudget the bound on the sum of its steps' prices; 0 for none
 * @param totalCost the sum of its completed step jobs' prices
 * @param progress 0 to 100
 * @param currentStep how many steps have completed
 * @param totalSteps how many steps it has
 * @param currentStepName the first running step, or null
 * @param steps every step, in definition order
 * @param finalResultJson its result once completed, or null
 * @param errorMessage why it failed or was canceled, or null
 * @param createdAt when it was started
 * @param startedAt when its first step job was created, or null
 * @param endedAt when it ended, or null
 * @param receiptId its receipt, issued when it ended (null before, or when no signing key was configured)
 */
public record StoredExecution(UUID executionId, UUID workflowId, String clientId, String keyId,
    ExecutionStatus status, String inputsJson, int priority, VerificationLevel verificationLevel, int timeoutSeconds,
    OffsetDateTime deadline, BigDecimal maxCostBudget, BigDecimal totalCost, int progress, int currentStep,
    int totalSteps, @Nullable String currentStepName, List<StepSnapshot> steps, @Nullable String finalResultJson,
    @Nullable String errorMessage, OffsetDateTime createdAt, @Nullable OffsetDateTime startedAt,
    @Nullable OffsetDateTime endedAt, @Nullable UUID receiptId) {
  /** Copies the list. */
  public StoredExecution {
    steps = List.copyOf(steps);
  }

  /** The same execution with its receipt named. */
  public StoredExecution withReceipt(@Nullable UUID receipt) {
    return new StoredExecution(executionId, workflowId, clientId, keyId, status, inputsJson, priority,
        verificationLevel, timeoutSeconds, deadline, maxCostBudget, totalCost, progress, currentStep, totalSteps,
        currentStepName, steps, finalResultJson, errorMessage, createdAt, startedAt, endedAt, receipt);
  }

  /** Whether it has ended (completed, failed or cancelled). */
  public boolean ended() {
    return status != ExecutionStatus.pending && status != ExecutionStatus.running;
  }
}
