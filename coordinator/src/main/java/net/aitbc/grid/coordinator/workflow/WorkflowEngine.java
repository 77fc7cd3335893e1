package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.EngineStore;
import net.aitbc.grid.coordinator.store.JobIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs executions: drains their wake-ups (written by whatever ended a step job, by starting and
 * cancelling, and by the engine itself), decides for each under its row lock ({@link Decider}),
 * and every sweep interval also wakes the executions past their deadline and any wake-up it was not
 * told of. Everything it knows is in PostgreSQL, so a restart resumes every execution, and two
 * coordinators never decide for one execution at once.
 */
public final class WorkflowEngine implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(WorkflowEngine.class);
  private static final int BATCH = 100;

  private final EngineStore store;
  private final Decider decider;
  private final Duration sweepInterval;
  private final Semaphore wakeups = new Semaphore(0);
  private final Thread thread;
  private volatile boolean closed;

  /**
   * Starts the engine over {@code store}; step jobs go through {@code stepJobs} as the key found by
   * {@code keys} (by key id) from the ones that started their executions.
   */
  public WorkflowEngine(EngineStore store, StepJobs stepJobs, Function<String, Optional<Principal>> keys,
      Duration sweepInterval) {
    this.store = requireNonNull(store, "store");
    this.decider = new Decider(stepJobs, keys);
    this.sweepInterval = requireNonNull(sweepInterval, "sweepInterval");
    this.thread = Thread.ofPlatform().name("workflow-engine").daemon().start(this::loop);
  }

  /** Something woke an execution: drain the wake-ups now. */
  public void wake() {
    if (wakeups.availablePermits() == 0) {
      wakeups.release();
    }
  }

  private void loop() {
    long nextSweep = 0;
    while (!closed) {
      try {
        wakeups.tryAcquire(Math.max(1, (nextSweep - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
        wakeups.drainPermits();
        if (closed) {
          return;
        }
        if (System.nanoTime() - nextSweep >= 0) {
          nextSweep = System.nanoTime() + sweepInterval.toNanos();
          for (UUID id : store.pastDeadline(BATCH)) {
            advance(id);
          }
        }
        drain();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // The database is away, or one pass failed: the wake-ups stay, and the next pass takes them.
        logger.warn("workflow engine pass failed: {}", e.toString());
      }
    }
  }

  /** Advances every execution with a due wake-up, until none is left that this coordinator can take. */
  private void drain() {
    while (!closed) {
      List<UUID> due = store.due(BATCH);
      int advanced = 0;
      for (UUID id : due) {
        if (advance(id)) {
          advanced++;
        }
      }
      if (advanced == 0) {
        return;
      }
    }
  }

  private boolean advance(UUID executionId) {
    try {
      return store.advance(executionId, decider::advance);
    } catch (RuntimeException e) {
      logger.warn("[execution={}] could not advance it now, will again: {}", JobIds.format(executionId),
          e.toString());
      return false;
    }
  }

  /** Stops the engine; what it was doing is done again by the next engine that wakes. */
  @Override
  public void close() {
    closed = true;
    wakeups.release();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
