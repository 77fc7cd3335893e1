package net.aitbc.grid.coordinator.session;

import static java.util.Objects.requireNonNull;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.AttemptRef;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.Offer;

/**
 * One connected worker: what it offers, the credits it granted, the attempts it holds, and its
 * {@link WorkerLink}. A worker never holds more than {@link #maxHeld()} jobs: credits beyond that
 * are dropped. Assignments and revocations of one job are ordered under one lock, so a revocation
 * that comes before its assignment (a cancel racing a fresh claim) still reaches the worker.
 */
public final class WorkerSession {
  private final UUID id;
  private final String workerId;
  private final Principal owner;
  private final Offer offer;
  // Built once: the dispatcher asks for it for every session in every round.
  private final String profile;
  private final int maxHeld;
  private final WorkerLink link;

  private final Object lock = new Object();
  private final Map<UUID, RunningAttempt> running = new ConcurrentHashMap<>();
  /** Revocations of attempts not assigned yet (guarded by lock): job → attempt and when. */
  private final Map<UUID, long[]> revokedEarly = new HashMap<>();
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicInteger credits = new AtomicInteger();
  private final Set<CompletableFuture<?>> outcomesInFlight = ConcurrentHashMap.newKeySet();
  private volatile boolean draining;
  private volatile long lastHeartbeatNanos = System.nanoTime();
  private volatile OffsetDateTime leaseExpiresAt;

  /**
   * A session for a registered worker.
   *
   * @param maxHeld the most jobs it may hold at once (its concurrency plus the allowed prefetch)
   */
  public WorkerSession(UUID id, String workerId, Principal owner, Offer offer, int maxHeld, WorkerLink link,
      OffsetDateTime leaseExpiresAt) {
    this.id = requireNonNull(id, "id");
    this.workerId = requireNonNull(workerId, "workerId");
    this.owner = requireNonNull(owner, "owner");
    this.offer = requireNonNull(offer, "offer");
    this.link = requireNonNull(link, "link");
    this.leaseExpiresAt = requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    this.maxHeld = maxHeld;
    this.profile = offer.profile();
  }

  /** The session id. */
  public UUID id() {
    return id;
  }

  /** The worker's self-chosen id. */
  public String workerId() {
    return workerId;
  }

  /** The worker key's principal. */
  public Principal owner() {
    return owner;
  }

  /** What it offers, for matching. */
  public Offer offer() {
    return offer;
  }

  /** Its offer's {@link Offer#profile()}: sessions with equal profiles can run the same jobs. */
  public String profile() {
    return profile;
  }

  /** The most jobs it may hold at once. */
  public int maxHeld() {
    return maxHeld;
  }

  /**
   * Adds credits the worker granted, unless it is draining, up to what it may hold; returns how many
   * were dropped for going past {@link #maxHeld()}.
   */
  public int grant(int count) {
    if (draining) {
      return 0;
    }
    while (true) {
      int now = credits.get();
      int room = Math.max(0, maxHeld - held.get() - now);
      int add = Math.min(count, room);
      if (credits.compareAndSet(now, now + add)) {
        return count - add;
      }
    }
  }

  /** Takes up to {@code max} credits for a claim; returns how many were taken. */
  public int reserve(int max) {
    while (true) {
      int available = credits.get();
      if (available <= 0 || draining) {
        return 0;
      }
      int take = Math.min(available, max);
      if (credits.compareAndSet(available, available - take)) {
        return take;
      }
    }
  }

  /** Gives back credits a claim did not use. */
  public void unreserve(int count) {
    if (count > 0 && !draining) {
      credits.addAndGet(count);
    }
  }

  /** Credits granted and not yet used. */
  public int credits() {
    return credits.get();
  }

  /** The worker or the coordinator is winding the session down: it gets no more jobs. */
  public void drain() {
    draining = true;
    credits.set(0);
  }

  /** Whether the session is draining. */
  public boolean draining() {
    return draining;
  }

  /** Notes a heartbeat (any message counts). */
  public void touch() {
    lastHeartbeatNanos = System.nanoTime();
  }

  /** Nanoseconds since the last heartbeat. */
  public long silentNanos() {
    return System.nanoTime() - lastHeartbeatNanos;
  }

  /** Records that the lease was extended. */
  public void leaseRenewed(OffsetDateTime until) {
    leaseExpiresAt = until;
  }

