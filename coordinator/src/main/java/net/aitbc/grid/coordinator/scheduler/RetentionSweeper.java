package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.RetentionStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retires finished jobs older than the job retention, on a timer, a batch per transaction, so that
 * the job table holds recent traffic only and claims and sweeps cost the same after months. Every
 * coordinator sharing the database may run one: batches are locked with SKIP LOCKED, so two never
 * delete (or count) the same job, and the cutoff is the database's clock, not this host's.
 */
public final class RetentionSweeper implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(RetentionSweeper.class);
  /** Jobs deleted per transaction: short enough that locks and WAL bursts stay small. */
  static final int BATCH = 1000;

  private final RetentionStore store;
  private final CoordinatorConfig.Retention retention;
  private final GridMetrics metrics;
  private final ScheduledExecutorService thread;

  /** Starts retiring every {@code retention.every()}; retires nothing when the retention is zero. */
  public RetentionSweeper(RetentionStore store, CoordinatorConfig.Retention retention, GridMetrics metrics) {
    this.store = requireNonNull(store, "store");
    this.retention = requireNonNull(retention, "retention");
    this.metrics = requireNonNull(metrics, "metrics");
    this.thread = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("grid-retention").daemon().factory());
    if (retention.retires()) {
      long every = retention.every().toMillis();
      thread.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
    }
  }

  /** One pass: every job finished before the cutoff that nothing live needs. Returns how many went. */
  long sweep() {
    long total = 0;
    try {
      RetentionStore.Pass pass = store.start(retention.jobs());
      while (pass != null && !Thread.currentThread().isInterrupted()) {
        RetentionStore.Batch batch = store.retire(pass, BATCH);
        metrics.retired(batch.retired());
        total += batch.retired();
        pass = batch.next();
      }
      if (total > 0) {
        logger.info("retired {} jobs finished more than {} ago", total, retention.jobs());
      }
    } catch (RuntimeException e) {
      if (Database.isUnavailable(e)) {
        logger.warn("retention sweep skipped: the database is unavailable ({})", e.toString());
      } else {
        logger.error("retention sweep failed after retiring {} jobs; retrying next time", total, e);
      }
    }
    return total;
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
