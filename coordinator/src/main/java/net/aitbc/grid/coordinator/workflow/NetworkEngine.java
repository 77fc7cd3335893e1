package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.ExecutionStore;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NetworkRunStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs network runs as the workflow engine runs executions: drains their wake-ups (written by
 * starting a run, by whatever ends one of its executions, and by its own ending), decides for each
 * under its row lock ({@link NetworkDecider}), and every sweep interval also wakes the runs past their
 * deadline and any wake-up it was not told of. Everything it knows is in PostgreSQL, so a restart
 * resumes every run, and two coordinators never decide for one run at once.
 */
public final class NetworkEngine implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(NetworkEngine.class);
  private static final int BATCH = 100;

  private final NetworkRunStore store;
  private final NetworkDecider decider;
  private final Duration sweepInterval;
  private final Semaphore wakeups = new Semaphore(0);
  private final Thread thread;
  private volatile boolean closed;

  /** Starts the engine over {@code store}; the executions of ended runs are cancelled through {@code executions}. */
  public NetworkEngine(NetworkRunStore store, ExecutionStore executions, Duration sweepInterval) {
    this.store = requireNonNull(store, "store");
    this.decider = new NetworkDecider(executions);
    this.sweepInterval = requireNonNull(sweepInterval, "sweepInterval");
    this.thread = Thread.ofPlatform().name("network-engine").daemon().start(this::loop);
  }

  /** Something woke a run: drain the wake-ups now. */
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
        logger.warn("network engine pass failed: {}", e.toString());
      }
    }
  }

  /** Advances every run with a due wake-up, until none is left that this coordinator can take. */
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

  private boolean advance(UUID runId) {
    try {
      return store.advance(runId, decider::advance);
    } catch (RuntimeException e) {
      logger.warn("[network_run={}] could not advance it now, will again: {}", JobIds.format(runId), e.toString());
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
