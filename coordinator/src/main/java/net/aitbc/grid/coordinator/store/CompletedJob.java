package net.aitbc.grid.coordinator.store;

import java.time.OffsetDateTime;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A job just completed, as its receipt needs it; read back by the statement that completed it.
 *
 * @param jobId the job
 * @param clientId the client that submitted it
 * @param workerId the worker that ran it
 * @param payloadJson its input, as stored
 * @param requirements what it asked of a worker
 * @param createdAt when it was submitted
 * @param startedAt when its attempt started, or null
 * @param finishedAt when it completed
 * @param metricsJson the metrics recorded with it
 * @param countersigned the worker's signature, the result it covers, and its price
 */
public record CompletedJob(UUID jobId, String clientId, String workerId, String payloadJson,
    Requirements requirements, OffsetDateTime createdAt, @Nullable OffsetDateTime startedAt,
    OffsetDateTime finishedAt, String metricsJson, Countersigned countersigned) {}
