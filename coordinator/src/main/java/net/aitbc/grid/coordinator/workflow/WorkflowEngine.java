package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.EngineStore;

/**
 * Runs executions: drains their wake-ups (written by whatever ended a step job, by starting and
 * cancelling, and by the engine itself) that were not decided for where they were written
 * ({@link #inline}), decides for each under its row lock ({@link Decider}),
 * and every sweep interval also wakes the executions past their deadline and any wake-up it was not
 * told of. Everything it knows is in PostgreSQL, so a restart resumes every execution, and two
 * coordinators never decide for one execution at once.
 */
public final class WorkflowEngine implements AutoCloseable {
  private final WakeLoop loop;

  private final Decider decider;

  /**
   * Starts the engine over {@code store}; step jobs go through {@code stepJobs} as the key that
   * started their execution, while it is active.
   */
  public WorkflowEngine(EngineStore store, StepJobs stepJobs, Duration sweepInterval) {
    requireNonNull(store, "store");
    Decider decider = new Decider(stepJobs);
    this.decider = decider;
    this.loop = new WakeLoop("workflow-engine", new WakeLoop.Work() {
      @Override
      public List<UUID> pastDeadline(int limit) {
        return store.pastDeadline(limit);
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
   * The engine's decision, for the transaction of a write that wakes an execution (a step's outcome,
   * its start) to make at once when it is mechanical: the engine's rules, applied in that transaction.
   */
  public EngineStore.Decide inline() {
    return decider::decideInline;
  }

  /** Something woke an execution: drain the wake-ups now. */
  public void wake() {
    loop.wake();
  }

  /** Stops the engine; what it was doing is done again by the next engine that wakes. */
  @Override
  public void close() {
    loop.close();
  }
}
