package net.aitbc.grid.coordinator.store;

import java.time.OffsetDateTime;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A receipt as stored: a job's, a payment's (when {@code paymentId} is set), or an execution's (when
 * {@code executionId} is).
 *
 * @param receiptId its id
 * @param jobId the job it describes (a payment's receipt: the job paid for); null for an execution's
 * @param clientId the job's (or execution's) client
 * @param workerId the worker that ran the job; null for a payment's receipt when none did
 * @param paymentId the payment whose end it records; null for a job's receipt
 * @param body the canonical JSON that is signed (the ledger's leaf entry)
 * @param leafHash SHA-256(0x00 || body) as computed when it was issued
 * @param signature the coordinator's signature of body, once made
 * @param createdAt when it was issued
 * @param leafIndex its index in the ledger (given when it was issued)
 * @param blockHeight the block that sealed it, or null while it waits for one
 * @param executionId the execution whose end it records; null for a job's or a payment's receipt
 */
public record StoredReceipt(UUID receiptId, @Nullable UUID jobId, String clientId, @Nullable String workerId,
    @Nullable UUID paymentId, String body, byte[] leafHash, byte @Nullable [] signature, OffsetDateTime createdAt,
    long leafIndex, @Nullable Long blockHeight, @Nullable UUID executionId, @Nullable UUID swarmTaskId) {
  /** Whether it is a job's receipt (not a payment's, an execution's or a swarm task's). */
  public boolean ofJob() {
    return paymentId == null && executionId == null && swarmTaskId == null;
  }
}
