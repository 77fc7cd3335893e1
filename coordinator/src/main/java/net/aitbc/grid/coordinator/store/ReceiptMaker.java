package net.aitbc.grid.coordinator.store;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Makes the receipts of completed jobs, ended payments, ended executions and ended swarm tasks (the ledger's rules; the
 * store only writes them).
 */
public interface ReceiptMaker {
  /** The receipt of {@code job}, issued at its finish time. */
  NewReceipt receipt(CompletedJob job);

  /**
   * The receipt of a job the result cache answered at {@code at} with {@code resultJson}, the result
   * of job {@code sourceJobId}: no worker ran it, and it costs nothing.
   */
  NewReceipt cacheHit(NewJob job, OffsetDateTime at, String resultJson, UUID sourceJobId);

  /**
   * The receipt of a payment just released or refunded, issued at that time; {@code jobReceiptId}
   * names the job's receipt, or is null while the job has none.
   */
  NewReceipt payment(StoredPayment payment, @Nullable UUID jobReceiptId);

  /** The receipt of an execution just ended (as stored), naming its step jobs and their receipts. */
  NewReceipt execution(StoredExecution ended, List<StepJobReceipt> jobs);

  /** The receipt of a swarm task just ended (as stored), naming its member jobs and their receipts. */
  NewReceipt swarmTask(StoredSwarmTask ended, List<MemberJobReceipt> jobs);
}
