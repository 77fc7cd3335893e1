package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.EngineStore;

/**
 * Runs executions: drains their wake-ups (written by whatever ended a step job, by starting and
 * cancelling, and by the engine itself), decides for each under its row lock ({@link Decider}),
 * and every sweep interval also wakes the executions past their deadline and any wake-up it was not
 * told of. Everything it knows is in PostgreSQL, so a restart resumes every execution, and two
 * coordinators never decide for one execution at once.
 */
public final class WorkflowEngine implements AutoCloseable {
  private final WakeLoop loop;

  /**
   * Starts the engine over {@code store}; step jobs go through {@code stepJobs} as the key found by
   * {@code keys} (by key id) from the ones that started their executions.
   */
  public WorkflowEngine(EngineStore store, StepJobs stepJobs, Function<String, Optional<Principal>> keys,
      Duration sweepInterval) {
    requireNonNull(store, "store");
    Decider decider = new Decider(stepJobs, keys);
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
