package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A receipt to store with the completion, the settlement or the end of an execution it describes.
 *
 * @param receiptId its id
 * @param jobId the job; null for an execution's receipt
 * @param clientId the job's (or execution's) client
 * @param workerId the worker that ran it; null for a payment's receipt when none did
 * @param paymentId the payment whose end it records; null for a job's receipt
 * @param body the canonical JSON that is signed and is the ledger's leaf entry
 * @param leafHash SHA-256(0x00 || body)
 * @param createdAt when it was issued
 * @param price the price a job's receipt states, exact (what the job cost its workflow execution, if
 *     any); null for a payment's or an execution's receipt
 * @param executionId the execution whose end it records; null for a job's or a payment's receipt
 * @param swarmTaskId the swarm task whose end it records; null for any other receipt
 */
public record NewReceipt(UUID receiptId, @Nullable UUID jobId, String clientId, @Nullable String workerId,
    @Nullable UUID paymentId, String body, byte[] leafHash, OffsetDateTime createdAt, @Nullable BigDecimal price,
    @Nullable UUID executionId, @Nullable UUID swarmTaskId) {
  /** A receipt that records no swarm task's end. */
  public NewReceipt(UUID receiptId, @Nullable UUID jobId, String clientId, @Nullable String workerId,
      @Nullable UUID paymentId, String body, byte[] leafHash, OffsetDateTime createdAt, @Nullable BigDecimal price,
      @Nullable UUID executionId) {
    this(receiptId, jobId, clientId, workerId, paymentId, body, leafHash, createdAt, price, executionId, null);
  }
}
