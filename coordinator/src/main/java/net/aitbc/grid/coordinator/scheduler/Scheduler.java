package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.AttemptRef;
import net.aitbc.grid.coordinator.store.Ended;
import net.aitbc.grid.coordinator.store.JobStore;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.Recorded;
import net.aitbc.grid.coordinator.store.SessionStore;
import net.aitbc.grid.coordinator.store.Submitted;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Drain;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Registered;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job life cycle: submissions and outcomes are group-committed, queued jobs are dispatched to
 * sessions with credits, and a sweeper renews the leases of live sessions, takes jobs back from
 * lost ones and expires jobs whose TTL ran out. Every change is committed before anyone is told.
 */
public final class Scheduler implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Scheduler.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonFormat.Printer CAPABILITIES =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final int SWEEP_LIMIT = 10_000;

  private final CoordinatorConfig config;
  private final JobStore jobs;
  private final SessionStore sessions;
  private final SessionRegistry registry;
  private final JobEvents events;
  private final GridMetrics metrics;
  private final Backoff backoff;
  private final Admission admission;
  private final FairShare fairShare;
  private final GroupCommitter<NewJob, Submitted> submissions;
  private final GroupCommitter<Outcome, Recorded> outcomes;
  private final Dispatcher dispatcher;
  private final ScheduledExecutorService sweeper;
  private final GroupCommitter<UUID, UUID> disconnects;
  private long lastRenewalNanos = System.nanoTime();
  private long lastReconcileNanos = System.nanoTime();
  // Each sweep query runs every sweep interval (counting: every second), or less often when slow.
  private final Paced lostSweep;
  private final Paced expirySweep;
  private final Paced countSweep = new Paced(java.time.Duration.ofSeconds(1));
  private long lastForgetNanos;

  /** Starts the committers, the dispatcher and the sweeper. */
  public Scheduler(CoordinatorConfig config, JobStore jobs, SessionStore sessions, SessionRegistry registry,
      JobEvents events, GridMetrics metrics) {
    this.config = requireNonNull(config, "config");
    this.jobs = requireNonNull(jobs, "jobs");
    this.sessions = requireNonNull(sessions, "sessions");
    this.registry = requireNonNull(registry, "registry");
    this.events = requireNonNull(events, "events");
    this.metrics = requireNonNull(metrics, "metrics");
    this.backoff = new Backoff(config.retryBackoff(), config.maxRetryBackoff());
    this.admission = new Admission(config.defaultRatePerSec(), config.defaultBurst(), config.defaultMaxQueued());
    this.fairShare = new FairShare(jobs.firstQueuedTag().orElse(0.0), jobs::lastQueuedTag);
    this.submissions = new GroupCommitter<>("submit", metrics.timed("submit", jobs::insert), 1000, 100_000, 2, false);
    // A worker has already done the work an outcome reports: keep it until the database takes it.
    this.outcomes = new GroupCommitter<>("outcome",
        metrics.timed("outcome", batch -> jobs.record(batch, backoff::after)), 1000, 100_000, 2, true);
    // Thousands of workers may go at once (a network split): their sessions close in few transactions.
    this.disconnects = new GroupCommitter<>("disconnect", metrics.timed("disconnect", this::takeBack), 1000, 1_000_000,
        1, false);
    this.dispatcher = new Dispatcher(jobs, registry, events, metrics, fairShare, config.sweepInterval());
    this.lostSweep = new Paced(config.sweepInterval());
    this.expirySweep = new Paced(config.sweepInterval());
    this.sweeper = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("grid-sweeper").daemon().factory());
    long every = config.sweepInterval().toMillis();
    sweeper.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
  }

  // ---- clients

  /**
   * Admits a job (or throws {@link Admission.Refused}), gives it its place in fair-share order and
   * stores it; the future completes once it is committed.
   */
  public CompletableFuture<Submitted> submit(Principal principal, NewJob job) {
    admission.admit(principal);
    NewJob tagged = job.withFairTag(fairShare.next(principal.clientId(), principal.limits().weight()));
    // A job with a model list is always queued: only the queue's claim can match a list.
    WorkerSession session = tagged.requirements().models().isEmpty() ? dispatcher.place(tagged) : null;
    NewJob placed = session == null ? tagged
        : tagged.withPlacement(new NewJob.Placement(session.id(), session.workerId()));
    return submissions.submit(placed).handle((s, error) -> {
      if (session != null && (error != null || s.placed() == null)) {
        session.unreserve(1);
      }
      if (error != null) {
        throw error instanceof CompletionException ce ? ce : new CompletionException(error);
      }
      if (!s.existing()) {
        admission.committed(principal.clientId());
        metrics.submitted();
        if (s.placed() != null) {
          // Committed as RUNNING on this session: only now may the worker hear of it.
          session.assign(List.of(s.placed()));
          fairShare.handedOut(s.placed().fairTag());
          metrics.dispatched(java.time.Duration.ZERO);
        } else {
          dispatcher.queued(placed);
        }
      }
      return s;
    });
  }

  /** Whether {@link #submit} for this client reads nothing from the database (it has submitted before). */
  public boolean submitsWithoutReads(String clientId) {
    return fairShare.knows(clientId);
  }

  /** Cancels a client's unfinished job and revokes it from its worker; empty if there was none. */
  public Optional<Ended> cancel(UUID jobId, String clientId) {
    Optional<Ended> ended = jobs.cancel(jobId, clientId, "canceled by client");
    ended.ifPresent(e -> settle(List.of(e), "canceled by client"));
    return ended;
  }

  /** Marks a job expired now if its TTL has run out, so that readers never see a stale state. */
  public void expireIfDue(UUID jobId) {
    jobs.expireIfDue(jobId).ifPresent(e -> settle(List.of(e), "job expired"));
  }

  // ---- workers

  /** Opens a session for a worker that sent Register, and answers Registered. */
  public WorkerSession open(Register register, Principal owner, ServerCallStreamObserver<ConnectResponse> out) {
    UUID id = UUID.randomUUID();
    OffsetDateTime leaseEnd = now().plus(config.leaseDuration());
    String capabilities;
    try {
      capabilities = CAPABILITIES.print(register.getCapabilities());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("capabilities always print", e);
    }
    sessions.open(id, register.getWorkerId(), owner.clientId(), capabilities, leaseEnd);
    WorkerSession session = new WorkerSession(id, register.getWorkerId(), owner, register.getCapabilities(), out,
        leaseEnd);
    registry.add(session);
    session.send(ConnectResponse.newBuilder()
        .setRegistered(Registered.newBuilder()
            .setSessionId(id.toString())
            .setHeartbeatInterval(duration(config.heartbeatInterval()))
            .setLeaseDuration(duration(config.leaseDuration())))
        .build());
    logger.info("[{}] worker {} registered: types={} models={} concurrency={}", id, register.getWorkerId(),
        session.offer().jobTypes(), session.offer().models(), register.getCapabilities().getConcurrency());
    return session;
  }

  /** The worker can take {@code count} more jobs. */
  public void grant(WorkerSession session, int count) {
    session.grant(count);
    dispatcher.wake();
  }

  /** Forwards progress of an attempt the session holds to the job's watchers. */
  public void progress(WorkerSession session, UUID jobId, JobProgress progress) {
    if (session.holds(jobId, progress.getAttempt())) {
      events.progress(jobId, progress);
    }
  }

  /**
   * Records a completion or failure; the future completes after the commit. Completions get the
   * coordinator's queue and run times merged into the worker's metrics.
   */
  public CompletableFuture<Recorded> report(WorkerSession session, Outcome outcome) {
    Outcome stamped = outcome instanceof Outcome.Completed c ? withTimes(session, c) : outcome;
    return outcomes.submit(stamped).thenApply(r -> {
      session.finished(outcome.jobId(), outcome.attempt());
      if (r.accepted()) {
        if (r.state() == JobState.QUEUED) {
          metrics.requeued();
          dispatcher.wake();
        } else if (r.state() != null) {
          metrics.finished(r.state());
        }
        events.changed(outcome.jobId());
      } else {
        metrics.refused();
      }
      return r;
    });
  }

  private Outcome.Completed withTimes(WorkerSession session, Outcome.Completed c) {
    ObjectNode metrics;
    String given = c.metricsJson().strip();
    try {
      metrics = given.isEmpty() || given.equals("{}") ? JSON.createObjectNode() : (ObjectNode) JSON.readTree(given);
    } catch (Exception e) {
      logger.warn("[{}] job {}: ignoring metrics that are not a JSON object", session.id(), c.jobId());
      metrics = JSON.createObjectNode();
    }
    ObjectNode m = metrics;
    session.running(c.jobId()).ifPresent(r -> {
      OffsetDateTime now = now();
      m.put("queue_ms", java.time.Duration.between(r.createdAt(), r.startedAt()).toMillis());
      m.put("run_ms", java.time.Duration.between(r.startedAt(), now).toMillis());
    });
    return new Outcome.Completed(c.jobId(), c.attempt(), c.sessionId(), c.resultJson(), m.toString());
  }

  /** The worker is draining: it gets no more jobs. */
  public void draining(WorkerSession session) {
    session.drain();
    logger.info("[{}] worker {} is draining with {} running", session.id(), session.workerId(),
        session.runningCount());
  }

  /**
   * The session's stream has ended (closed by the worker, lost, or ended here): its jobs go back
   * to the queue at once. Idempotent.
   */
  public void closed(WorkerSession session, String why) {
    session.markClosed();
    if (!registry.remove(session)) {
      return;
    }
    logger.info("[{}] worker {} disconnected ({}), {} jobs to take back", session.id(), session.workerId(), why,
        session.runningCount());
    // Outcomes the worker sent before it went are committed first, so that none is refused.
    session.settled().whenComplete((r, e) -> disconnects.submit(session.id()).whenComplete((id, error) -> {
      if (error != null) {
        // The session's lease runs out by itself; the sweeper takes the jobs back then.
        logger.warn("[{}] could not take jobs back now, the sweeper will: {}", session.id(), error.toString());
      }
    }));
  }

  private List<UUID> takeBack(List<UUID> sessionIds) {
    sessions.close(sessionIds);
    settle(jobs.requeueFrom(sessionIds, backoff::after), "worker disconnected");
    return sessionIds;
  }

  // ---- sweeping

  private void sweep() {
    try {
      checkSessions();
      settle(lostSweep.runIfDue(() -> jobs.requeueLost(backoff::after, SWEEP_LIMIT), List.of()), "lease expired");
      reconcile();
      settle(expirySweep.runIfDue(() -> jobs.expireDue(SWEEP_LIMIT), List.of()), "job expired");
      countQueues();
      forgetOldSessions();
    } catch (RuntimeException e) {
      logger.warn("sweep failed, retrying next time: {}", e.toString());
    }
    // Jobs whose retry backoff has passed become claimable without any other event.
    dispatcher.wake();
  }

  /** Every ten minutes: drops sessions closed more than a day ago, so the table stays small. */
  private void forgetOldSessions() {
    long now = System.nanoTime();
    if (now - lastForgetNanos < 600_000_000_000L) {
      return;
    }
    lastForgetNanos = now;
    sessions.forgetClosed(now().minusDays(1));
  }

  /** Queued jobs per client, for queue caps and the queue depth gauge. */
  private void countQueues() {
    Map<String, Integer> counts = countSweep.runIfDue(jobs::queuedByClient, null);
    if (counts == null) {
      return;
    }
    admission.queueLengths(counts);
    metrics.queueDepth(counts.values().stream().mapToLong(Integer::longValue).sum());
  }

  /** Ends sessions that stopped heartbeating, and extends the leases of the others. */
  private void checkSessions() {
    long leaseNanos = config.leaseDuration().toNanos();
    List<UUID> live = new ArrayList<>();
    for (WorkerSession s : registry.all()) {
      if (s.silentNanos() > leaseNanos) {
        logger.warn("[{}] worker {} sent nothing for {} ms: ending its session", s.id(), s.workerId(),
            s.silentNanos() / 1_000_000);
        s.end(Status.UNAVAILABLE.withDescription("no heartbeat within the lease of " + config.leaseDuration()));
        closed(s, "heartbeat timeout");
      } else {
        live.add(s.id());
      }
    }
    long now = System.nanoTime();
    if (now - lastRenewalNanos >= leaseNanos / 3) {
      OffsetDateTime until = now().plus(config.leaseDuration());
      sessions.renew(live, until);
      for (UUID id : live) {
        registry.find(id).ifPresent(s -> s.leaseRenewed(until));
      }
      lastRenewalNanos = now;
    }
  }

  /**
   * Once per lease, takes back attempts that the database says a live session runs but the
   * session does not know of: an assignment lost after its claim committed (say, an answer the
   * database sent that never arrived) would otherwise stay RUNNING for as long as the worker lives.
   */
  private void reconcile() {
    long now = System.nanoTime();
    if (now - lastReconcileNanos < config.leaseDuration().toNanos()) {
      return;
    }
    lastReconcileNanos = now;
    List<UUID> live = registry.all().stream().map(WorkerSession::id).toList();
    List<AttemptRef> orphans = jobs.runningOn(live, now().minus(config.leaseDuration())).stream()
        .filter(a -> registry.find(a.sessionId()).map(s -> !s.holds(a.jobId(), a.attempt())).orElse(false))
        .toList();
    if (!orphans.isEmpty()) {
      logger.warn("taking back {} attempts their workers never got", orphans.size());
      settle(jobs.requeueOrphans(orphans, backoff::after), "assignment lost");
    }
  }

  /** Tells everyone about jobs whose attempt ended: the worker that ran it, watchers, meters. */
  private void settle(List<Ended> ended, String reason) {
    for (Ended e : ended) {
      registry.find(e.sessionId()).ifPresent(s -> s.revoke(e.jobId(), e.attempt(), reason));
      if (e.state() == JobState.QUEUED) {
        metrics.requeued();
        dispatcher.wake();
      } else {
        metrics.finished(e.state());
      }
      events.changed(e.jobId());
    }
  }

  // ---- shutdown

  /**
   * Sends Drain to every worker and waits until they have finished their running jobs or
   * {@code grace} has passed.
   */
  public void drainWorkers(java.time.Duration grace) {
    for (WorkerSession s : registry.all()) {
      s.drain();
      s.send(ConnectResponse.newBuilder().setDrain(Drain.newBuilder().setReason("coordinator shutting down")).build());
    }
    long deadline = System.nanoTime() + grace.toNanos();
    while (System.nanoTime() < deadline && registry.all().stream().anyMatch(s -> s.runningCount() > 0)) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Stops dispatching and sweeping, commits what is queued, and hands back what workers still hold. */
  @Override
  public void close() {
    dispatcher.close();
    sweeper.shutdownNow();
    submissions.close();
    outcomes.close();
    List<UUID> left = new ArrayList<>();
    for (WorkerSession s : List.copyOf(registry.all())) {
      s.end(Status.UNAVAILABLE.withDescription("coordinator shutting down"));
      s.markClosed();
      if (registry.remove(s)) {
        left.add(s.id());
      }
    }
    try {
      takeBack(left);
    } catch (RuntimeException e) {
      logger.warn("could not take jobs back from {} sessions; their leases will run out: {}", left.size(),
          e.toString());
    }
    disconnects.close();
  }

  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }

  private static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }
}
