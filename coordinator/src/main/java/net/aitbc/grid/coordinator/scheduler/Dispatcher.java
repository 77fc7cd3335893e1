package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.ClaimStore;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Offer;
import org.jspecify.annotations.Nullable;
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
  /** Sessions of a profile tried for a free credit before a job is queued instead. */
  private static final int PLACE_TRIES = 64;

  private final ClaimStore claims;
  private final SessionRegistry registry;
  private final JobEvents events;
  private final GridMetrics metrics;
  private final FairShare fairShare;
  private final Peers peers;
  private final long tickNanos;
  private final AtomicBoolean wanted = new AtomicBoolean(true);
  // Profiles whose last claim found no more work: a job submitted while one is idle can go straight
  // to one of its sessions with a free credit, skipping the queue (and one write).
  private final Set<String> idleProfiles = ConcurrentHashMap.newKeySet();
  private final Thread thread;
  private volatile boolean running = true;
  // Until then, a profile whose claim came back short is still asked for each of its sessions: a job
  // kept from the worker it overran on is dry for that worker only.
  private volatile long everySessionUntilNanos = System.nanoTime();
  // Workers that queued jobs are pinned to (swarm member jobs): asked even when their profile is dry,
  // since the job is theirs alone. Read from the database once per tick (any coordinator may have
  // queued them), and added to as this one queues them.
  private final Set<String> pinned = ConcurrentHashMap.newKeySet();
  private long pinnedReadNanos = System.nanoTime() - 1;

  Dispatcher(ClaimStore claims, SessionRegistry registry, JobEvents events, GridMetrics metrics, FairShare fairShare,
      Peers peers, Duration tick) {
    this.claims = requireNonNull(claims, "claims");
    this.registry = requireNonNull(registry, "registry");
    this.events = requireNonNull(events, "events");
    this.metrics = requireNonNull(metrics, "metrics");
    this.fairShare = requireNonNull(fairShare, "fairShare");
    this.peers = requireNonNull(peers, "peers");
    this.tickNanos = tick.toNanos();
    this.thread = Thread.ofPlatform().name("grid-dispatcher").daemon().start(this::run);
  }

  /** For {@code time} from now, asks every session even when another of its profile found nothing. */
  void askEverySession(Duration time) {
    everySessionUntilNanos = System.nanoTime() + time.toNanos();
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
    boolean skipDry = System.nanoTime() - everySessionUntilNanos > 0;
    if (System.nanoTime() - pinnedReadNanos >= 0) {
      pinnedReadNanos = System.nanoTime() + tickNanos;
      Set<String> now = claims.pinnedWorkers();
      pinned.retainAll(now);
      pinned.addAll(now);
    }
    for (WorkerSession s : registry.all()) {
      if (!running || (skipDry && dry.contains(s.profile()) && !pinned.contains(s.workerId())) || s.closed()) {
        continue;
      }
      int got = claimFor(s);
      if (got < 0) {
        continue;
      }
      if (idleProfiles.contains(s.profile())) {
        dry.add(s.profile());
      }
      assigned |= got > 0;
    }
    return assigned;
  }

  /**
   * Claims queued jobs for one session, as many as its credits, and hands them to it; returns how
   * many it got, or -1 when it had no credit. A claim that comes back short marks its profile idle.
   * Safe from any thread (a REST miner's poll claims on its own thread, beside the rounds).
   */
  int claimFor(WorkerSession s) {
    int wanted = s.reserve(MAX_CLAIM);
    if (wanted == 0) {
      return -1;
    }
    List<ClaimedJob> claimed;
    try {
      claimed = claims.claim(s.offer(), wanted, s.id(), s.workerId());
    } catch (RuntimeException e) {
      s.unreserve(wanted);
      throw e;
    }
    if (claimed.size() < wanted) {
      s.unreserve(wanted - claimed.size());
      idleProfiles.add(s.profile());
    } else {
      idleProfiles.remove(s.profile());
    }
    // If the stream closed meanwhile, the session's jobs are taken back with it.
    s.assign(claimed);
    for (ClaimedJob job : claimed) {
      fairShare.handedOut(new FairShare.Lane(job.type(), job.priority()), job.fairTag());
      metrics.dispatched(Duration.between(job.createdAt(), job.startedAt()));
      events.changed(job.jobId());
    }
    return claimed.size();
  }

  /**
   * A session that can run this job now, with one of its credits reserved for it; null when the
   * job must queue (no idle worker that can run it, or jobs are already waiting for those workers).
   */
  @Nullable WorkerSession place(NewJob job) {
    for (String profile : idleProfiles) {
      Collection<WorkerSession> sessions = registry.withProfile(profile);
      Iterator<WorkerSession> it = sessions.iterator();
      if (!it.hasNext()) {
        continue;
      }
      Offer offer = it.next().offer();
      if (!offer.runs(job.type(), job.model()) || !job.requirements().satisfiedBy(offer)) {
        continue;
      }
      int tries = 0;
      for (WorkerSession s : sessions) {
        if (!s.closed() && s.reserve(1) == 1) {
          return s;
        }
        if (++tries == PLACE_TRIES) {
          break;
        }
      }
    }
    return null;
  }

  /**
   * The session of the worker a job is pinned to, with one of its credits reserved for it, when that
   * worker is connected here, idle and can run it; null when the job must queue.
   */
  @Nullable WorkerSession placePinned(NewJob job) {
    WorkerSession s = job.pin() == null ? null : registry.ofWorker(job.pin().workerId()).orElse(null);
    if (s == null || s.closed() || !idleProfiles.contains(s.profile()) || !s.offer().runs(job.type(), job.model())
        || !job.requirements().satisfiedBy(s.offer())) {
      return null;
    }
    return s.reserve(1) == 1 ? s : null;
  }

  /**
   * Another replica queued jobs: every profile may have work again (which, the message does not
   * say; a profile with none finds out with one claim).
   */
  void queuedElsewhere() {
    idleProfiles.clear();
    wake();
  }

  /**
   * A job was queued: the idle workers that could run it are idle no more, and must claim it; so
   * must those connected to other replicas.
   */
  void queued(NewJob job) {
    peers.queued();
    if (job.pin() != null) {
      pinned.add(job.pin().workerId());
    }
    for (String profile : idleProfiles) {
      Iterator<WorkerSession> it = registry.withProfile(profile).iterator();
      if (!it.hasNext()) {
        idleProfiles.remove(profile);
        continue;
      }
      Offer offer = it.next().offer();
      if (offer.runs(job.type(), job.model()) && job.requirements().satisfiedBy(offer)) {
        idleProfiles.remove(profile);
      }
    }
    wake();
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
