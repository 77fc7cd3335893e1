package net.aitbc.grid.worker.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.worker.backend.BackendException;
import net.aitbc.grid.worker.backend.BackendRouter;
import net.aitbc.grid.worker.backend.JobOutcome;
import net.aitbc.grid.worker.backend.JobRun;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the jobs assigned on one stream: each waits for one of {@code concurrency} slots, runs on
 * the backend its Assignment names, has its streamed output coalesced into progress, and ends in at
 * most one report (completed or failed; nothing when revoked or aborted). When the coordinator
 * asks for it, each completion carries the worker's signature ({@link Completions}), made while
 * the job's thread waits, so that the completion still goes out before the job's credit comes back. It knows nothing of
 * credits or of the stream's state: it hands its messages to {@link Reports} and says when a job
 * has left.
 */
final class JobRunner {

  /** Where the runner's messages and job ends go; the stream implements it. */
  interface Reports {
    /** Sends a progress, completion or failure message. */
    void send(ConnectRequest message);

    /** A job's thread has stopped and the job holds nothing here; {@code how} it ended. */
    void released(RunningJob.State how);
  }

  private static final Logger logger = LoggerFactory.getLogger(JobRunner.class);
  private static final long PROGRESS_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final String workerId;
  // With prefetch, more jobs are assigned than may run: each waits here for a slot.
  private final Semaphore slots;
  private final BackendRouter router;
  private final ExecutorService jobExecutor;
  private final ScheduledExecutorService scheduler;
  private final ObjectMapper mapper;
  private final Reports reports;
  private final Completions completions;
  private final Map<RunningJob.Key, RunningJob> jobs = new ConcurrentHashMap<>();

  JobRunner(
      String workerId,
      int concurrency,
      BackendRouter router,
      ExecutorService jobExecutor,
      ScheduledExecutorService scheduler,
      ObjectMapper mapper,
      OutcomeSigner signer,
      Reports reports) {
    this.workerId = workerId;
    this.slots = new Semaphore(concurrency);
    this.router = router;
    this.jobExecutor = jobExecutor;
    this.scheduler = scheduler;
    this.mapper = mapper;
    this.reports = reports;
    this.completions = new Completions(signer);
  }

  /** Whether completions carry an attestation: what Registered.sign_outcomes says. */
  void signOutcomes(boolean sign) {
    completions.sign(sign);
  }

