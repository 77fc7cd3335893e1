package net.aitbc.grid.coordinator.miner;

import java.time.OffsetDateTime;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.Requirements;

/**
 * A job a poll hands to a miner.
 *
 * @param job the claimed job (its attempt fences the outcome)
 * @param requirements what the job asked of its worker
 * @param leaseExpiresAt the session's lease when it was assigned
 */
public record Assigned(ClaimedJob job, Requirements requirements, OffsetDateTime leaseExpiresAt) {}
