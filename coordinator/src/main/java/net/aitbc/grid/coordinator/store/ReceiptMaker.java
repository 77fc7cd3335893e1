package net.aitbc.grid.coordinator.store;

import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** Makes the receipts of completed jobs and ended payments (the ledger's rules; the store only writes them). */
public interface ReceiptMaker {
  /** The receipt of {@code job}, issued at its finish time. */
  NewReceipt receipt(CompletedJob job);

  /**
   * The receipt of a payment just released or refunded, issued at that time; {@code jobReceiptId}
   * names the job's receipt, or is null while the job has none.
   */
  NewReceipt payment(StoredPayment payment, @Nullable UUID jobReceiptId);
}
