package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.v1.Receipt;
import org.jspecify.annotations.Nullable;

/**
 * Executions' receipts for WorkflowService.GetExecutionReceipt: the signed receipt of an ended
 * execution, or NOT_FOUND saying why there is none (it still runs, it ended without a signing key, or
 * this coordinator has none).
 */
public final class ExecutionReceiptReader {
  private final ReceiptStore receipts;
  private final @Nullable Ledger ledger;

  /** Receipts from this store, signed by this ledger; without one there are none. */
  public ExecutionReceiptReader(ReceiptStore receipts, @Nullable Ledger ledger) {
    this.receipts = requireNonNull(receipts, "receipts");
    this.ledger = ledger;
  }

  /** The signed receipt of {@code e}, which the caller may read. */
  Receipt of(StoredExecution e) {
    String id = JobIds.format(e.executionId());
    Ledger l = ledger;
    if (l == null) {
      throw notFound("execution " + id + " has no receipt: this coordinator issues no receipts (it has no signing "
          + "key)");
    }
    if (!e.ended()) {
      throw notFound("execution " + id + " is " + e.status().getLiteral() + ": its receipt is issued when it ends");
    }
    return receipts.byExecution(e.executionId(), e.clientId())
        .map(r -> LedgerProtos.receipt(r, l))
        .orElseThrow(() -> notFound("execution " + id + " has no receipt: it ended (" + e.status().getLiteral()
            + ") while the coordinator had no signing key"));
  }
}
