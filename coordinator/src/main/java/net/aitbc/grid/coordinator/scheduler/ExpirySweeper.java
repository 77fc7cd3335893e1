package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.session.WorkerLink;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.AttemptRef;
import net.aitbc.grid.coordinator.store.Ended;
import net.aitbc.grid.coordinator.store.JobStore;
import net.aitbc.grid.coordinator.store.Stores;
import net.aitbc.grid.coordinator.store.TakeBackStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sweeper of everything that runs out: worker leases (sessions that stopped heartbeating are
 * ended; the leases of live ones are renewed in the database; jobs of sessions whose lease ran out
 * go back to the queue), attempts past their run timeout (revoked and retried elsewhere), job TTLs
 * (expired), and assignments that never reached their worker (taken back once per lease). It also
 * recounts queues for admission and the queue depth gauge. One thread, every sweep interval; each
 * database query is paced by its own cost.
 */
final class ExpirySweeper implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ExpirySweeper.class);
  private static final int SWEEP_LIMIT = 10_000;
  private static final long FORGET_EVERY_NANOS = 600_000_000_000L;

  private final CoordinatorConfig config;
  private final Stores stores;
  private final SessionRegistry registry;
  private final Admission admission;
  private final GridMetrics metrics;
  private final Backoff backoff;
  private final Endings endings;
  private final BiConsumer<WorkerSession, String> closeSession;
  private final Dispatcher dispatcher;
  private final ScheduledExecutorService thread;
  private final Paced lostSweep;
  private final Paced expirySweep;
  private final Paced countSweep = new Paced(java.time.Duration.ofSeconds(1));
  // The size bound sums the whole cache: every ten sweeps is soon enough for a bound on bytes.
  private final Paced cacheSweep;
  private long lastRenewalNanos = System.nanoTime();
  private long lastReconcileNanos = System.nanoTime();
  private long lastForgetNanos;

  /**
   * Starts sweeping.
   *
   * @param closeSession ends a session whose worker went silent, taking its jobs back
   * @param dispatcher asked for rounds (jobs whose backoff passed became claimable)
   */
  ExpirySweeper(CoordinatorConfig config, Stores stores, SessionRegistry registry, Admission admission,
      GridMetrics metrics, Backoff backoff, Endings endings, BiConsumer<WorkerSession, String> closeSession,
      Dispatcher dispatcher) {
    this.config = requireNonNull(config, "config");
    this.stores = requireNonNull(stores, "stores");
    this.registry = requireNonNull(registry, "registry");
    this.admission = requireNonNull(admission, "admission");
    this.metrics = requireNonNull(metrics, "metrics");
    this.backoff = requireNonNull(backoff, "backoff");
    this.endings = requireNonNull(endings, "endings");
    this.closeSession = requireNonNull(closeSession, "closeSession");
    this.dispatcher = requireNonNull(dispatcher, "dispatcher");
    this.lostSweep = new Paced(config.sweepInterval());
    this.expirySweep = new Paced(config.sweepInterval());
    this.cacheSweep = new Paced(config.sweepInterval().multipliedBy(10));
    this.thread = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("grid-sweeper").daemon().factory());
    long every = config.sweepInterval().toMillis();
    thread.scheduleWithFixedDelay(this::sweep, every, every, TimeUnit.MILLISECONDS);
  }

  private void sweep() {
    try {
      checkSessions();
      List<Ended> lost = lostSweep.runIfDue(() -> stores.takeBacks().requeueLost(backoff::after, SWEEP_LIMIT),
          List.of());
      metrics.leaseExpired(lost.size());
      endings.settle(lost, "lease expired");
      takeBackOverruns();
      reconcile();
      endings.settle(expirySweep.runIfDue(() -> stores.takeBacks().expireDue(SWEEP_LIMIT), List.of()), "job expired");
      countQueues();
      cacheSweep.runIfDue(stores.resultCache()::sweep, 0);
      forgetOld();
    } catch (RuntimeException e) {
      logger.warn("sweep failed, retrying next time: {}", e.toString());
    }
    dispatcher.wake();
  }

  /** Ends sessions that stopped heartbeating, and extends the leases of the others. */
  private void checkSessions() {
    long leaseNanos = config.leaseDuration().toNanos();
    List<UUID> live = new ArrayList<>();
    for (WorkerSession s : registry.all()) {
      if (s.silentNanos() > leaseNanos) {
        logger.warn("[{}] worker {} sent nothing for {} ms: ending its session", s.id(), s.workerId(),
            s.silentNanos() / 1_000_000);
        s.end(WorkerLink.Ending.SILENT, "no heartbeat within the lease of " + config.leaseDuration());
        closeSession.accept(s, "heartbeat timeout");
      } else {
        live.add(s.id());
      }
    }
    long now = System.nanoTime();
    if (now - lastRenewalNanos >= leaseNanos / 3) {
      OffsetDateTime until = now().plus(config.leaseDuration());
      stores.sessions().renew(live, config.leaseDuration());
      for (UUID id : live) {
        registry.find(id).ifPresent(s -> s.leaseRenewed(until));
      }
      lastRenewalNanos = now;
    }
  }

  /**
   * Revokes attempts past their run timeout and queues them again, kept from the same worker for a
   * lease so that another worker gets the retry first: a worker that heartbeats but never finishes
   * cannot sit on a job until its TTL.
   */
  private void takeBackOverruns() {
    OffsetDateTime now = now();
    List<AttemptRef> overdue = new ArrayList<>();
    for (WorkerSession s : registry.all()) {
      overdue.addAll(s.overdue(now));
    }
    if (overdue.isEmpty()) {
      return;
    }
    List<Ended> ended = stores.takeBacks().takeBack(overdue, TakeBackStore.Why.OVERRAN, config.leaseDuration(),
        backoff::after);
    if (!ended.isEmpty()) {
      logger.warn("{} attempts ran past their timeout: revoked and queued again", ended.size());
      // Until the worker they overran on may have them again (a backoff and a lease from now).
      dispatcher.askEverySession(config.maxRetryBackoff().plus(config.leaseDuration()));
      metrics.timedOut(ended.size());
      endings.settle(ended, "ran past its timeout");
    }
  }

  /**
   * Once per lease, takes back attempts that the database says a live session runs but the session
   * does not know of: an assignment lost after its claim committed (an answer the database sent
   * that never arrived, an outcome that could not be recorded) would otherwise stay RUNNING for as
   * long as the worker lives.
   */
  private void reconcile() {
    long now = System.nanoTime();
    if (now - lastReconcileNanos < config.leaseDuration().toNanos()) {
      return;
    }
    lastReconcileNanos = now;
    List<UUID> live = registry.all().stream().map(WorkerSession::id).toList();
    List<AttemptRef> orphans = stores.takeBacks().runningOn(live, now().minus(config.leaseDuration())).stream()
        .filter(a -> registry.find(a.sessionId()).map(s -> !s.holds(a.jobId(), a.attempt())).orElse(false))
        .toList();
    if (!orphans.isEmpty()) {
      logger.warn("taking back {} attempts their workers never got", orphans.size());
      endings.settle(stores.takeBacks().takeBack(orphans, TakeBackStore.Why.NEVER_ARRIVED, null, backoff::after),
          "assignment lost");
    }
  }

  /** Queued jobs per client (for queue caps) and per type (for the queue depth gauge). */
  private void countQueues() {
    Map<String, Long> marks = admission.commitMarks();
    JobStore.QueueCounts counts = countSweep.runIfDue(stores.jobs()::queueCounts, null);
    if (counts != null) {
      admission.queueLengths(counts.byClient(), marks);
      metrics.queueDepth(counts.byType());
    }
  }

  /** Every ten minutes: drops sessions closed more than a day ago, so the table stays small. */
  private void forgetOld() {
    long now = System.nanoTime();
    if (now - lastForgetNanos < FORGET_EVERY_NANOS) {
      return;
    }
    lastForgetNanos = now;
    stores.sessions().forgetClosed(java.time.Duration.ofDays(1));
    for (WorkerSession s : registry.all()) {
      s.forgetEarlyRevocations(config.leaseDuration().toNanos());
    }
  }

  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
