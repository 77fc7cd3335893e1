package net.aitbc.grid.coordinator.scheduler;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Delay before a job's next attempt: {@code base × 2^(attempt-1)}, capped, with "equal jitter"
 * (half fixed, half random) so that jobs that failed together do not retry together.
 *
 * @param base the delay after the first attempt
 * @param max the longest delay
 */
public record Backoff(Duration base, Duration max) {
  /** The delay after {@code attempt} (1-based) ended. */
  public Duration after(int attempt) {
    long baseMillis = base.toMillis();
    long exp = attempt >= 31 ? Long.MAX_VALUE : baseMillis << Math.max(0, attempt - 1);
    long capped = exp < 0 ? max.toMillis() : Math.min(exp, max.toMillis());
    long half = capped / 2;
    return Duration.ofMillis(half + (half > 0 ? ThreadLocalRandom.current().nextLong(half + 1) : 0));
  }
}
