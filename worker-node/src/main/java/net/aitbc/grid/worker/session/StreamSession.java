package net.aitbc.grid.worker.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Credit;
import net.aitbc.grid.v1.Draining;
import net.aitbc.grid.v1.Heartbeat;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Registered;
import net.aitbc.grid.v1.Revocation;
import net.aitbc.grid.worker.backend.BackendException;
import net.aitbc.grid.worker.backend.BackendRouter;
import net.aitbc.grid.worker.backend.JobOutcome;
import net.aitbc.grid.worker.backend.JobRun;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code Connect} stream, from Register to its end: credits, heartbeats, and the jobs assigned
 * on it. Jobs belong to their stream: when it ends they are aborted, since the coordinator refuses
 * a lost session's outcomes and requeues its jobs.
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
  private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  // The coordinator refuses messages over 16 MiB, and one refused message would kill the whole
  // stream (and every
  // job on it); an oversized result is reported as a failure instead.
  private static final int MAX_MESSAGE_BYTES = CoordinatorSession.MAX_MESSAGE_BYTES - 1024;

  private final String workerId;
  private final int concurrency;
  private final int prefetch;
  // With prefetch, more jobs are assigned than may run: each waits here for a slot.
  private final Semaphore slots;
  private final Register register;
  private final BackendRouter router;
  private final ExecutorService jobExecutor;
  private final ScheduledExecutorService scheduler;
  private final Listener listener;
  private final ObjectMapper mapper;
  private final Outbound out = new Outbound();
  private final Map<RunningJob.Key, RunningJob> jobs = new ConcurrentHashMap<>();
  private final AtomicBoolean endedOnce = new AtomicBoolean();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private volatile @Nullable String sessionId;
  private volatile boolean draining;
  private @Nullable ScheduledFuture<?> heartbeat;
  private @Nullable ScheduledFuture<?> registerTimeout;

  StreamSession(
      Register register,
      int concurrency,
      int prefetch,
      BackendRouter router,
      ExecutorService jobExecutor,
      ScheduledExecutorService scheduler,
      Listener listener,
      ObjectMapper mapper) {
    this.workerId = register.getWorkerId();
    this.register = register;
    this.concurrency = concurrency;
    this.prefetch = prefetch;
    this.slots = new Semaphore(concurrency);
    this.router = router;
    this.jobExecutor = jobExecutor;
    this.scheduler = scheduler;
    this.listener = listener;
    this.mapper = mapper;
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
    return jobs.size();
  }

  /** Takes no more work and tells the coordinator (the worker is shutting down). */
  void startDraining(String reason) {
    draining = true;
    out.send(
        ConnectRequest.newBuilder().setDraining(Draining.newBuilder().setReason(reason)).build());
  }

  /** Waits until every running job has stopped; false on timeout. */
  boolean awaitJobs(Duration timeout) throws InterruptedException {
    CompletableFuture<?>[] all =
        jobs.values().stream().map(RunningJob::done).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(all).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("job futures never fail", e);
    }
  }

  /** Stops what still runs and reports each as a retryable failure; returns how many. */
  int handBack(String error) {
    int count = 0;
    for (RunningJob job : jobs.values()) {
      if (job.end(RunningJob.State.HANDED_BACK)) {
        sendFailed(job.key(), error, true, durationMetrics(job));
        count++;
      }
    }
    return count;
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
    for (RunningJob job : jobs.values()) {
      if (job.end(RunningJob.State.ABORTED)) {
        logger.info(
            "[worker={} job={} attempt={}] aborted: stream lost",
            workerId,
            job.key().jobId(),
            job.key().attempt());
      }
    }
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
    logger.info(
        "[worker={} session={}] registered; heartbeat every {} ms, leases last {} ms",
        workerId,
        sessionId,
        interval.toMillis(),
        toJava(registered.getLeaseDuration()).toMillis());
    listener.registered(this);
    if (!draining) {
      sendCredit(concurrency + prefetch);
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
    RunningJob.Key key = new RunningJob.Key(assignment.getJobId(), assignment.getAttempt());
    if (draining) {
      // Its credit is void: hand it straight back for another worker.
      logger.info(
          "[worker={} job={} attempt={}] refused: draining", workerId, key.jobId(), key.attempt());
      sendFailed(key, "worker is draining", true, mapper.createObjectNode().put("duration_ms", 0));
      return;
    }
    ProgressCoalescer progress =
        new ProgressCoalescer(
            text ->
                out.send(
                    ConnectRequest.newBuilder()
                        .setProgress(
                            JobProgress.newBuilder()
                                .setJobId(key.jobId())
                                .setAttempt(key.attempt())
                                .setPercent(-1)
                                .setOutput(text))
                        .build()),
            scheduler,
            PROGRESS_INTERVAL_NANOS);
    RunningJob job = new RunningJob(key, assignment, progress);
    if (jobs.putIfAbsent(key, job) != null) {
      logger.warn(
          "[worker={} job={} attempt={}] ignoring a duplicate assignment",
          workerId,
          key.jobId(),
          key.attempt());
      return;
    }
    logger.debug(
        "[worker={} job={} attempt={}] assigned: type={} model={}",
        workerId,
        key.jobId(),
        key.attempt(),
        assignment.getType(),
        assignment.getModel());
    try {
      jobExecutor.execute(() -> run(job));
    } catch (RejectedExecutionException e) {
      jobs.remove(key);
      sendFailed(key, "worker shutting down", true, durationMetrics(job));
    }
  }

  private void onRevocation(Revocation revocation) {
    RunningJob job = jobs.get(new RunningJob.Key(revocation.getJobId(), revocation.getAttempt()));
    if (job == null) {
      logger.debug(
          "[worker={} job={} attempt={}] revocation of an attempt not running here",
          workerId,
          revocation.getJobId(),
          revocation.getAttempt());
      return;
    }
    if (job.end(RunningJob.State.REVOKED)) {
      logger.info(
          "[worker={} job={} attempt={}] revoked: {}",
          workerId,
          revocation.getJobId(),
          revocation.getAttempt(),
          revocation.getReason());
    }
  }

  private void onDrain(String reason) {
    draining = true;
    logger.info(
        "[worker={} session={}] coordinator is draining ({}): finishing {} running job(s), taking"
            + " no more",
        workerId,
        sessionId,
        reason,
        jobs.size());
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
    abortJobs();
    listener.ended(this, status);
    ended.complete(null);
  }

  // ---- job runs (on their own virtual threads) ----

  private void run(RunningJob job) {
    RunningJob.Key key = job.key();
    Assignment assignment = job.assignment();
    JobOutcome outcome = null;
    BackendException failure = null;
    boolean slot = false;
    try {
      slots.acquire();
      slot = true;
    } catch (InterruptedException e) {
      // Only a shutdown interrupts a job that has not started; its end is reported as for any other.
      Thread.currentThread().interrupt();
      job.end(RunningJob.State.ABORTED);
    }
    if (job.attach(Thread.currentThread())) {
      try {
        ObjectNode payload = parsePayload(assignment.getPayloadJson());
        String model =
            assignment.getModel().isBlank()
                ? (payload.path("model").isTextual() ? payload.path("model").asText() : null)
                : assignment.getModel();
        outcome =
            router.run(
                new JobRun(
                    key.jobId(),
                    assignment.getType(),
                    model,
                    payload,
                    job.progress(),
                    job.cancellation()));
      } catch (BackendException e) {
        failure = e;
      } catch (RuntimeException e) {
        logger.error(
            "[worker={} job={} attempt={}] backend bug", workerId, key.jobId(), key.attempt(), e);
        failure = new BackendException("internal worker error: " + e, true, e);
      } finally {
        job.detach();
      }
      if (job.end(RunningJob.State.REPORTED)) {
        job.progress().flushAndClose();
        report(job, outcome, failure);
      }
    }
    if (slot) {
      slots.release();
    }
    jobs.remove(key, job);
    RunningJob.State state = job.state();
    // One credit back per assignment, unless the stream is gone or no more work is wanted.
    if ((state == RunningJob.State.REPORTED || state == RunningJob.State.REVOKED) && !draining) {
      sendCredit(1);
    }
    job.stopped();
  }

  private void report(
      RunningJob job, @Nullable JobOutcome outcome, @Nullable BackendException failure) {
    RunningJob.Key key = job.key();
    if (outcome != null) {
      ConnectRequest completed =
          ConnectRequest.newBuilder()
              .setCompleted(
                  JobCompleted.newBuilder()
                      .setJobId(key.jobId())
                      .setAttempt(key.attempt())
                      .setResultJson(json(outcome.result()))
                      .setMetricsJson(json(outcome.metrics())))
              .build();
      if (completed.getSerializedSize() <= MAX_MESSAGE_BYTES) {
        logger.debug(
            "[worker={} job={} attempt={}] completed in {} ms",
            workerId,
            key.jobId(),
            key.attempt(),
            job.elapsedMillis());
        out.send(completed);
        return;
      }
      failure =
          BackendException.invalid(
              "result too large: "
                  + completed.getSerializedSize()
                  + " bytes, the stream carries at most "
                  + MAX_MESSAGE_BYTES);
    }
    String error =
        failure == null || failure.getMessage() == null ? "unknown failure" : failure.getMessage();
    boolean retryable = failure != null && failure.retryable();
    logger.info(
        "[worker={} job={} attempt={}] failed ({}): {}",
        workerId,
        key.jobId(),
        key.attempt(),
        retryable ? "retryable" : "permanent",
        error);
    sendFailed(key, error, retryable, durationMetrics(job));
  }

  private ObjectNode parsePayload(String payloadJson) throws BackendException {
    if (payloadJson.isBlank()) {
      return mapper.createObjectNode();
    }
    try {
      JsonNode node = mapper.readTree(payloadJson);
      if (node instanceof ObjectNode object) {
        return object;
      }
      throw BackendException.invalid(
          "payload_json must be a JSON object, not " + node.getNodeType());
    } catch (JsonProcessingException e) {
      throw BackendException.invalid("payload_json is not valid JSON: " + e.getOriginalMessage());
    }
  }

  // ---- outbound messages ----

  private void sendCredit(int count) {
    out.send(ConnectRequest.newBuilder().setCredit(Credit.newBuilder().setCount(count)).build());
  }

  private void sendHeartbeat() {
    out.send(
        ConnectRequest.newBuilder()
            .setHeartbeat(Heartbeat.newBuilder().setRunning(jobs.size()))
            .build());
  }

  private void sendFailed(RunningJob.Key key, String error, boolean retryable, ObjectNode metrics) {
    out.send(
        ConnectRequest.newBuilder()
            .setFailed(
                JobFailed.newBuilder()
                    .setJobId(key.jobId())
                    .setAttempt(key.attempt())
                    .setError(error)
                    .setRetryable(retryable)
                    .setMetricsJson(json(metrics)))
            .build());
  }

  private ObjectNode durationMetrics(RunningJob job) {
    return mapper.createObjectNode().put("duration_ms", job.elapsedMillis());
  }

  private String json(ObjectNode node) {
    try {
      return mapper.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree always serializes", e);
    }
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
