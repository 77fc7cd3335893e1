package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * A receipt to store with the completion it describes.
 *
 * @param receiptId its id
 * @param jobId the job
 * @param clientId the job's client
 * @param workerId the worker that ran it
 * @param body the canonical JSON that is signed and is the ledger's leaf entry
 * @param leafHash SHA-256(0x00 || body)
 * @param createdAt when it was issued
 * @param price the price the body states, exact (what the job cost its workflow execution, if any)
 */
public record NewReceipt(UUID receiptId, UUID jobId, String clientId, String workerId, String body,
    byte[] leafHash, OffsetDateTime createdAt, BigDecimal price) {}
