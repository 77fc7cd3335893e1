package net.aitbc.grid.coordinator.store;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A job just handed to a session.
 *
 * @param jobId the job
 * @param attempt the attempt number it now runs as
 * @param type the job type
 * @param model the model, or null
 * @param payloadJson its input
 * @param createdAt when it was submitted
 * @param startedAt when it was claimed
 * @param expiresAt when its TTL runs out
 * @param fairTag its start tag in fair-share order
 * @param timeout how long this attempt may run
 * @param priority its priority (with its type, its fair-share lane)
 */
public record ClaimedJob(
    UUID jobId,
    int attempt,
    String type,
    @Nullable String model,
    String payloadJson,
    OffsetDateTime createdAt,
    OffsetDateTime startedAt,
    OffsetDateTime expiresAt,
    double fairTag,
    Duration timeout,
    int priority) {

  /** When this attempt is revoked if it has not finished. */
  public OffsetDateTime deadline() {
    return startedAt.plus(timeout);
  }
}