  /**
   * Starts {@code assignment} on a job thread; false (and nothing done) if that attempt is already
   * here.
   */
  boolean start(Assignment assignment) {
    RunningJob.Key key = key(assignment);
    ProgressCoalescer progress =
        new ProgressCoalescer(
            text ->
                reports.send(
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
      return false;
    }
    if (logger.isDebugEnabled()) {
      logger.debug(
          "[worker={} job={} attempt={}] assigned: type={} model={} lease until {}, expires {},"
              + " deadline {}",
          workerId,
          key.jobId(),
          key.attempt(),
          assignment.getType(),
          assignment.getModel(),
          instant(assignment.hasLeaseExpireTime(), assignment.getLeaseExpireTime()),
          instant(assignment.hasExpireTime(), assignment.getExpireTime()),
          instant(assignment.hasDeadlineTime(), assignment.getDeadlineTime()));
    }
    try {
      jobExecutor.execute(() -> run(job));
    } catch (RejectedExecutionException e) {
      jobs.remove(key);
      sendFailed(key, "worker shutting down", true, durationMetrics(job));
    }
    return true;
  }

  /** Fails {@code assignment} at once as retryable, without running it (another worker may). */
  void refuse(Assignment assignment, String error) {
    RunningJob.Key key = key(assignment);
    logger.info(
        "[worker={} job={} attempt={}] refused: {}", workerId, key.jobId(), key.attempt(), error);
    sendFailed(key, error, true, mapper.createObjectNode().put("duration_ms", 0));
  }

  /** Stops an attempt the coordinator revoked; it reports nothing. */
  void revoke(String jobId, int attempt, String reason) {
    RunningJob job = jobs.get(new RunningJob.Key(jobId, attempt));
    if (job == null) {
      logger.debug(
          "[worker={} job={} attempt={}] revocation of an attempt not running here",
          workerId,
          jobId,
          attempt);
      return;
    }
    if (job.end(RunningJob.State.REVOKED)) {
      logger.info("[worker={} job={} attempt={}] revoked: {}", workerId, jobId, attempt, reason);
    }
  }

  /** Jobs held here: running or waiting for a slot. */
  int running() {
    return jobs.size();
  }

  /** Slots free now: concurrency less the jobs running (not those waiting). */
  int freeSlots() {
    return slots.availablePermits();
  }

  /** Waits until every job has stopped; false on timeout. */
  boolean awaitAll(Duration timeout) throws InterruptedException {
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

  /** Aborts every job (no reports): the stream is gone. */
  void abortAll() {
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

  /**
   * The model a job runs on: the Assignment's, or null (the backend's default) when it names none.
   * The coordinator matched the job to this worker by that model; the payload is not consulted.
   */
  static @Nullable String model(Assignment assignment) {
    return assignment.getModel().isBlank() ? null : assignment.getModel();
  }

  // ---- on the job's own (virtual) thread ----

  private void run(RunningJob job) {
    try {
      // Attached before waiting for a slot, so that a revocation frees a waiting job at once.
      if (job.attach(Thread.currentThread()) && takeSlot(job)) {
        try {
          execute(job);
        } finally {
          slots.release();
        }
      }
    } finally {
      jobs.remove(job.key(), job);
      reports.released(job.state());
      job.stopped();
    }
  }

  private boolean takeSlot(RunningJob job) {
    try {
      slots.acquire();
      return true;
    } catch (InterruptedException e) {
      // The job was ended while it waited (revoked, handed back, stream lost), or the worker is
      // shutting down; in the last case it ends as aborted, like any job of a closing stream.
      job.detach();
      Thread.currentThread().interrupt();
      job.end(RunningJob.State.ABORTED);
      return false;
    }
  }

  private void execute(RunningJob job) {
    RunningJob.Key key = job.key();
    Assignment assignment = job.assignment();
    JobOutcome outcome = null;
    BackendException failure = null;
    try {
      ObjectNode payload = parsePayload(assignment.getPayloadJson());
      outcome =
          router.run(
              new JobRun(
                  key.jobId(),
                  assignment.getType(),
                  model(assignment),
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

  private void report(
      RunningJob job, @Nullable JobOutcome outcome, @Nullable BackendException failure) {
    RunningJob.Key key = job.key();
    if (outcome != null) {
      try {
        JobCompleted completed =
            completions.completed(
                key.jobId(), key.attempt(), json(outcome.result()), json(outcome.metrics()));
        logger.debug(
            "[worker={} job={} attempt={}] completed in {} ms",
            workerId,
            key.jobId(),
            key.attempt(),
            job.elapsedMillis());
        reports.send(ConnectRequest.newBuilder().setCompleted(completed).build());
        return;
      } catch (BackendException e) {
        failure = e;
      } catch (InterruptedException e) {
        // Only shutdownNow interrupts a reporting job: its stream is going away, report nothing.
        Thread.currentThread().interrupt();
        logger.info(
            "[worker={} job={} attempt={}] interrupted while signing its outcome; not reported",
            workerId,
            key.jobId(),
            key.attempt());
        return;
      }
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

  // ---- messages ----

  private void sendFailed(RunningJob.Key key, String error, boolean retryable, ObjectNode metrics) {
    reports.send(
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

  private static RunningJob.Key key(Assignment assignment) {
    return new RunningJob.Key(assignment.getJobId(), assignment.getAttempt());
  }

  private static Object instant(boolean set, Timestamp t) {
    return set ? Instant.ofEpochSecond(t.getSeconds(), t.getNanos()) : "none";
  }
}
