package net.aitbc.grid.coordinator.store;

import java.util.UUID;

/**
 * One attempt of a job, held by one session.
 *
 * @param jobId the job
 * @param attempt the attempt number
 * @param sessionId the session it was handed to
 */
public record AttemptRef(UUID jobId, int attempt, UUID sessionId) {}
