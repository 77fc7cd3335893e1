package net.aitbc.grid.worker.session;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Credit;
import net.aitbc.grid.v1.Draining;
import net.aitbc.grid.v1.Heartbeat;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Registered;
import net.aitbc.grid.v1.Revocation;
import net.aitbc.grid.worker.backend.BackendRouter;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol of one {@code Connect} stream, from Register to its end: registration and its
 * timeout, credits, heartbeats, revocations, drains and outcome acks, all written through one
 * {@link Outbound}. Running the assigned jobs is the {@link JobRunner}'s part. Jobs belong to their
 * stream: when it ends they are aborted, since the coordinator refuses a lost session's outcomes
 * and requeues its jobs.
 *
 * <p>Credits: the worker grants as many as it may hold ({@link HoldLimit}) once registered, uses
 * one per assignment, and grants one back per job that leaves (reported or revoked), so credits
 * granted and not used plus jobs held never exceed that limit. An assignment beyond the credits
 * granted is refused, not held.
 */
final class StreamSession implements ClientResponseObserver<ConnectRequest, ConnectResponse> {

  /** What the owning {@link CoordinatorSession} hears about the stream. */
  interface Listener {
    /** The coordinator answered Registered. */
    void registered(StreamSession stream);

    /** The stream is over, with the call's status (OK when the coordinator completed it). */
    void ended(StreamSession stream, Status status);
  }

