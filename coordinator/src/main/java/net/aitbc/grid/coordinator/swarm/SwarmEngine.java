package net.aitbc.grid.coordinator.swarm;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.Effects;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NewSwarmTask;
import net.aitbc.grid.coordinator.store.SwarmEngineStore;
import net.aitbc.grid.coordinator.store.SwarmTaskStore;
import net.aitbc.grid.coordinator.workflow.WakeLoop;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs swarm tasks: starts them ({@link #start}, making their first member jobs as they are stored),
 * drains their wake-ups (written by member jobs that ended without being decided for in the
 * transaction that recorded it ({@link #inline}), by starts it could not decide for, by cancels and
 * by the engine itself), decides for each under its row lock ({@link SwarmDecider}), and every sweep
 * interval also wakes the tasks past their deadline or waiting on a worker that has gone. Everything it knows is in PostgreSQL, so a restart resumes every task, and two coordinators
 * never decide for one task at once.
 */
public final class SwarmEngine implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(SwarmEngine.class);

  /** How long a follow-up waits for the transaction that holds its task (a sibling member's outcome). */
  private static final Duration FOLLOW_UP_WAIT = Duration.ofSeconds(1);

  private final SwarmEngineStore store;
  private final SwarmDecider decider;
  private final WakeLoop loop;
  // Follow-ups wait for a lock: each on a virtual thread of its own, none on a committer's.
  private final ExecutorService followUps = Executors.newVirtualThreadPerTaskExecutor();

  /**
   * Starts the engine over {@code store}; member jobs go through {@code jobs} as the key found by
   * {@code keys} (by key id) from the ones that started their tasks, on workers {@code workers} finds.
   */
  public SwarmEngine(SwarmEngineStore store, MemberJobs jobs, Function<String, Optional<Principal>> keys,
      SwarmWorkers workers, Duration sweepInterval) {
    this.store = requireNonNull(store, "store");
    SwarmDecider decider = new SwarmDecider(jobs, keys, workers);
    this.decider = decider;
    this.loop = new WakeLoop("swarm-engine", new WakeLoop.Work() {
      @Override
      public List<UUID> pastDeadline(int limit) {
        return store.overdue(limit);
      }

      @Override
      public List<UUID> due(int limit) {
        return store.due(limit);
      }

      @Override
      public boolean advance(UUID id) {
        return store.advance(id, decider::advance);
      }
    }, sweepInterval);
  }

  /**
   * Starts a task as {@code principal} asked (or finds the one its request id started): stores it
   * and, where the engine's rules allow, its first member jobs in the same transaction, which are
   * told to their workers once it has committed; a task left pending is the engine's, woken here.
   */
  public SwarmTaskStore.Started start(NewSwarmTask task, Principal principal) {
    Effects effects = new Effects();
    SwarmTaskStore.Started started;
    try {
      started = store.start(task, l -> decider.decideInline(l, principal), effects);
    } catch (RuntimeException e) {
      effects.rolledBack();
      if (Database.isUnavailable(e)) {
        throw e;
      }
      // Deciding for it failed the start: it starts all the same, and the engine decides.
      logger.warn("[swarm task={}] could not make its member jobs as it started ({}); starting it alone",
          JobIds.format(task.taskId()), e.toString());
      effects = new Effects();
      started = store.start(task, null, effects);
    }
    effects.committed();
    if (!started.existing() && started.task().status() == ExecutionStatus.pending) {
      loop.wake();
    }
    return started;
  }

  /**
   * The engine's decision, for the transaction that records member jobs' outcomes to make at once
   * when it is mechanical (where a task stands, its verdict once every slot has a result). A task
   * that transaction found held by another (two members' outcomes committing side by side, neither
   * seeing the other's) is followed up as soon as it has committed: decided in a transaction that
   * waits for the holder, not later from the wake-up.
   */
  public SwarmEngineStore.Within inline() {
    return store.within(l -> decider.decideInline(l, null), held -> {
      try {
        for (UUID id : held) {
          followUps.execute(() -> followUp(id));
        }
      } catch (RejectedExecutionException closed) {
        // Stopping: the wake-ups stay for the next engine.
      }
    });
  }

  private void followUp(UUID taskId) {
    try {
      if (store.decideWhenFree(taskId, l -> decider.decideInline(l, null), FOLLOW_UP_WAIT)) {
        return;
      }
    } catch (RuntimeException e) {
      logger.debug("[swarm task={}] follow-up failed, the engine decides: {}", JobIds.format(taskId), e.toString());
    }
    // Its wake-up stays: the engine may have passed it by while this held it.
    loop.wake();
  }

  /** Something woke a task: drain the wake-ups now. */
  public void wake() {
    loop.wake();
  }

  /** Stops the engine; what it was doing is done again by the next engine that wakes. */
  @Override
  public void close() {
    followUps.shutdownNow();
    loop.close();
  }
}
