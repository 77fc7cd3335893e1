package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.UUID;
import net.aitbc.grid.db.enums.Currency;
import org.jspecify.annotations.Nullable;

/**
 * A validated job to insert.
 *
 * @param jobId its new id
 * @param clientId the owner
 * @param requestId the idempotency key, or null
 * @param type the job type
 * @param model the model (lower case), or null
 * @param payloadJson a JSON object
 * @param requirements what a worker must offer
 * @param priority 0-9
 * @param fairTag its start tag in fair-share order
 * @param maxAttempts at least 1
 * @param ttl time to live from creation
 * @param timeout how long one attempt may run
 * @param placement the session to hand it to at once, or null to queue it
 * @param payment what the client pays for it as it is stored, or null when unpaid
 * @param executionId the workflow execution it is a step of, or null
 * @param pin the swarm task it is a member job of and the one worker that may run it, or null
 */
public record NewJob(
    UUID jobId,
    String clientId,
    @Nullable String requestId,
    String type,
    @Nullable String model,
    String payloadJson,
    Requirements requirements,
    int priority,
    double fairTag,
    int maxAttempts,
    Duration ttl,
    Duration timeout,
    @Nullable Placement placement,
    @Nullable JobPayment payment,
    @Nullable UUID executionId,
    @Nullable Pin pin) {
  /** A job that no swarm task pins. */
  public NewJob(UUID jobId, String clientId, @Nullable String requestId, String type, @Nullable String model,
      String payloadJson, Requirements requirements, int priority, double fairTag, int maxAttempts, Duration ttl,
      Duration timeout, @Nullable Placement placement, @Nullable JobPayment payment, @Nullable UUID executionId) {
    this(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, fairTag, maxAttempts, ttl,
        timeout, placement, payment, executionId, null);
  }

  /** An unpaid job. */
  public NewJob(UUID jobId, String clientId, @Nullable String requestId, String type, @Nullable String model,
      String payloadJson, Requirements requirements, int priority, double fairTag, int maxAttempts, Duration ttl,
      Duration timeout, @Nullable Placement placement) {
    this(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, fairTag, maxAttempts, ttl,
        timeout, placement, null, null);
  }

  /** A job that is no workflow's step. */
  public NewJob(UUID jobId, String clientId, @Nullable String requestId, String type, @Nullable String model,
      String payloadJson, Requirements requirements, int priority, double fairTag, int maxAttempts, Duration ttl,
      Duration timeout, @Nullable Placement placement, @Nullable JobPayment payment) {
    this(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, fairTag, maxAttempts, ttl,
        timeout, placement, payment, null);
  }

  /** The same job with its place in fair-share order. */
  public NewJob withFairTag(double tag) {
    return new NewJob(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, tag, maxAttempts,
        ttl, timeout, placement, payment, executionId, pin);
  }

  /** The same job, handed to a session as it is inserted. */
  public NewJob withPlacement(@Nullable Placement where) {
    return new NewJob(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, fairTag,
        maxAttempts, ttl, timeout, where, payment, executionId, pin);
  }

  /**
   * A payment made with the job, in the transaction that stores it (checked by {@link Money}).
   *
   * @param amount how much
   * @param currency in what
   * @param escrowTimeoutSeconds how long the escrow is held, 300 to 86,400
   */
  public record JobPayment(BigDecimal amount, Currency currency, int escrowTimeoutSeconds) {}

  /**
   * A swarm task's member job: only this worker may run it (the claim matches its worker id).
   *
   * @param swarmTaskId the task
   * @param workerId the worker
   */
  public record Pin(UUID swarmTaskId, String workerId) {}

  /**
   * A session that takes a job the moment it is stored (it had a free credit and nothing queued).
   *
   * @param sessionId the session
   * @param workerId its worker
   */
  public record Placement(UUID sessionId, String workerId) {}
}
