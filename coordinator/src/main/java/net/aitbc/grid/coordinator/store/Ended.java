package net.aitbc.grid.coordinator.store;

import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

/**
 * A job whose attempt was taken away from its worker (requeued, failed, expired or canceled).
 *
 * @param jobId the job
 * @param attempt the attempt that ended
 * @param state the job's new state
 * @param sessionId the session that was running it, or null when it was not running
 */
public record Ended(UUID jobId, int attempt, JobState state, @Nullable UUID sessionId) {}
