package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntConsumer;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.session.WorkerLink;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.ClusterStore;
import net.aitbc.grid.coordinator.store.EngineStore;
import net.aitbc.grid.coordinator.store.Ended;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Offer;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.PaymentStore;
import net.aitbc.grid.coordinator.store.Recorded;
import net.aitbc.grid.coordinator.store.Stores;
import net.aitbc.grid.coordinator.store.Submitted;
import net.aitbc.grid.coordinator.store.SwarmEngineStore;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job life cycle: submissions and outcomes are group-committed, queued jobs are dispatched to
 * sessions with credits, and the {@link ExpirySweeper} takes back what runs out. Every change is
 * committed before anyone is told. Knows nothing of any transport: workers are reached through
 * their {@link WorkerLink}.
 */
public final class Scheduler implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Scheduler.class);

  private final CoordinatorConfig config;
  private final Stores stores;
  private final SessionRegistry registry;
  private final JobEvents events;
  private final GridMetrics metrics;
  private final Backoff backoff;
  private final Admission admission;
  private final FairShare fairShare;
  private final Endings endings;
  private final GroupCommitter<NewJob, Submitted> submissions;
  private final OutcomeReports outcomes;
  private final GroupCommitter<UUID, UUID> disconnects;
  private final Dispatcher dispatcher;
  private final ExpirySweeper sweeper;
  // Reads a submission may need (a new lane's tags, an idempotent retry's job) run here, never on
  // the transport thread that a known client's submission runs on.
  private final ExecutorService reads = Executors.newVirtualThreadPerTaskExecutor();

  /**
   * Starts the committers, the dispatcher and the sweeper; {@code completionsCommitted} hears how
   * many completions each outcome commit recorded (the ledger's sealer counts them); jobs submitted
   * with a payment pay through {@code payments} as they are stored; other replicas on the database
   * hear through {@code peers} of what concerns them.
   */
  public Scheduler(CoordinatorConfig config, Stores stores, SessionRegistry registry, JobEvents events,
      GridMetrics metrics, IntConsumer completionsCommitted, PaymentStore payments, Peers peers) {
    requireNonNull(payments, "payments");
    this.config = requireNonNull(config, "config");
    this.stores = requireNonNull(stores, "stores");
    this.registry = requireNonNull(registry, "registry");
    this.events = requireNonNull(events, "events");
    this.metrics = requireNonNull(metrics, "metrics");
    this.backoff = new Backoff(config.retryBackoff(), config.maxRetryBackoff());
    this.admission = new Admission(config.defaultRatePerSec(), config.defaultBurst(), config.defaultMaxQueued());
    this.fairShare = new FairShare((client, lane) -> stores.jobs().lastQueuedTag(client, lane.type(), lane.priority()),
        lane -> stores.jobs().firstQueuedTag(lane.type(), lane.priority()));
    this.submissions = new GroupCommitter<>("submit", metrics.timed("submit",
        batch -> stores.jobs().insert(batch, payments)), 1000, 100_000, 2,
        false);
    // Thousands of workers may go at once (a network split): their sessions close in few transactions.
    this.disconnects = new GroupCommitter<>("disconnect", metrics.timed("disconnect", this::takeBack), 1000, 1_000_000,
        1, false);
    this.dispatcher = new Dispatcher(stores.claims(), registry, events, metrics, fairShare, peers,
        config.sweepInterval());
    this.endings = new Endings(registry, events, metrics, dispatcher::wake, peers);
    this.outcomes = new OutcomeReports(stores, metrics, backoff, endings, reads, completionsCommitted);
    this.sweeper = new ExpirySweeper(config, stores, registry, admission, metrics, backoff, endings, this::closed,
        dispatcher);
  }

  // ---- clients

  /**
   * Admits a job (or fails with {@link Admission.Refused}), gives it its place in fair-share order
   * and stores it; the future completes once it is committed. A retry of a stored job (same
   * request id) returns that job even at the client's limits, and takes nothing from them.
   */
  public CompletableFuture<Submitted> submit(Principal principal, NewJob job) {
    Admission.Ticket ticket;
    try {
      ticket = admission.admit(principal);
    } catch (Admission.Refused refused) {
      return refusedUnlessStored(principal, job, refused);
    }
    FairShare.Lane lane = new FairShare.Lane(job.type(), job.priority());
    double weight = principal.limits().weight();
    if (fairShare.knows(principal.clientId(), lane)) {
      return store(job, ticket, lane, fairShare.next(principal.clientId(), lane, weight), weight);
    }
    return CompletableFuture.supplyAsync(() -> fairShare.next(principal.clientId(), lane, weight), reads)
        .whenComplete((tag, error) -> {
          if (error != null) {
            ticket.release();
          }
        })
        .thenCompose(tag -> store(job, ticket, lane, tag, weight));
  }

  private CompletableFuture<Submitted> refusedUnlessStored(Principal principal, NewJob job, Admission.Refused refused) {
    if (job.requestId() == null) {
      metrics.admissionRefused(refused.limit().tag());
      return CompletableFuture.failedFuture(refused);
    }
    return CompletableFuture.supplyAsync(() -> stores.jobs().findByRequest(principal.clientId(), job.requestId()),
        reads).thenApply(found -> {
          if (found.isEmpty()) {
            metrics.admissionRefused(refused.limit().tag());
            throw refused;
          }
          return new Submitted(found.get(), true, null);
        });
  }

  private CompletableFuture<Submitted> store(NewJob job, Admission.Ticket ticket, FairShare.Lane lane,
      FairShare.Tag tag, double weight) {
    Reservation r = new Reservation(job, ticket, lane, tag, weight, dispatcher, fairShare, metrics);
    return submissions.submit(r.job()).handle((s, error) -> {
      if (error != null) {
        r.abandoned();
        throw error instanceof CompletionException ce ? ce : new CompletionException(error);
      }
      return r.settle(s);
    });
  }

  /**
   * Admits a job, gives it its place in fair-share order and, when a session has a free credit,
   * places it there, for the caller to insert in a transaction of its own (a workflow step's job, in
   * the transaction that records the step before it); the caller then reports the insert's outcome,
   * once, to the reservation. Unlike {@link #submit}, a job with a payment is not taken, and
   * nothing is read from the database (the caller holds a connection already): empty when its
   * place in fair-share order would have to be read there ({@link #submit} it then).
   *
   * @throws Admission.Refused when the client's limits refuse it now
   */
  public Optional<Reservation> reserve(Principal principal, NewJob job) {
    if (job.payment() != null) {
      throw new IllegalArgumentException("a job with a payment is submitted, not reserved");
    }
    FairShare.Lane lane = new FairShare.Lane(job.type(), job.priority());
    if (!fairShare.knows(principal.clientId(), lane)) {
      return Optional.empty();
    }
    Admission.Ticket ticket;
    try {
      ticket = admission.admit(principal);
    } catch (Admission.Refused refused) {
      metrics.admissionRefused(refused.limit().tag());
      throw refused;
    }
    double weight = principal.limits().weight();
    try {
      return Optional.of(new Reservation(job, ticket, lane, fairShare.next(principal.clientId(), lane, weight), weight,
          dispatcher, fairShare, metrics));
    } catch (RuntimeException e) {
      ticket.release();
      throw e;
    }
  }

  /**
   * Has the transaction that records outcomes also decide for the workflow executions whose step
   * jobs it completed, with {@code decide} (set once, as the coordinator is wired: the engine comes
   * after the scheduler).
   */
  public void followStepJobsWith(EngineStore.Decide decide) {
    outcomes.followStepJobsWith(decide);
  }

  /**
   * Has the transaction that records outcomes also decide for the swarm tasks whose member jobs it
   * completed, with {@code within} (set once, as the coordinator is wired).
   */
  public void followMemberJobsWith(SwarmEngineStore.Within within) {
    outcomes.followMemberJobsWith(within);
  }

  /** Takes a token for a call other than a submission, or throws {@link Admission.Refused}. */
  public void admitCall(Principal principal) {
    try {
      admission.admitCall(principal);
    } catch (Admission.Refused refused) {
      metrics.admissionRefused(refused.limit().tag());
      throw refused;
    }
  }

  /**
   * Cancels a client's unfinished job and revokes it from its worker, telling both {@code reason};
   * empty if there was none.
   */
  public Optional<Ended> cancel(UUID jobId, String clientId, String reason) {
    Optional<Ended> ended = stores.takeBacks().cancel(jobId, clientId, reason);
    ended.ifPresent(e -> endings.settle(List.of(e), reason));
    return ended;
  }

  /** Marks a job expired now if its TTL has run out, so that readers never see a stale state. */
  public void expireIfDue(UUID jobId) {
    stores.takeBacks().expireIfDue(jobId).ifPresent(e -> endings.settle(List.of(e), "job expired"));
  }

  // ---- workers

  /**
   * Opens a session for a worker that registered; its transport then answers with the session id,
   * {@link CoordinatorConfig#heartbeatInterval()}, the lease and {@link WorkerSession#maxHeld()}.
   *
   * @param concurrency the jobs it runs at once (it may hold the coordinator's max prefetch more)
   * @param capabilitiesJson what it advertised, kept with the session for operators
   * @param publicKey its Ed25519 public key, pinned to its worker id at the first registration
   * @throws WorkerKeyMismatch when another key is pinned to the worker id
   */
  public WorkerSession open(String workerId, Principal owner, Offer offer, int concurrency, String capabilitiesJson,
      byte @Nullable [] publicKey, WorkerLink link) {
    return open(workerId, owner, offer, concurrency, config.maxPrefetch(), capabilitiesJson, publicKey, link);
  }

  /**
   * Opens a session as {@link #open(String, Principal, Offer, int, String, byte[], WorkerLink)} does, whose
   * worker may hold {@code prefetch} jobs beyond its concurrency (a REST miner: none, as it takes one job
   * per poll).
   */
  public WorkerSession open(String workerId, Principal owner, Offer offer, int concurrency, int prefetch,
      String capabilitiesJson, byte @Nullable [] publicKey, WorkerLink link) {
    if (publicKey != null) {
      Optional<byte[]> pinned = stores.workerKeys().pin(workerId, owner.clientId(), publicKey);
      if (pinned.isPresent()) {
        throw new WorkerKeyMismatch(workerId, pinned.get(), publicKey);
      }
    }
    UUID id = UUID.randomUUID();
    OffsetDateTime leaseEnd = now().plus(config.leaseDuration());
    stores.sessions().open(id, workerId, owner.clientId(), capabilitiesJson, config.leaseDuration());
    int maxHeld = Math.max(1, concurrency) + prefetch;
    WorkerSession session = new WorkerSession(id, workerId, owner, offer, maxHeld, link, leaseEnd);
    registry.add(session);
    logger.info("[{}] worker {} registered: types={} models={} concurrency={} holds at most {}", id, workerId,
        offer.jobTypes(), offer.models(), concurrency, maxHeld);
    return session;
  }

  /** The worker can take {@code count} more jobs (beyond what it may hold, they are dropped). */
  public void grant(WorkerSession session, int count) {
    int dropped = session.grant(count);
    if (dropped > 0) {
      logger.debug("[{}] dropped {} credits past the {} jobs worker {} may hold", session.id(), dropped,
          session.maxHeld(), session.workerId());
    }
    dispatcher.wake();
  }

  /**
   * Claims for the session now, on the caller's thread, what its credits allow, rather than waiting
   * for the dispatcher's next round: a REST miner's poll, whose claims then run side by side with
   * other miners' instead of one after another. Returns how many jobs it got.
   */
  public int claimNow(WorkerSession session) {
    return Math.max(0, dispatcher.claimFor(session));
  }

  /** Forwards progress of an attempt the session holds to the job's watchers. */
  public void progress(WorkerSession session, Progress progress) {
    if (session.holds(progress.jobId(), progress.attempt())) {
      events.progress(progress.jobId(), progress);
    }
  }

  /**
   * Records a completion or failure; the future completes after the commit. Completions get the
   * coordinator's queue and run times merged into the worker's metrics. An outcome the database
   * keeps refusing is answered not accepted, and its attempt goes back to the queue.
   */
  public CompletableFuture<Recorded> report(WorkerSession session, Outcome outcome) {
    return outcomes.report(session, outcome);
  }

  /** The worker is draining: it gets no more jobs. */
  public void draining(WorkerSession session) {
    session.drain();
    logger.info("[{}] worker {} is draining with {} running", session.id(), session.workerId(),
        session.runningCount());
  }

  /**
   * The session's transport has ended (closed by the worker, lost, or ended here): its jobs go back
   * to the queue at once, after the outcomes it sent are committed. Idempotent.
   */
  public void closed(WorkerSession session, String why) {
    if (!registry.remove(session)) {
      return;
    }
    logger.info("[{}] worker {} disconnected ({}), {} jobs to take back", session.id(), session.workerId(), why,
        session.runningCount());
    session.settled().whenComplete((r, e) -> disconnects.submit(session.id()).whenComplete((id, error) -> {
      if (error != null) {
        // The session's lease runs out by itself; the sweeper takes the jobs back then.
        logger.warn("[{}] could not take jobs back now, the sweeper will: {}", session.id(), error.toString());
      }
    }));
  }

  private List<UUID> takeBack(List<UUID> sessionIds) {
    stores.sessions().close(sessionIds);
    endings.settle(stores.takeBacks().requeueFrom(sessionIds, backoff::after), "worker disconnected");
    return sessionIds;
  }

  // ---- other replicas

  /** Another replica queued jobs: dispatch here may find some for workers connected here. */
  public void queuedElsewhere() {
    dispatcher.queuedElsewhere();
  }

  /**
   * How many other replicas are alive. With any, fair-share clocks are read again from the queued
   * jobs' tags at the next submission of each client (jobs submitted elsewhere moved them), so a
   * client's share overshoots by at most what it submitted elsewhere in one heartbeat.
   */
  public void othersAlive(int others) {
    if (others > 0) {
      fairShare.forget();
    }
  }

  /** How many calls this replica has admitted so far, per key and kind (cumulative). */
  public Map<ClusterStore.Usage, Long> admitted() {
    return admission.admitted();
  }

  /** Takes from this replica's token buckets what other replicas admitted since the last charge. */
  public void chargeAdmittedElsewhere(Map<ClusterStore.Usage, Long> calls) {
    admission.charge(calls);
  }

  // ---- shutdown

  /**
   * Asks every worker to drain and waits until they have finished their running jobs or
   * {@code grace} has passed.
   */
  public void drainWorkers(java.time.Duration grace) {
    for (WorkerSession s : registry.all()) {
      s.askToDrain("coordinator shutting down");
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
    sweeper.close();
    submissions.close();
    outcomes.close();
    List<UUID> left = new ArrayList<>();
    for (WorkerSession s : List.copyOf(registry.all())) {
      s.end(WorkerLink.Ending.SHUTDOWN, "coordinator shutting down");
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
    reads.shutdownNow();
  }

  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }
}
