package net.aitbc.grid.coordinator.scheduler;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.ClusterStore;

/**
 * Decides whether a call may enter: a token bucket per key bounds the rate of its submissions (and,
 * with a bucket of its own, of its other calls), and a cap per client bounds its queued jobs. A
 * submission reserves its queue slot before it is stored, so concurrent submissions can never
 * overshoot the cap. A refusal says when to try again.
 *
 * <p>With other replicas on the database: queue caps count the queued jobs in the database every
 * second, so a client's queue may overshoot its cap by what it submits through other replicas
 * within one count; the buckets are charged every heartbeat with what other replicas admitted for
 * the same key ({@link #charge}), so over any window a key gets at most its rate, plus one burst
 * per replica and what the others admit within one heartbeat.
 */
public final class Admission {
  private static final String SUBMIT = "submit";
  private static final String CALL = "call";
  private final double defaultRate;
  private final int defaultBurst;
  private final int defaultMaxQueued;
  private final Map<String, Bucket> submitBuckets = new ConcurrentHashMap<>();
  private final Map<String, Bucket> callBuckets = new ConcurrentHashMap<>();
  private final Map<String, Queue> queues = new ConcurrentHashMap<>();

  /** Admission with these defaults for keys that set none; a rate of 0 or less is unlimited. */
  public Admission(double defaultRate, int defaultBurst, int defaultMaxQueued) {
    this.defaultRate = defaultRate;
    this.defaultBurst = defaultBurst;
    this.defaultMaxQueued = defaultMaxQueued;
  }

  /** Why a call was refused. */
  public enum Limit {
    /** The key's token bucket is empty. */
    RATE,
    /** The client has as many queued jobs as it may. */
    QUEUE_CAP;

    /** Its name as a metric tag. */
    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A call was refused: why, and when to try again. */
  public static final class Refused extends RuntimeException {
    private final Duration retryAfter;
    private final Limit limit;

    Refused(Limit limit, String message, Duration retryAfter) {
      super(message, null, false, false);
      this.limit = limit;
      this.retryAfter = retryAfter;
    }

    /** When a retry can succeed. */
    public Duration retryAfter() {
      return retryAfter;
    }

    /** Which limit refused it. */
    public Limit limit() {
      return limit;
    }
  }

  /** An admitted submission: its queue slot and token, until it is stored or given up. */
  public final class Ticket {
    private final Queue queue;
    private final Bucket bucket;
    private boolean done;

    private Ticket(Queue queue, Bucket bucket) {
      this.queue = queue;
      this.bucket = bucket;
    }

    /** The job was stored: its slot now counts as queued. */
    public void stored() {
      synchronized (queue) {
        if (!done) {
          done = true;
          queue.pending--;
          queue.counted++;
          queue.commits++;
        }
      }
    }

    /** The job was not stored (failed, or a retry of a stored job): slot and token go back. */
    public void release() {
      synchronized (queue) {
        if (done) {
          return;
        }
        done = true;
        queue.pending--;
      }
      bucket.refund();
    }
  }

  /** Reserves a queue slot and takes a token for one submission, or throws {@link Refused}. */
  public Ticket admit(Principal p) {
    KeyLimits l = p.limits();
    int maxQueued = l.maxQueued() != null ? l.maxQueued() : defaultMaxQueued;
    Queue q = queues.computeIfAbsent(p.clientId(), c -> new Queue());
    synchronized (q) {
      long waiting = q.counted + q.pending;
      if (waiting >= maxQueued) {
        throw new Refused(Limit.QUEUE_CAP, "client " + p.clientId() + " has " + waiting
            + " queued jobs, the most it may have is " + maxQueued + "; wait for some to finish", Duration.ofSeconds(1));
      }
      q.pending++;
    }
    Bucket bucket = submitBuckets.computeIfAbsent(p.keyId(), k -> new Bucket());
    try {
      take(bucket, l, "submissions");
    } catch (Refused e) {
      synchronized (q) {
        q.pending--;
      }
      throw e;
    }
    return new Ticket(q, bucket);
  }

