package net.aitbc.grid.coordinator.scheduler;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * A periodic query of the sweeper that runs at most every {@code every}, and less often when it
 * is slow (a deep queue, a table no VACUUM has cleaned), so that it takes at most 2% of the time.
 */
final class Paced {
  private static final int COST_RATIO = 50;

  private final long everyNanos;
  private long lastNanos;
  private long costNanos;
  private boolean ran;

  Paced(Duration every) {
    this.everyNanos = every.toNanos();
  }

  /** Runs {@code query} if it is due; returns its result, or {@code otherwise}. */
  <T> T runIfDue(Supplier<T> query, T otherwise) {
    long start = System.nanoTime();
    if (ran && start - lastNanos < Math.max(everyNanos, COST_RATIO * costNanos)) {
      return otherwise;
    }
    ran = true;
    lastNanos = start;
    try {
      return query.get();
    } finally {
      costNanos = System.nanoTime() - start;
    }
  }
}
