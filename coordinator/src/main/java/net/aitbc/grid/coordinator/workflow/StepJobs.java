package net.aitbc.grid.coordinator.workflow;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.LockedExecution;

/**
 * How the engine creates and cancels step jobs: as ordinary jobs of the execution's client, through
 * the same validation, admission, fair share and payments as any job (the rpc layer, which owns the
 * job rules, implements it).
 */
public interface StepJobs {
  /**
   * Submits one step job as {@code principal}'s; completes with its job id (the one made before,
   * when its request id was used already), or fails with {@link Refused} or {@link Deferred}.
   */
  CompletableFuture<UUID> submit(Principal principal, Order order);

  /**
   * Prepares one step job for the deciding transaction to insert ({@link LockedExecution#insert}):
   * checked, admitted, tagged and maybe placed. Throws {@link Refused} or {@link Deferred} as
   * {@link #submit} fails, and {@link Deferred} too for a job that only {@link #submit} can store (one
   * with a payment).
   */
  LockedExecution.NewStepJob prepare(Principal principal, Order order);

  /** Cancels a step job that has not finished, telling it and its worker {@code reason}. */
  void cancel(UUID jobId, String clientId, String reason);

  /**
   * One step job to submit.
   *
   * @param executionId the execution it belongs to
   * @param requestId its reserved request id ({@link StepKeys})
   * @param job what the planner rendered
   * @param priority its priority when its step names none
   * @param ttl how long it may wait and run: the time left before the execution's deadline, and a
   *     little more (the execution's timeout cancels it first)
   */
  record Order(UUID executionId, String requestId, Planner.StepJob job, int priority, Duration ttl) {}

  /** The job was refused for good (it breaks a job rule, or its payment was refused): its step fails. */
  final class Refused extends RuntimeException {
    /** Refused for {@code reason}. */
    public Refused(String reason) {
      super(reason, null, false, false);
    }
  }

  /** The job cannot be taken now (a rate or queue limit, an overload): it is submitted again later. */
  final class Deferred extends RuntimeException {
    private final Duration retryAfter;

    /** Put off for {@code retryAfter}, for {@code reason}. */
    public Deferred(String reason, Duration retryAfter) {
      super(reason, null, false, false);
      this.retryAfter = retryAfter;
    }

    /** When to try again. */
    public Duration retryAfter() {
      return retryAfter;
    }
  }
}
