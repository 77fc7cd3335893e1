package net.aitbc.grid.coordinator.miner;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.scheduler.GroupCommitter;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.WorkerLink;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.MinerStore;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.Recorded;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.store.StoredJob;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The REST miners of this coordinator. A miner (its owner and id) is registered in the database;
 * while it calls, it has a session that is a scheduler session like a stream worker's, opened at
 * registration (or at its first call after a restart or after its last session went silent) and
 * ended by deregistration or by the sweeper once the miner stays silent past its lease. Changing its
 * capabilities opens a new session; the old one keeps the jobs it holds until they end.
 */
public final class Miners implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Miners.class);
  /** The longest poll, whatever the lease. */
  public static final Duration MAX_POLL_WAIT = Duration.ofSeconds(30);

  private final CoordinatorConfig config;
  private final Scheduler scheduler;
  private final MinerStore store;
  private final BiFunction<String, String, MinerSpec> revive;
  private final Map<MinerState.Key, MinerState> miners = new ConcurrentHashMap<>();
  // Deliveries read the job's requirements: never on the dispatcher thread that assigned them.
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final GroupCommitter<MinerStore.Assignment, MinerStore.Assignment> assignments;

  /**
   * Miners over this scheduler and store; {@code revive} rebuilds a registered miner's spec from its
   * stored capabilities (as matching reads them, and as it described them).
   */
  public Miners(CoordinatorConfig config, Scheduler scheduler, MinerStore store,
      BiFunction<String, String, MinerSpec> revive) {
    this.config = requireNonNull(config, "config");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.store = requireNonNull(store, "store");
    this.revive = requireNonNull(revive, "revive");
    // Who got which job is for `miner jobs` only: written in batches, and nobody waits for it.
    this.assignments = new GroupCommitter<>("miner-jobs", store::assigned, 1000, 100_000, 1, false);
  }

  /**
   * A registration's outcome.
   *
   * @param sessionId the miner's session
   * @param changed false when it was registered with this spec already and kept its session
   */
  public record Registration(UUID sessionId, boolean changed) {}

  /**
   * An outcome as recorded.
   *
   * @param attempt the attempt it was for
   * @param recorded whether it was accepted, and the job's state after it
   */
  public record Reported(int attempt, Recorded recorded) {}

  /**
   * A poll under way.
   *
   * @param answer the job, or empty when none came within the wait
   * @param cancel stops waiting (the caller went away)
   */
  public record Poll(CompletableFuture<Optional<Assigned>> answer, Runnable cancel) {}

  /** The longest a poll waits: below the lease, so that a miner that only polls stays alive. */
  public Duration maxPollWait() {
    Duration belowLease = config.leaseDuration().minus(config.heartbeatInterval());
    return belowLease.compareTo(MAX_POLL_WAIT) < 0 ? belowLease : MAX_POLL_WAIT;
  }

  /**
   * Registers the owner's miner with this spec: a miner registered with the same spec keeps its
   * live session; otherwise a new session opens, and the old one keeps only the jobs it holds.
   */
  public Registration register(Principal owner, String minerId, MinerSpec spec) {
    store.register(owner.clientId(), minerId, spec.capabilitiesJson(), spec.describedJson());
    MinerState m = miners.computeIfAbsent(new MinerState.Key(owner.clientId(), minerId), MinerState::new);
    synchronized (m) {
      if (m.live() && spec.equals(m.spec)) {
        m.current.touch();
        return new Registration(m.current.id(), false);
      }
      MinerSession old = m.live() ? m.current : null;
      m.current = open(m, owner, spec);
      m.spec = spec;
      if (old != null) {
        retire(m, old);
      }
      return new Registration(m.current.id(), true);
    }
  }

  /** Replaces a registered miner's spec, as {@link #register} does; {@link MinerRefused} when it is not registered. */
  public Registration update(Principal owner, String minerId, MinerSpec spec) {
    if (store.find(owner.clientId(), minerId).isEmpty()) {
      throw MinerRefused.notRegistered(minerId);
    }
    return register(owner, minerId, spec);
  }

  /** Renews the miner's lease; returns how many jobs it holds. */
  public int heartbeat(Principal owner, String minerId) {
    MinerState m = live(owner, minerId);
    synchronized (m) {
      int held = 0;
      for (MinerSession s : m.sessions()) {
        s.touch();
        held += s.session().runningCount();
      }
      return held;
    }
  }

  /** Waits up to {@code wait} (at most {@link #maxPollWait()}) for a job for the miner. */
  public Poll poll(Principal owner, String minerId, Duration wait) {
    MinerState m = live(owner, minerId);
    MinerSession s;
    synchronized (m) {
      s = m.current;
    }
    s.touch();
    Duration capped = wait.compareTo(maxPollWait()) > 0 ? maxPollWait() : wait;
    CompletableFuture<Optional<PollLink.Delivery>> waiting = s.link().poll(capped);
    if (!waiting.isDone()) {
      s.creditWaitingPolls();
      try {
        // Claimed here, on the poll's own thread: miners' claims run side by side, not one by one
        // in the dispatcher's round. Whatever comes later wakes the poll through the dispatcher.
        scheduler.claimNow(s.session());
      } catch (RuntimeException e) {
        logger.debug("[miner={}] claim failed, the dispatcher retries: {}", minerId, e.toString());
      }
    }
    CompletableFuture<Optional<Assigned>> answer = waiting.handleAsync((d, e) -> {
      s.touch();
      s.dropUnwantedCredits();
      return d == null || d.isEmpty() ? Optional.<Assigned>empty() : Optional.of(deliver(m.key, d.get()));
    }, executor);
    return new Poll(answer, () -> waiting.complete(Optional.empty()));
  }

  private Assigned deliver(MinerState.Key key, PollLink.Delivery d) {
    assignments.submit(new MinerStore.Assignment(key.ownerId(), key.minerId(), d.job().jobId(), d.job().attempt(),
        OffsetDateTime.now(ZoneOffset.UTC))).whenComplete((r, e) -> {
          if (e != null) {
            logger.warn("[miner={}] could not note job {} for its job list: {}", key.minerId(), d.job().jobId(),
                e.toString());
          }
        });
    Requirements requirements = store.requirements(d.job().jobId()).orElse(Requirements.NONE);
    return new Assigned(d.job(), requirements, d.leaseExpiresAt());
  }

  /**
   * A job whose poll could not answer (its caller went away) goes back to the miner's next poll, if
   * its session still holds it.
   */
  public void putBack(Principal owner, String minerId, Assigned job) {
    MinerState m = miners.get(new MinerState.Key(owner.clientId(), minerId));
    if (m == null) {
      return;
    }
    synchronized (m) {
      for (MinerSession s : m.sessions()) {
        if (s.holds(job.job().jobId()).filter(a -> a == job.job().attempt()).isPresent()) {
          s.link().putBack(new PollLink.Delivery(job.job(), job.leaseExpiresAt()));
        }
      }
    }
  }

  /**
   * Records the outcome {@code outcome} makes of the session and attempt that hold the job (it may
   * refuse with IllegalArgumentException: nothing is reported then), once committed; {@link MinerRefused} unless one of the miner's sessions holds its current attempt
   * ({@code attempt}, or any when 0).
   */
  public CompletableFuture<Reported> report(Principal owner, String minerId, UUID jobId, int attempt,
      boolean completion, BiFunction<WorkerSession, Integer, Outcome> outcome) {
    MinerState m = live(owner, minerId);
    MinerSession holder = null;
    int held = 0;
    List<MinerSession> sessions;
    synchronized (m) {
      sessions = m.sessions();
    }
    for (MinerSession s : sessions) {
      Optional<Integer> a = s.holds(jobId);
      if (a.isPresent()) {
        holder = s;
        held = a.get();
      }
    }
    if (holder == null) {
      MinerStore.JobStatus status = store.status(jobId).orElse(null);
      if (completion && status != null && status.state() == JobState.COMPLETED
          && sessions.stream().anyMatch(s -> s.id().equals(status.sessionId()))
          && (attempt == 0 || attempt == status.attempt())) {
        // This miner's completion, recorded already: a repeated report gets the answer the first one got.
        return CompletableFuture.completedFuture(new Reported(status.attempt(),
            new Recorded(true, JobState.COMPLETED, "")));
      }
      throw notHeld(minerId, jobId, sessions, status);
    }
    if (attempt != 0 && attempt != held) {
      throw MinerRefused.otherAttempt(minerId, jobId, held, attempt);
    }
    MinerSession s = holder;
    s.touch();
    Outcome o = outcome.apply(s.session(), held);
    CompletableFuture<Recorded> recorded = scheduler.report(s.session(), o);
    // Its slot is free as soon as it reported (the session no longer counts the attempt).
    s.creditWaitingPolls();
    int attemptHeld = held;
    return recorded.whenComplete((r, e) -> closeIfRetiredAndIdle(m, s)).thenApply(r -> new Reported(attemptHeld, r));
  }

  private static MinerRefused notHeld(String minerId, UUID jobId, List<MinerSession> sessions,
      MinerStore.@Nullable JobStatus found) {
    String taken = null;
    for (MinerSession s : sessions) {
      String why = s.link().revokedBecause(jobId);
      taken = why != null ? why : taken;
    }
    return MinerRefused.notHeld(minerId, jobId, taken, found);
  }

  /**
   * Ends the miner's sessions (their jobs go back to the queue) and its registration; returns how
   * many jobs they held. {@link MinerRefused} when it was not registered.
   */
  public int deregister(Principal owner, String minerId) {
    boolean registered = store.deregister(owner.clientId(), minerId);
    MinerState m = miners.get(new MinerState.Key(owner.clientId(), minerId));
    int returned = 0;
    boolean hadSession = false;
    if (m != null) {
      synchronized (m) {
        m.generation++;
        for (MinerSession s : m.sessions()) {
          hadSession |= !s.closed();
          returned += s.session().runningCount();
          close(s, "miner deregistered");
        }
        m.current = null;
        m.spec = null;
        m.retiring.clear();
      }
    }
    if (!registered && !hadSession) {
      throw MinerRefused.notRegistered(minerId);
    }
    logger.info("[miner={}] deregistered by {}; {} jobs go back to the queue", minerId, owner.clientId(), returned);
    return returned;
  }

  /** A page of the jobs handed to the owner's miner, most recent first. */
  public List<StoredJob> jobs(Principal owner, String minerId, Collection<JobState> states, String type,
      BigDecimal minReward, int offset, int limit) {
    return store.jobs(owner.clientId(), minerId, states, type, minReward, offset, limit);
  }

  /** The miner with a live session: reopened from its registration if it has none here. */
  private MinerState live(Principal owner, String minerId) {
    MinerState.Key key = new MinerState.Key(owner.clientId(), minerId);
    MinerState m = miners.get(key);
    long generation = 0;
    if (m != null) {
      synchronized (m) {
        if (m.live()) {
          return m;
        }
        generation = m.generation;
      }
    }
    MinerStore.StoredMiner stored = store.find(owner.clientId(), minerId).orElseThrow(() -> MinerRefused.notRegistered(minerId));
    MinerSpec spec = revive.apply(stored.capabilitiesJson(), stored.describedJson());
    m = miners.computeIfAbsent(key, MinerState::new);
    synchronized (m) {
      if (m.generation != generation && m.current == null) {
        throw MinerRefused.notRegistered(minerId);
      }
      if (!m.live()) {
        m.current = open(m, owner, spec);
        m.spec = spec;
        logger.info("[miner={}] registered earlier: opened a new session {}", minerId, m.current.id());
      }
      return m;
    }
  }

  private MinerSession open(MinerState m, Principal owner, MinerSpec spec) {
    PollLink link = new PollLink();
    var session = scheduler.open(m.key.minerId(), owner, spec.offer(), spec.concurrency(), 0, spec.capabilitiesJson(),
        null, link);
    MinerSession s = new MinerSession(session, link, scheduler);
    link.listen(new PollLink.Listener() {
      @Override
      public void revoked() {
        s.creditWaitingPolls();
      }

      @Override
      public void ended() {
        synchronized (m) {
          if (m.current == s) {
            m.current = null;
          }
          m.retiring.remove(s);
        }
      }

      @Override
      public void drained() {
        // The coordinator is going away and takes no more calls: a miner could not report what it
        // holds, so its jobs go back to the queue now rather than at the end of the grace period.
        close(s, "coordinator shutting down");
      }
    });
    return s;
  }

  /** An old session takes no more jobs, and ends once it holds none. */
  private void retire(MinerState m, MinerSession old) {
    scheduler.draining(old.session());
    old.link().stopPolls();
    if (old.session().runningCount() == 0) {
      close(old, "capabilities changed");
    } else {
      m.retiring.add(old);
    }
  }

  private void closeIfRetiredAndIdle(MinerState m, MinerSession s) {
    synchronized (m) {
      if (m.retiring.contains(s) && s.session().runningCount() == 0) {
        m.retiring.remove(s);
        close(s, "capabilities changed");
      }
    }
  }

  private void close(MinerSession s, String why) {
    s.session().end(WorkerLink.Ending.DONE, why);
    scheduler.closed(s.session(), why);
  }

  /** Stops writing job lists (sessions end with the scheduler). */
  @Override
  public void close() {
    assignments.close();
    executor.shutdownNow();
  }
}