  /**
   * Hands claimed jobs to the worker; an attempt revoked before it got here is not sent, and the
   * credit it took is given back. Returns the jobs sent.
   */
  public List<ClaimedJob> assign(List<ClaimedJob> jobs) {
    synchronized (lock) {
      List<ClaimedJob> sent = new ArrayList<>(jobs.size());
      for (ClaimedJob job : jobs) {
        long[] revoked = revokedEarly.get(job.jobId());
        if (revoked != null && revoked[0] >= job.attempt()) {
          revokedEarly.remove(job.jobId());
          continue;
        }
        running.put(job.jobId(), new RunningAttempt(job.attempt(), job.type(), job.createdAt(), job.startedAt(),
            job.deadline()));
        sent.add(job);
      }
      held.addAndGet(sent.size());
      unreserve(jobs.size() - sent.size());
      if (!sent.isEmpty()) {
        link.assign(sent, leaseExpiresAt);
      }
      return sent;
    }
  }

  /**
   * Tells the worker to stop an attempt that was canceled, expired or taken back. If the attempt
   * has not been assigned here yet, its assignment will not be sent.
   */
  public void revoke(UUID jobId, int attempt, String reason) {
    synchronized (lock) {
      RunningAttempt r = running.get(jobId);
      if (r != null && r.attempt() == attempt) {
        running.remove(jobId);
        release(r);
        link.revoke(jobId, attempt, reason);
      } else if (r == null || r.attempt() < attempt) {
        revokedEarly.put(jobId, new long[] {attempt, System.nanoTime()});
      }
    }
  }

  /** Forgets early revocations older than this: their assignment is not coming. */
  public void forgetEarlyRevocations(long olderThanNanos) {
    long now = System.nanoTime();
    synchronized (lock) {
      revokedEarly.values().removeIf(r -> now - r[1] > olderThanNanos);
    }
  }

  /** The attempt of a job this session runs, if it runs it. */
  public Optional<RunningAttempt> running(UUID jobId) {
    return Optional.ofNullable(running.get(jobId));
  }

  /** Whether this session runs this attempt of the job. */
  public boolean holds(UUID jobId, int attempt) {
    RunningAttempt r = running.get(jobId);
    return r != null && r.attempt() == attempt;
  }

  /** The worker reported this attempt's outcome: it no longer holds it, whatever is recorded. */
  public void reported(UUID jobId, int attempt) {
    RunningAttempt r = running.get(jobId);
    if (r != null && r.attempt() == attempt) {
      release(r);
    }
  }

  /** Forgets an attempt whose outcome was recorded (or refused for good). */
  public void finished(UUID jobId, int attempt) {
    RunningAttempt r = running.get(jobId);
    if (r != null && r.attempt() == attempt && running.remove(jobId, r)) {
      release(r);
    }
  }

  private void release(RunningAttempt r) {
    if (r.released.compareAndSet(false, true)) {
      held.decrementAndGet();
    }
  }

  /** How many attempts the session runs. */
  public int runningCount() {
    return running.size();
  }

  /** Attempts still unreported whose deadline is before {@code now}. */
  public List<AttemptRef> overdue(OffsetDateTime now) {
    List<AttemptRef> out = new ArrayList<>();
    running.forEach((jobId, r) -> {
      if (!r.released.get() && r.deadline().isBefore(now)) {
        out.add(new AttemptRef(jobId, r.attempt(), id));
      }
    });
    return out;
  }

  /** Tracks a reported outcome until it is committed and acknowledged. */
  public void track(CompletableFuture<?> outcome) {
    outcomesInFlight.add(outcome);
    outcome.whenComplete((r, e) -> outcomesInFlight.remove(outcome));
  }

  /** Completes once every outcome reported so far is committed and acknowledged. */
  public CompletableFuture<Void> settled() {
    return CompletableFuture.allOf(outcomesInFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null);
  }

  /** Tells the worker to drain (the coordinator is going away). */
  public void askToDrain(String reason) {
    drain();
    link.drain(reason);
  }

  /** Ends the transport from this side. */
  public void end(WorkerLink.Ending why, String detail) {
    link.end(why, detail);
  }

  /** Whether the transport has ended. */
  public boolean closed() {
    return link.ended();
  }

  /**
   * An attempt the session runs.
   *
   * @param attempt its number
   * @param type the job's type
   * @param createdAt when the job was submitted
   * @param startedAt when the attempt was handed out
   * @param deadline when it is revoked if it has not finished
   * @param released set once the worker no longer holds it (reported, revoked or recorded)
   */
  public record RunningAttempt(int attempt, String type, OffsetDateTime createdAt, OffsetDateTime startedAt,
      OffsetDateTime deadline, AtomicBoolean released) {
    RunningAttempt(int attempt, String type, OffsetDateTime createdAt, OffsetDateTime startedAt,
        OffsetDateTime deadline) {
      this(attempt, type, createdAt, startedAt, deadline, new AtomicBoolean());
    }
  }
}
