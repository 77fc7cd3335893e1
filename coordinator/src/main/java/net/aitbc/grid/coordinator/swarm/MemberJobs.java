package net.aitbc.grid.coordinator.swarm;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.LockedSwarmTask;

/**
 * How the swarm engine creates and cancels member jobs: as ordinary jobs of the task's client, pinned
 * to one worker, through the same validation, admission and fair share as any job (the rpc layer,
 * which owns the job rules, implements it). Refusals are the workflow engine's: {@link
 * net.aitbc.grid.coordinator.workflow.StepJobs.Refused} for good, {@link
 * net.aitbc.grid.coordinator.workflow.StepJobs.Deferred} for now.
 */
public interface MemberJobs {
  /**
   * Submits one member job as {@code principal}'s; completes with its job id (the one made before,
   * when its request id was used already), or fails with Refused or Deferred.
   */
  CompletableFuture<UUID> submit(Principal principal, Order order);

  /**
   * Prepares one member job for the deciding transaction to insert ({@link LockedSwarmTask#insert}):
   * checked, admitted, tagged and maybe placed. Throws Refused or Deferred as {@link #submit} fails,
   * and Deferred too when only {@link #submit} can take it now (its client's place in fair-share
   * order must be read first).
   */
  LockedSwarmTask.NewMemberJob prepare(Principal principal, Order order);

  /** Cancels a member job that has not finished, telling it and its worker {@code reason}. */
  void cancel(UUID jobId, String clientId, String reason);

  /**
   * One member job to submit.
   *
   * @param taskId the task it belongs to
   * @param requestId its reserved request id ({@link SwarmKeys})
   * @param type its job type
   * @param payloadJson its payload, a JSON object
   * @param constraintsJson its constraints, a Constraints JSON object
   * @param workerId the one worker that may run it
   * @param ttl how long it may wait and run (a little past the task's deadline)
   */
  record Order(UUID taskId, String requestId, String type, String payloadJson, String constraintsJson,
      String workerId, Duration ttl) {}
}
