package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.v1.Receipt;
import org.jspecify.annotations.Nullable;

/**
 * Swarm tasks' receipts for SwarmService.GetTaskReceipt: the signed receipt of an ended task, or
 * NOT_FOUND saying why there is none (it still runs, it ended without a signing key, or this
 * coordinator has none).
 */
public final class SwarmReceiptReader {
  private final ReceiptStore receipts;
  private final @Nullable Ledger ledger;

  /** Receipts from this store, signed by this ledger; without one there are none. */
  public SwarmReceiptReader(ReceiptStore receipts, @Nullable Ledger ledger) {
    this.receipts = requireNonNull(receipts, "receipts");
    this.ledger = ledger;
  }

  /** The signed receipt of {@code t}, which the caller may read. */
  Receipt of(StoredSwarmTask t) {
    String id = JobIds.format(t.taskId());
    Ledger l = ledger;
    if (l == null) {
      throw notFound("swarm task " + id + " has no receipt: this coordinator issues no receipts (it has no signing "
          + "key)");
    }
    if (!t.ended()) {
      throw notFound("swarm task " + id + " is " + t.status().getLiteral() + ": its receipt is issued when it ends");
    }
    return receipts.bySwarmTask(t.taskId(), t.clientId())
        .map(r -> LedgerProtos.receipt(r, l))
        .orElseThrow(() -> notFound("swarm task " + id + " has no receipt: it ended (" + t.status().getLiteral()
            + ") while the coordinator had no signing key"));
  }
}
