package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands queued jobs to sessions that have credits. One thread; it runs a round whenever woken (a
 * job was committed, a worker granted credits) and at least once per tick (so that jobs whose
 * retry backoff has passed are picked up). Each claim commits before its assignments are sent.
 */
final class Dispatcher implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Dispatcher.class);
  /** The most jobs one claim hands to one session. */
  private static final int MAX_CLAIM = 1000;

  private final JobStore jobs;
  private final SessionRegistry registry;
  private final JobEvents events;
  private final GridMetrics metrics;
  private final FairShare fairShare;
  private final long tickNanos;
  private final AtomicBoolean wanted = new AtomicBoolean(true);
  private final Thread thread;
  private volatile boolean running = true;

  Dispatcher(JobStore jobs, SessionRegistry registry, JobEvents events, GridMetrics metrics, FairShare fairShare,
      Duration tick) {
    this.jobs = requireNonNull(jobs, "jobs");
    this.registry = requireNonNull(registry, "registry");
    this.events = requireNonNull(events, "events");
    this.metrics = requireNonNull(metrics, "metrics");
    this.fairShare = requireNonNull(fairShare, "fairShare");
    this.tickNanos = tick.toNanos();
    this.thread = Thread.ofPlatform().name("grid-dispatcher").daemon().start(this::run);
  }

  /** Asks for a round soon. Cheap; call it whenever work or capacity appears. */
  void wake() {
    if (!wanted.getAndSet(true)) {
      LockSupport.unpark(thread);
    }
  }

  private void run() {
    while (running) {
      wanted.set(false);
      boolean more;
      try {
        more = round();
      } catch (RuntimeException e) {
        logger.warn("dispatch failed, retrying in a tick: {}", e.toString());
        more = false;
      }
      if (!more && !wanted.get()) {
        LockSupport.parkNanos(this, tickNanos);
      }
    }
  }

  /** One pass over the sessions with credits; true when some session got jobs (there may be more). */
  private boolean round() {
    boolean assigned = false;
    // A profile that found no work this round is not asked again until the next round.
    Set<String> dry = new HashSet<>();
    for (WorkerSession s : registry.all()) {
      if (!running || dry.contains(s.offer().profile()) || s.closed()) {
        continue;
      }
      int wanted = s.reserve(MAX_CLAIM);
      if (wanted == 0) {
        continue;
      }
      List<ClaimedJob> claimed;
      try {
        claimed = jobs.claim(s.offer(), wanted, s.id(), s.workerId());
      } catch (RuntimeException e) {
        s.unreserve(wanted);
        throw e;
      }
      if (claimed.size() < wanted) {
        s.unreserve(wanted - claimed.size());
        dry.add(s.offer().profile());
      }
      // If the stream closed meanwhile, the session's lease has ended and the sweeper takes the
      // jobs back.
      s.assign(claimed);
      for (ClaimedJob job : claimed) {
        fairShare.handedOut(job.fairTag());
        metrics.dispatched(Duration.between(job.createdAt(), job.startedAt()));
        events.changed(job.jobId());
      }
      assigned |= !claimed.isEmpty();
    }
    return assigned;
  }

  @Override
  public void close() {
    running = false;
    LockSupport.unpark(thread);
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
