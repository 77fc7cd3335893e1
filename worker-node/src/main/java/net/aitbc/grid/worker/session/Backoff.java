package net.aitbc.grid.worker.session;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with full jitter: the n-th delay is uniform in [0, min(max, min * 2^n)], so a
 * fleet of workers that lost the same coordinator does not reconnect in lock-step. Not thread-safe.
 */
final class Backoff {

  private final long minNanos;
  private final long maxNanos;
  private final RandomGenerator random;
  private int attempt;

  Backoff(Duration min, Duration max, RandomGenerator random) {
    this.minNanos = min.toNanos();
    this.maxNanos = max.toNanos();
    this.random = random;
  }

  /** The next delay; each call doubles the cap until it reaches the maximum. */
  Duration next() {
    long cap = (long) Math.min((double) maxNanos, minNanos * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 62);
    return Duration.ofNanos(random.nextLong(cap + 1));
  }

  /** The largest delay, for failures that another quick try will not fix (a refused key). */
  Duration max() {
    return Duration.ofNanos(maxNanos);
  }

  /** Starts over from the smallest cap, after a successful registration. */
  void reset() {
    attempt = 0;
  }
}
