package net.aitbc.grid.coordinator.store;

import java.time.Duration;
import java.util.UUID;
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
    @Nullable Placement placement) {
  /** The same job with its place in fair-share order. */
  public NewJob withFairTag(double tag) {
    return new NewJob(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, tag, maxAttempts,
        ttl, timeout, placement);
  }

  /** The same job, handed to a session as it is inserted. */
  public NewJob withPlacement(@Nullable Placement where) {
    return new NewJob(jobId, clientId, requestId, type, model, payloadJson, requirements, priority, fairTag,
        maxAttempts, ttl, timeout, where);
  }

  /**
   * A session that takes a job the moment it is stored (it had a free credit and nothing queued).
   *
   * @param sessionId the session
   * @param workerId its worker
   */
  public record Placement(UUID sessionId, String workerId) {}
}
