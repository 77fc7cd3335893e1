package net.aitbc.grid.coordinator.store;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

/**
 * A job as stored, for readers. Payload, metrics and result are null when the read did not ask for
 * them (pages leave them out).
 *
 * @param jobId its id
 * @param clientId its owner
 * @param requestId the idempotency key, or null
 * @param type the job type
 * @param model the model, or null
 * @param payloadJson its input, or null when not read
 * @param requirements what a worker must offer
 * @param priority 0-9
 * @param state its state
 * @param attempt the current attempt (0 while never started)
 * @param maxAttempts runs allowed
 * @param workerId the worker of its current or last attempt, or null
 * @param createdAt when it was submitted
 * @param startedAt when its current or last attempt started, or null
 * @param finishedAt when it ended, or null
 * @param expiresAt when its TTL runs out
 * @param error why it failed, was canceled or expired, or null
 * @param metricsJson its run metrics, or null
 * @param paymentId its payment, or null
 * @param timeout how long one attempt may run
 * @param resultJson its result, or null
 * @param attempts the attempts that ended without completing it, oldest first (empty unless read)
 * @param cacheHit whether the result cache answered it at submission (no worker ran it)
 */
public record StoredJob(
    UUID jobId,
    String clientId,
    @Nullable String requestId,
    String type,
    @Nullable String model,
    @Nullable String payloadJson,
    Requirements requirements,
    int priority,
    JobState state,
    int attempt,
    int maxAttempts,
    @Nullable String workerId,
    OffsetDateTime createdAt,
    @Nullable OffsetDateTime startedAt,
    @Nullable OffsetDateTime finishedAt,
    OffsetDateTime expiresAt,
    @Nullable String error,
    @Nullable String metricsJson,
    @Nullable UUID paymentId,
    Duration timeout,
    @Nullable String resultJson,
    List<FailedAttempt> attempts,
    boolean cacheHit) {

  /** Copies the list. */
  public StoredJob {
    attempts = List.copyOf(attempts);
  }

  /** Whether it is queued or running. */
  public boolean unfinished() {
    return state == JobState.QUEUED || state == JobState.RUNNING;
  }

  /** The same job with its failed attempts. */
  public StoredJob withAttempts(List<FailedAttempt> list) {
    return new StoredJob(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, state, attempt,
        maxAttempts, workerId, createdAt, startedAt, finishedAt, expiresAt, error, metricsJson, paymentId, timeout,
        resultJson, list, cacheHit);
  }

  /** The same job with this result. */
  public StoredJob withResult(@Nullable String result) {
    return new StoredJob(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, state, attempt,
        maxAttempts, workerId, createdAt, startedAt, finishedAt, expiresAt, error, metricsJson, paymentId, timeout,
        result, attempts, cacheHit);
  }

  /**
   * An attempt that ended without completing its job.
   *
   * @param attempt its number
   * @param workerId the worker that ran it, or null
   * @param startedAt when it started, or null
   * @param endedAt when it ended
   * @param error why it ended
   */
  public record FailedAttempt(int attempt, @Nullable String workerId, @Nullable OffsetDateTime startedAt,
      OffsetDateTime endedAt, String error) {}
}
