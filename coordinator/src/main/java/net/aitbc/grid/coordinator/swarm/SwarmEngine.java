package net.aitbc.grid.coordinator.swarm;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.SwarmEngineStore;
import net.aitbc.grid.coordinator.workflow.WakeLoop;

/**
 * Runs swarm tasks: drains their wake-ups (written by whatever ended a member job, by starting and
 * cancelling, and by the engine itself), decides for each under its row lock ({@link SwarmDecider}),
 * and every sweep interval also wakes the tasks past their deadline or waiting on a worker that has
 * gone. Everything it knows is in PostgreSQL, so a restart resumes every task, and two coordinators
 * never decide for one task at once.
 */
public final class SwarmEngine implements AutoCloseable {
  private final WakeLoop loop;

  /**
   * Starts the engine over {@code store}; member jobs go through {@code jobs} as the key found by
   * {@code keys} (by key id) from the ones that started their tasks, on workers {@code workers} finds.
   */
  public SwarmEngine(SwarmEngineStore store, MemberJobs jobs, Function<String, Optional<Principal>> keys,
      SwarmWorkers workers, Duration sweepInterval) {
    requireNonNull(store, "store");
    SwarmDecider decider = new SwarmDecider(jobs, keys, workers);
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

  /** Something woke a task: drain the wake-ups now. */
  public void wake() {
    loop.wake();
  }

  /** Stops the engine; what it was doing is done again by the next engine that wakes. */
  @Override
  public void close() {
    loop.close();
  }
}
