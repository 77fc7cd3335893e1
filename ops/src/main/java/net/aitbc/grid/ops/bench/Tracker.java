package net.aitbc.grid.ops.bench;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * What the bench workers of one phase saw: assignments and acknowledged outcomes with their
 * times (System.nanoTime of this JVM). An OutcomeAck is sent only after the outcome is committed,
 * so an accepted ack is the "completion committed" moment of the peers' benchmark.
 */
final class Tracker {
  private final boolean keepTimes;
  private final AtomicInteger assigned = new AtomicInteger();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicInteger revoked = new AtomicInteger();
  private final AtomicLong firstAssigned = new AtomicLong(Long.MAX_VALUE);
  private final AtomicLong lastAccepted = new AtomicLong(Long.MIN_VALUE);
  private final Map<String, Long> assignedAt = new ConcurrentHashMap<>();
  private final Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
  private final Map<String, String> refusals = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> reached = new CompletableFuture<>();
  private volatile int expected = Integer.MAX_VALUE;

  /** A tracker; with {@code keepTimes} it remembers each job's times (for latency), else only counts. */
  Tracker(boolean keepTimes) {
    this.keepTimes = keepTimes;
  }

  /** How many accepted outcomes end the phase; may be set after some have arrived. */
  void expect(int count) {
    expected = count;
    check();
  }

  /** A worker received an assignment. */
  void assigned(String jobId, long nanos) {
    assigned.incrementAndGet();
    firstAssigned.accumulateAndGet(nanos, Math::min);
    if (keepTimes) {
      assignedAt.put(jobId, nanos);
    }
  }

  /** A worker received an OutcomeAck. */
  void acknowledged(String jobId, boolean ok, String reason, long nanos) {
    if (!ok) {
      refused.incrementAndGet();
      refusals.putIfAbsent(reason, jobId);
      return;
    }
    lastAccepted.accumulateAndGet(nanos, Math::max);
    if (keepTimes) {
      acceptedAt.put(jobId, nanos);
    }
    accepted.incrementAndGet();
    check();
  }

  /** A worker was told to stop a job (canceled or expired); never expected for noop jobs. */
  void revoked() {
    revoked.incrementAndGet();
  }

  private void check() {
    if (accepted.get() >= expected) {
      reached.complete(null);
    }
  }

  /** Waits until the expected count is reached or the deadline (System.nanoTime) passes; true if reached. */
  boolean await(long deadlineNanos) {
    try {
      reached.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("never completed exceptionally", e);
    }
  }

  /** Assignments received. */
  int assigned() {
    return assigned.get();
  }

  /** Accepted outcomes. */
  int accepted() {
    return accepted.get();
  }

  /** Refused outcomes. */
  int refused() {
    return refused.get();
  }

  /** Revocations received. */
  int revokedCount() {
    return revoked.get();
  }

  /** Refusal reasons with one job id each. */
  Map<String, String> refusals() {
    return Map.copyOf(refusals);
  }

  /** The first assignment's time, or Long.MAX_VALUE. */
  long firstAssigned() {
    return firstAssigned.get();
  }

  /** The last accepted ack's time, or Long.MIN_VALUE. */
  long lastAccepted() {
    return lastAccepted.get();
  }

  /** When the job was assigned, or null (only with keepTimes). */
  @Nullable Long assignedAt(String jobId) {
    return assignedAt.get(jobId);
  }

  /** When the job's outcome was acknowledged as accepted, or null (only with keepTimes). */
  @Nullable Long acceptedAt(String jobId) {
    return acceptedAt.get(jobId);
  }
}