  private static final Logger logger = LoggerFactory.getLogger(StreamSession.class);
  private static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);

  private final String workerId;
  private final Register register;
  private final HoldLimit holdLimit;
  private final ScheduledExecutorService scheduler;
  private final Listener listener;
  private final Outbound out = new Outbound();
  private final JobRunner runner;
  // Granted on this stream and not yet used by an assignment.
  private final AtomicInteger credits = new AtomicInteger();
  private final AtomicBoolean endedOnce = new AtomicBoolean();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private volatile @Nullable String sessionId;
  private volatile boolean draining;
  private @Nullable ScheduledFuture<?> heartbeat;
  private @Nullable ScheduledFuture<?> registerTimeout;

  StreamSession(
      Register register,
      HoldLimit holdLimit,
      BackendRouter router,
      ExecutorService jobExecutor,
      ScheduledExecutorService scheduler,
      Listener listener,
      ObjectMapper mapper,
      OutcomeSigner signer) {
    this.workerId = register.getWorkerId();
    this.register = register;
    this.holdLimit = holdLimit;
    this.scheduler = scheduler;
    this.listener = listener;
    this.runner =
        new JobRunner(
            workerId,
            holdLimit.concurrency(),
            router,
            jobExecutor,
            scheduler,
            mapper,
            signer,
            new JobRunner.Reports() {
              @Override
              public void send(ConnectRequest message) {
                out.send(message);
              }

              @Override
              public void released(RunningJob.State how) {
                onReleased(how);
              }
            });
  }

  // ---- called by CoordinatorSession ----

  /**
   * Sends Register and gives the coordinator {@code timeout} to answer before the stream is
   * dropped.
   */
  void start(Duration timeout) {
    out.send(ConnectRequest.newBuilder().setRegister(register).build());
    synchronized (this) {
      registerTimeout =
          schedule(
              () -> {
                if (sessionId == null) {
                  logger.warn(
                      "[worker={}] no Registered within {} s; reconnecting",
                      workerId,
                      timeout.toSeconds());
                  out.cancel("no Registered in time");
                }
              },
              timeout);
    }
  }

  @Nullable String sessionId() {
    return sessionId;
  }

  boolean isRegistered() {
    return sessionId != null && !ended.isDone();
  }

  int runningJobs() {
    return runner.running();
  }

  /** Takes no more work and tells the coordinator (the worker is shutting down). */
  void startDraining(String reason) {
    draining = true;
    credits.set(0);
    out.send(
        ConnectRequest.newBuilder().setDraining(Draining.newBuilder().setReason(reason)).build());
  }

  /** Waits until every running job has stopped; false on timeout. */
  boolean awaitJobs(Duration timeout) throws InterruptedException {
    return runner.awaitAll(timeout);
  }

  /** Stops what still runs and reports each as a retryable failure; returns how many. */
  int handBack(String error) {
    return runner.handBack(error);
  }

  /** Half-closes once everything queued is written; the coordinator then ends the call. */
  void halfClose() {
    out.halfCloseWhenFlushed();
  }

  /** Cancels the call at once. */
  void cancel(String reason) {
    out.cancel(reason);
  }

  /** Aborts every running job (no reports). */
  void abortJobs() {
    runner.abortAll();
  }

  /** Completes when the call has ended. */
  CompletableFuture<Void> ended() {
    return ended;
  }

  // ---- gRPC callbacks ----

  @Override
  public void beforeStart(ClientCallStreamObserver<ConnectRequest> requestStream) {
    out.attach(requestStream);
  }

  @Override
  public void onNext(ConnectResponse response) {
    try {
      switch (response.getMessageCase()) {
        case REGISTERED -> onRegistered(response.getRegistered());
        case ASSIGNMENT -> onAssignment(response.getAssignment());
        case REVOCATION -> onRevocation(response.getRevocation());
        case DRAIN -> onDrain(response.getDrain().getReason());
        case OUTCOME_ACK -> onOutcomeAck(response.getOutcomeAck());
        case MESSAGE_NOT_SET -> logger.debug("[worker={}] ignoring an empty message", workerId);
      }
    } catch (RuntimeException e) {
      // A bug here must not take the stream, and with it every running job, down.
      logger.error("[worker={}] failed to handle {}", workerId, response.getMessageCase(), e);
    }
  }

  @Override
  public void onError(Throwable t) {
    end(Status.fromThrowable(t));
  }

  @Override
  public void onCompleted() {
    end(Status.OK);
  }

  // ---- inbound messages ----

  private void onRegistered(Registered registered) {
    if (sessionId != null) {
      logger.warn("[worker={} session={}] ignoring a second Registered", workerId, sessionId);
      return;
    }
    sessionId = registered.getSessionId();
    Duration interval = toJava(registered.getHeartbeatInterval());
    if (!interval.isPositive()) {
      interval = DEFAULT_HEARTBEAT;
    }
    int limit = holdLimit.apply(registered.getMaxHeld());
    // Before any credit is granted, so before any job can complete.
    runner.signOutcomes(registered.getSignOutcomes());
    logger.info(
        "[worker={} session={}] registered; heartbeat every {} ms, leases last {} ms, holding at"
            + " most {} job(s){}",
        workerId,
        sessionId,
        interval.toMillis(),
        toJava(registered.getLeaseDuration()).toMillis(),
        limit,
        registered.getSignOutcomes() ? ", signing outcomes" : "");
    listener.registered(this);
    if (!draining) {
      grant(limit);
    }
    synchronized (this) {
      cancel(registerTimeout);
      registerTimeout = null;
      if (!ended.isDone()) {
        heartbeat = scheduleAtFixedRate(this::sendHeartbeat, interval);
      }
    }
  }

  private void onAssignment(Assignment assignment) {
    if (draining) {
      // Its credit is void: hand it straight back for another worker.
      runner.refuse(assignment, "worker is draining");
      return;
    }
    if (!useCredit()) {
      // Holding it would exceed what the worker said it can hold; another worker can run it now.
      logger.warn(
          "[worker={} session={} job={} attempt={}] assigned without a credit",
          workerId,
          sessionId,
          assignment.getJobId(),
          assignment.getAttempt());
      runner.refuse(assignment, "assigned beyond the credits the worker granted");
      return;
    }
    if (!runner.start(assignment)) {
      // A duplicate: the coordinator holds the attempt once, so the credit it used comes back.
      grant(1);
    }
  }

  private void onRevocation(Revocation revocation) {
    runner.revoke(revocation.getJobId(), revocation.getAttempt(), revocation.getReason());
  }

  private void onDrain(String reason) {
    draining = true;
    credits.set(0);
    logger.info(
        "[worker={} session={}] coordinator is draining ({}): finishing {} running job(s), taking"
            + " no more",
        workerId,
        sessionId,
        reason,
        runner.running());
  }

  private void onOutcomeAck(OutcomeAck ack) {
    if (ack.getAccepted()) {
      logger.debug(
          "[worker={} job={} attempt={}] outcome accepted",
          workerId,
          ack.getJobId(),
          ack.getAttempt());
    } else {
      logger.warn(
          "[worker={} job={} attempt={}] outcome refused: {}",
          workerId,
          ack.getJobId(),
          ack.getAttempt(),
          ack.getReason());
    }
  }

  private void end(Status status) {
    if (!endedOnce.compareAndSet(false, true)) {
      return;
    }
    out.close();
    synchronized (this) {
      cancel(heartbeat);
      cancel(registerTimeout);
    }
    runner.abortAll();
    listener.ended(this, status);
    ended.complete(null);
  }

  // ---- credits ----

  /** A job left the runner (on its thread). */
  private void onReleased(RunningJob.State how) {
    // One credit back per job that reported or was revoked, unless no more work is wanted; an
    // aborted job's stream is gone, and a handed-back one's worker is stopping.
    if ((how == RunningJob.State.REPORTED || how == RunningJob.State.REVOKED) && !draining) {
      grant(1);
    }
  }

  private boolean useCredit() {
    return credits.getAndUpdate(c -> c > 0 ? c - 1 : c) > 0;
  }

  private void grant(int count) {
    // Counted before it is sent, so an assignment that uses it always finds it.
    credits.addAndGet(count);
    out.send(ConnectRequest.newBuilder().setCredit(Credit.newBuilder().setCount(count)).build());
  }

  // ---- outbound messages ----

  private void sendHeartbeat() {
    out.send(
        ConnectRequest.newBuilder()
            .setHeartbeat(Heartbeat.newBuilder().setRunning(runner.running()))
            .build());
  }

  // ---- helpers ----

  private @Nullable ScheduledFuture<?> schedule(Runnable task, Duration delay) {
    try {
      return scheduler.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return null; // shutting down
    }
  }

  private @Nullable ScheduledFuture<?> scheduleAtFixedRate(Runnable task, Duration period) {
    try {
      return scheduler.scheduleAtFixedRate(
          task, period.toNanos(), period.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      return null; // shutting down
    }
  }

  private static void cancel(@Nullable ScheduledFuture<?> future) {
    if (future != null) {
      future.cancel(false);
    }
  }

  private static Duration toJava(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }
}
