package net.aitbc.grid.coordinator.store;

import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

/**
 * Whether an outcome was recorded.
 *
 * @param accepted true when it was the job's current attempt, held by the reporting session
 * @param state the job's state afterwards, or null when the job does not exist
 * @param reason why it was refused; empty when accepted
 */
public record Recorded(boolean accepted, @Nullable JobState state, String reason) {}
