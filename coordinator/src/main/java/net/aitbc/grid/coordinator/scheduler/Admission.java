package net.aitbc.grid.coordinator.scheduler;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Principal;

/**
 * Decides whether a submission may enter: a token bucket per key bounds its rate, and a cap per
 * client bounds its queued jobs, so that no client grows the queue without bound. A refusal says
 * when to try again.
 */
public final class Admission {
  private final double defaultRate;
  private final int defaultBurst;
  private final int defaultMaxQueued;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
  // Counted by the sweeper from the database, plus what was committed since; so it may run a little
  // high (jobs handed out since the count), never low.
  private final Map<String, AtomicLong> queued = new ConcurrentHashMap<>();

  /** Admission with these defaults for keys that set none; a rate of 0 or less is unlimited. */
  public Admission(double defaultRate, int defaultBurst, int defaultMaxQueued) {
    this.defaultRate = defaultRate;
    this.defaultBurst = defaultBurst;
    this.defaultMaxQueued = defaultMaxQueued;
  }

  /** A submission was refused: why, and when to try again. */
  public static final class Refused extends RuntimeException {
    private final Duration retryAfter;

    Refused(String message, Duration retryAfter) {
      super(message, null, false, false);
      this.retryAfter = retryAfter;
    }

    /** When a retry can succeed. */
    public Duration retryAfter() {
      return retryAfter;
    }
  }

  /** Takes a token for one submission, or throws {@link Refused}. */
  public void admit(Principal p) {
    KeyLimits l = p.limits();
    int maxQueued = l.maxQueued() != null ? l.maxQueued() : defaultMaxQueued;
    long waiting = queued.computeIfAbsent(p.clientId(), c -> new AtomicLong()).get();
    if (waiting >= maxQueued) {
      throw new Refused("client " + p.clientId() + " has " + waiting + " queued jobs, the most it may have is "
          + maxQueued + "; wait for some to finish", Duration.ofSeconds(1));
    }
    double rate = l.ratePerSec() != null ? l.ratePerSec() : defaultRate;
    if (rate <= 0) {
      return;
    }
    int burst = l.burst() != null ? l.burst() : Math.max(defaultBurst, (int) Math.ceil(rate));
    long waitNanos = buckets.computeIfAbsent(p.keyId(), k -> new Bucket()).take(rate, burst);
    if (waitNanos > 0) {
      throw new Refused("rate limit of " + rate + " submissions per second exceeded for this key",
          Duration.ofNanos(waitNanos));
    }
  }

  /** A client's job was committed. */
  public void committed(String clientId) {
    queued.computeIfAbsent(clientId, c -> new AtomicLong()).incrementAndGet();
  }

  /** The latest count of queued jobs per client; clients not named have none. */
  public void queueLengths(Map<String, Integer> counts) {
    queued.forEach((client, n) -> n.set(counts.getOrDefault(client, 0)));
    counts.forEach((client, n) -> queued.computeIfAbsent(client, c -> new AtomicLong()).set(n));
  }

  private static final class Bucket {
    private double tokens = Double.NaN;
    private long refilledAt = System.nanoTime();

    /** Takes one token; returns 0, or the nanoseconds until one is there. */
    synchronized long take(double rate, int burst) {
      long now = System.nanoTime();
      tokens = Double.isNaN(tokens) ? burst : Math.min(burst, tokens + (now - refilledAt) * rate / 1e9);
      refilledAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - tokens) / rate * 1e9);
    }
  }
}
