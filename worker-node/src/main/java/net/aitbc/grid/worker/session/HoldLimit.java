package net.aitbc.grid.worker.session;

import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How many jobs the worker may hold at once (running plus waiting for a slot): its concurrency plus
 * its prefetch, cut to the coordinator's {@code Registered.max_held} when that is set. Shared by
 * the worker's successive streams, so a cut is logged at WARN once, not on every reconnect.
 */
final class HoldLimit {

  private static final Logger logger = LoggerFactory.getLogger(HoldLimit.class);

  private final String workerId;
  private final int concurrency;
  private final int prefetch;
  // The max_held last warned about; a different cut (a reconfigured coordinator) warns again.
  private final AtomicInteger warned = new AtomicInteger();

  /** The limit of a worker that runs {@code concurrency} jobs and asks for {@code prefetch}. */
  HoldLimit(String workerId, int concurrency, int prefetch) {
    this.workerId = workerId;
    this.concurrency = concurrency;
    this.prefetch = prefetch;
  }

  /** How many jobs run at once. */
  int concurrency() {
    return concurrency;
  }

  /** The most jobs to hold under {@code maxHeld} (0: the coordinator sets no limit). */
  int apply(int maxHeld) {
    int wanted = concurrency + prefetch;
    if (maxHeld <= 0 || maxHeld >= wanted) {
      return wanted;
    }
    if (warned.getAndSet(maxHeld) != maxHeld) {
      if (maxHeld >= concurrency) {
        logger.warn(
            "[worker={}] the coordinator lets a worker hold at most {} job(s): prefetch cut from"
                + " {} to {}",
            workerId,
            maxHeld,
            prefetch,
            maxHeld - concurrency);
      } else {
        logger.warn(
            "[worker={}] the coordinator lets a worker hold at most {} job(s), fewer than its"
                + " concurrency {}: no prefetch, {} slot(s) stay idle",
            workerId,
            maxHeld,
            concurrency,
            concurrency - maxHeld);
      }
    } else {
      logger.debug("[worker={}] holding at most {} job(s), as before", workerId, maxHeld);
    }
    return maxHeld;
  }
}
