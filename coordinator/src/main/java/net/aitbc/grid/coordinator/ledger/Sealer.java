package net.aitbc.grid.coordinator.ledger;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.coordinator.store.LedgerStore;
import net.aitbc.grid.coordinator.store.StoredBlock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals waiting receipts into blocks: every {@code interval}, and as soon as a block's worth of
 * receipts was issued here. What waits is read from the database, so receipts another coordinator
 * issued are sealed too, and a crash loses nothing: a block is one transaction.
 */
public final class Sealer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Sealer.class);

  private final LedgerStore store;
  private final Ledger ledger;
  private final int blockReceipts;
  private final Duration interval;
  private final AtomicInteger issued = new AtomicInteger();
  private final Thread thread;
  private volatile boolean closed;

  /** Starts sealing. */
  public Sealer(LedgerStore store, Ledger ledger, int blockReceipts, Duration interval) {
    this.store = requireNonNull(store, "store");
    this.ledger = requireNonNull(ledger, "ledger");
    this.blockReceipts = blockReceipts;
    this.interval = requireNonNull(interval, "interval");
    this.thread = Thread.ofPlatform().name("ledger-sealer").daemon().start(this::run);
  }

  /** {@code n} receipts were issued here: seal now if a block's worth waits. */
  public void issued(int n) {
    if (issued.addAndGet(n) >= blockReceipts) {
      LockSupport.unpark(thread);
    }
  }

  private void run() {
    while (!closed) {
      LockSupport.parkNanos(interval.toNanos());
      issued.set(0);
      try {
        sealWaiting();
      } catch (RuntimeException e) {
        logger.warn("sealing failed, retrying in {} ms: {}", interval.toMillis(), e.toString());
      }
    }
  }

  /** Seals everything waiting now, a block of at most {@code blockReceipts} at a time. */
  void sealWaiting() {
    while (!closed) {
      Optional<StoredBlock> block = store.seal(blockReceipts, ledger::signHeader);
      if (block.isEmpty()) {
        return;
      }
      logger.debug("sealed block {} ({} receipts, tree size {})", block.get().height(), block.get().count(),
          block.get().treeSize());
      if (block.get().count() < blockReceipts) {
        return;
      }
    }
  }

  /** Stops sealing after the block in progress; what waits is sealed by the next start. */
  @Override
  public void close() {
    closed = true;
    LockSupport.unpark(thread);
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
