package net.aitbc.grid.coordinator.store;

/** Makes the receipt of a completed job (the ledger's rules; the store only writes it). */
@FunctionalInterface
public interface ReceiptMaker {
  /** The receipt of {@code job}, issued at its finish time. */
  NewReceipt receipt(CompletedJob job);
}