  /** Takes a token for one call other than a submission, or throws {@link Refused}. */
  public void admitCall(Principal p) {
    take(callBuckets.computeIfAbsent(p.keyId(), k -> new Bucket()), p.limits(), "calls");
  }

  private void take(Bucket bucket, KeyLimits l, String what) {
    double rate = l.ratePerSec() != null ? l.ratePerSec() : defaultRate;
    if (rate <= 0) {
      return;
    }
    // A key that sets a rate without a burst gets a burst of one second's worth, not the default's.
    int burst = l.burst() != null ? l.burst()
        : l.ratePerSec() != null ? Math.max(1, (int) Math.ceil(rate)) : Math.max(defaultBurst, (int) Math.ceil(rate));
    long waitNanos = bucket.take(rate, burst);
    if (waitNanos > 0) {
      throw new Refused(Limit.RATE, "rate limit of " + rate + " " + what + " per second exceeded for this key",
          Duration.ofNanos(waitNanos));
    }
  }

  /** How many calls this coordinator has admitted so far, per key and kind (cumulative). */
  public Map<ClusterStore.Usage, Long> admitted() {
    Map<ClusterStore.Usage, Long> admitted = new HashMap<>();
    submitBuckets.forEach((key, b) -> admitted.put(new ClusterStore.Usage(key, SUBMIT), b.admitted()));
    callBuckets.forEach((key, b) -> admitted.put(new ClusterStore.Usage(key, CALL), b.admitted()));
    return admitted;
  }

  /** Takes these many tokens per key and kind: calls other replicas admitted. */
  public void charge(Map<ClusterStore.Usage, Long> calls) {
    calls.forEach((usage, n) -> {
      Bucket b = (SUBMIT.equals(usage.kind()) ? submitBuckets : callBuckets).get(usage.keyId());
      if (b != null && n > 0) {
        b.charge(n);
      }
    });
  }

  /** How many jobs each client has stored so far; pass it to {@link #queueLengths} after a count. */
  public Map<String, Long> commitMarks() {
    Map<String, Long> marks = new HashMap<>();
    queues.forEach((client, q) -> {
      synchronized (q) {
        marks.put(client, q.commits);
      }
    });
    return marks;
  }

  /**
   * The latest count of queued jobs per client (clients not named have none), counted after
   * {@code marks} was taken. Jobs stored since the mark may or may not be in the count: they are
   * added again, so the count may run a little high until the next one, never low.
   */
  public void queueLengths(Map<String, Integer> counts, Map<String, Long> marks) {
    counts.forEach((client, n) -> queues.computeIfAbsent(client, c -> new Queue()));
    queues.forEach((client, q) -> {
      synchronized (q) {
        q.counted = counts.getOrDefault(client, 0) + (q.commits - marks.getOrDefault(client, 0L));
      }
    });
  }

  /** A client's queue as admission sees it (guarded by its own monitor). */
  private static final class Queue {
    long counted;
    long pending;
    long commits;
  }

  private static final class Bucket {
    private double tokens = Double.NaN;
    private long refilledAt = System.nanoTime();
    private int burst;
    private long admitted;

    /** Takes one token; returns 0, or the nanoseconds until one is there. */
    synchronized long take(double rate, int burst) {
      long now = System.nanoTime();
      tokens = Double.isNaN(tokens) ? burst : Math.min(burst, tokens + (now - refilledAt) * rate / 1e9);
      refilledAt = now;
      this.burst = burst;
      if (tokens >= 1) {
        tokens -= 1;
        admitted++;
        return 0;
      }
      return (long) Math.ceil((1 - tokens) / rate * 1e9);
    }

    /** Gives back a token taken for a call that turned out not to count. */
    synchronized void refund() {
      if (!Double.isNaN(tokens)) {
        tokens += 1;
        admitted--;
      }
    }

    /** Takes {@code n} tokens that other replicas spent; at most a burst into debt, so waits stay bounded. */
    synchronized void charge(long n) {
      if (!Double.isNaN(tokens)) {
        tokens = Math.max(-burst, tokens - n);
      }
    }

    synchronized long admitted() {
      return admitted;
    }
  }
}
