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
 * @param constraintsJson a JSON object
 * @param priority 0-9
 * @param maxAttempts at least 1
 * @param ttl time to live from creation
 */
public record NewJob(
    UUID jobId,
    String clientId,
    @Nullable String requestId,
    String type,
    @Nullable String model,
    String payloadJson,
    String constraintsJson,
    int priority,
    int maxAttempts,
    Duration ttl) {}
