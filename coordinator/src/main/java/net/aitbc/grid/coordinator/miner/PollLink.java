package net.aitbc.grid.coordinator.miner;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.session.WorkerLink;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import org.jspecify.annotations.Nullable;

/**
 * A REST miner's session as a {@link WorkerLink}: an assignment goes to the oldest waiting poll at
 * once, or waits in a mailbox for the next one. A waiting poll holds no thread: it is a future that an
 * assignment, the end of its wait, or the end of the session completes. Never blocks; every call
 * comes from the dispatcher, committers or the sweeper.
 */
final class PollLink implements WorkerLink {
  /** Reasons remembered for attempts taken back, to tell a miner why its outcome is refused. */
  private static final int REMEMBERED = 256;

  /**
   * A job assigned to the miner.
   *
   * @param job the claimed job
   * @param leaseExpiresAt the session's lease when it was assigned
   */
  record Delivery(ClaimedJob job, OffsetDateTime leaseExpiresAt) {}

  /** What the session's owner hears. */
  interface Listener {
    /** An attempt was taken from the miner: it has a free slot. */
    void revoked();

    /** The session is over (ended here, by the sweeper, or at shutdown). */
    void ended();

    /** The coordinator asked the worker to drain (it is shutting down). */
    void drained();
  }

  private final ArrayDeque<Delivery> mailbox = new ArrayDeque<>();
  private final ArrayDeque<CompletableFuture<Optional<Delivery>>> waiters = new ArrayDeque<>();
  private final Map<UUID, String> revoked = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<UUID, String> eldest) {
      return size() > REMEMBERED;
    }
  };
  private volatile Listener listener = new Listener() {
    @Override
    public void revoked() {}

    @Override
    public void ended() {}

    @Override
    public void drained() {}
  };
  private boolean ended;
  private boolean draining;

  /** Who hears of revocations and the end; set once the session is open. */
  void listen(Listener l) {
    listener = l;
  }

  @Override
  public void assign(List<ClaimedJob> jobs, OffsetDateTime leaseExpiresAt) {
    synchronized (this) {
      if (ended) {
        return;
      }
      for (ClaimedJob job : jobs) {
        hand(new Delivery(job, leaseExpiresAt), false);
      }
    }
  }

  /** To the oldest poll still waiting, else into the mailbox (at its front when it came back). */
  private void hand(Delivery d, boolean front) {
    CompletableFuture<Optional<Delivery>> w;
    while ((w = waiters.poll()) != null) {
      // A poll whose wait just ran out completes no more: the next one gets it.
      if (w.complete(Optional.of(d))) {
        return;
      }
    }
    if (front) {
      mailbox.addFirst(d);
    } else {
      mailbox.add(d);
    }
  }

  /**
   * The next job for a poll: at once from the mailbox, else whatever comes within {@code wait}
   * (empty when nothing does, or the session drains or ends).
   */
  CompletableFuture<Optional<Delivery>> poll(Duration wait) {
    CompletableFuture<Optional<Delivery>> w;
    synchronized (this) {
      Delivery d = mailbox.poll();
      if (d != null) {
        return CompletableFuture.completedFuture(Optional.of(d));
      }
      if (ended || draining || wait.isZero() || wait.isNegative()) {
        return CompletableFuture.completedFuture(Optional.empty());
      }
      w = new CompletableFuture<>();
      waiters.add(w);
    }
    w.completeOnTimeout(Optional.empty(), wait.toNanos(), TimeUnit.NANOSECONDS);
    w.whenComplete((d, e) -> forget(w));
    return w;
  }

  private synchronized void forget(CompletableFuture<Optional<Delivery>> w) {
    waiters.remove(w);
  }

  /** A delivery whose poll could not take it (its caller went away): the next poll gets it first. */
  synchronized void putBack(Delivery d) {
    if (!ended) {
      hand(d, true);
    }
  }

  /** Polls waiting now. */
  synchronized int waiting() {
    return waiters.size();
  }

  /** Why the coordinator took this job from the miner, if it did recently. */
  synchronized @Nullable String revokedBecause(UUID jobId) {
    return revoked.get(jobId);
  }

  @Override
  public void revoke(UUID jobId, int attempt, String reason) {
    synchronized (this) {
      mailbox.removeIf(d -> d.job().jobId().equals(jobId) && d.job().attempt() == attempt);
      revoked.put(jobId, reason);
    }
    listener.revoked();
  }

  @Override
  public void drain(String reason) {
    stopPolls();
    listener.drained();
  }

  /** Polls get no more jobs: those waiting answer now, later ones at once. */
  void stopPolls() {
    List<CompletableFuture<Optional<Delivery>>> woken;
    synchronized (this) {
      draining = true;
      woken = List.copyOf(waiters);
    }
    woken.forEach(w -> w.complete(Optional.empty()));
  }

  @Override
  public void end(Ending why, String detail) {
    List<CompletableFuture<Optional<Delivery>>> woken;
    synchronized (this) {
      if (ended) {
        return;
      }
      ended = true;
      mailbox.clear();
      woken = List.copyOf(waiters);
    }
    woken.forEach(w -> w.complete(Optional.empty()));
    listener.ended();
  }

  @Override
  public synchronized boolean ended() {
    return ended;
  }
}
