package net.aitbc.grid.coordinator.store;

import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

/**
 * One member job of an ending swarm task, as its receipt names it.
 *
 * @param slot its slot
 * @param replacement 0 first, then 1, 2 on other workers
 * @param jobId the job
 * @param workerId the worker it was pinned to
 * @param state its state when the task ended
 * @param resultSha256 its result's hash, when the decision recorded one
 * @param vote "agree" or "dissent", when the decision recorded one
 * @param receiptId its job receipt, or null when it has none
 * @param leafHash that receipt's leaf hash, or null
 */
public record MemberJobReceipt(int slot, int replacement, UUID jobId, String workerId, JobState state,
    @Nullable String resultSha256, @Nullable String vote, @Nullable UUID receiptId, byte @Nullable [] leafHash) {}
