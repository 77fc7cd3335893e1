package net.aitbc.grid.coordinator.store;

import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

/**
 * One step job of an ending execution, as its receipt names it.
 *
 * @param jobId the job
 * @param requestId its request id, which names its step and item
 * @param state its state when the execution ended
 * @param receiptId its job receipt, or null when it has none (it did not complete, or no key signed)
 * @param leafHash that receipt's leaf hash, or null
 */
public record StepJobReceipt(UUID jobId, String requestId, JobState state, @Nullable UUID receiptId,
    byte @Nullable [] leafHash) {}
