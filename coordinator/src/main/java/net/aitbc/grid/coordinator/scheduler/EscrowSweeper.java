package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.PaymentStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Voids escrows past their timeout back to their clients, on a timer. Every coordinator sharing the
 * database may run one: each voids under row locks and skips the escrows another is voiding.
 */
public final class EscrowSweeper implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(EscrowSweeper.class);
  private static final int BATCH = 1000;

  private final PaymentStore payments;
  private final ScheduledExecutorService thread;

  /** Starts sweeping every {@code interval}. */
  public EscrowSweeper(PaymentStore payments, Duration interval) {
    this.payments = requireNonNull(payments, "payments");
    this.thread = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("grid-escrow-sweeper").daemon().factory());
    long every = interval.toMillis();
    thread.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
  }

  private void sweep() {
    try {
      int voided;
      do {
        voided = payments.voidExpired(BATCH).size();
        if (voided > 0) {
          logger.info("voided {} escrows past their timeout back to their clients", voided);
        }
      } while (voided == BATCH && !Thread.currentThread().isInterrupted());
    } catch (RuntimeException e) {
      if (Database.isUnavailable(e)) {
        logger.warn("escrow sweep skipped: the database is unavailable ({})", e.toString());
      } else {
        logger.error("escrow sweep failed", e);
      }
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
