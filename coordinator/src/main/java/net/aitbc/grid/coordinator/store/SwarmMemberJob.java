package net.aitbc.grid.coordinator.store;

import java.time.OffsetDateTime;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

/**
 * One member job of a swarm task, with its job's state as it stands.
 *
 * @param slot its place (a consensus member, the leader, a distributed part)
 * @param replacement 0 first; then 1, 2 on other workers
 * @param jobId the job
 * @param workerId the worker it is pinned to
 * @param ownerId that worker's owner
 * @param partFrom distributed: the first item it got, or null
 * @param partTo distributed: the item after its last, or null
 * @param state its job's state, or null once its job was retired (the task had ended long before)
 * @param error why its job failed, was canceled or expired, or null
 * @param createdAt when it was made
 * @param startedAt when its job started, or null
 * @param finishedAt when its job ended, or null
 * @param resultSha256 its result's hash, once decided
 * @param groupNo its result's group, once decided
 * @param vote "agree" or "dissent", once decided
 */
public record SwarmMemberJob(int slot, int replacement, UUID jobId, String workerId, String ownerId,
    @Nullable Integer partFrom, @Nullable Integer partTo, @Nullable JobState state, @Nullable String error,
    OffsetDateTime createdAt, @Nullable OffsetDateTime startedAt, @Nullable OffsetDateTime finishedAt,
    @Nullable String resultSha256, @Nullable Integer groupNo, @Nullable String vote) {

  /** Whether its job is queued or running. */
  public boolean unfinished() {
    return state == JobState.QUEUED || state == JobState.RUNNING;
  }
}
