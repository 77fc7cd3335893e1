package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.ExecutionStore;
import net.aitbc.grid.coordinator.store.NetworkRunStore;

/**
 * Runs network runs as the workflow engine runs executions: drains their wake-ups (written by
 * starting a run, by whatever ends one of its executions, and by its own ending), decides for each
 * under its row lock ({@link NetworkDecider}), and every sweep interval also wakes the runs past their
 * deadline and any wake-up it was not told of. Everything it knows is in PostgreSQL, so a restart
 * resumes every run, and two coordinators never decide for one run at once.
 */
public final class NetworkEngine implements AutoCloseable {
  private final WakeLoop loop;

  /** Starts the engine over {@code store}; the executions of ended runs are cancelled through {@code executions}. */
  public NetworkEngine(NetworkRunStore store, ExecutionStore executions, Duration sweepInterval) {
    requireNonNull(store, "store");
    NetworkDecider decider = new NetworkDecider(executions);
    this.loop = new WakeLoop("network-engine", new WakeLoop.Work() {
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

  /** Something woke a run: drain the wake-ups now. */
  public void wake() {
    loop.wake();
  }

  /** Stops the engine; what it was doing is done again by the next engine that wakes. */
  @Override
  public void close() {
    loop.close();
  }
}
