package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop of an engine that advances durable things (executions, network runs) from wake-ups kept
 * in PostgreSQL: on each wake, and every sweep interval, it advances those past their deadline and
 * drains the due wake-ups until none is left that this coordinator can take.
 */
public final class WakeLoop implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(WakeLoop.class);
  private static final int BATCH = 100;

  /** What the loop advances. */
  public interface Work {
    /** Up to {@code limit} ids past their deadline. */
    List<UUID> pastDeadline(int limit);

    /** Up to {@code limit} ids with a due wake-up. */
    List<UUID> due(int limit);

    /** Advances one under its row lock; false when another coordinator holds it or nothing was due. */
    boolean advance(UUID id);
  }

  private final String name;
  private final Work work;
  private final Duration sweepInterval;
  private final Semaphore wakeups = new Semaphore(0);
  private final Thread thread;
  private volatile boolean closed;

  /** Starts the loop on its own thread, named {@code name}. */
  public WakeLoop(String name, Work work, Duration sweepInterval) {
    this.name = requireNonNull(name, "name");
    this.work = requireNonNull(work, "work");
    this.sweepInterval = requireNonNull(sweepInterval, "sweepInterval");
    this.thread = Thread.ofPlatform().name(name).daemon().start(this::loop);
  }

  /** Something was woken: drain the wake-ups now. */
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
          for (UUID id : work.pastDeadline(BATCH)) {
            advance(id);
          }
        }
        drain();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // The database is away, or one pass failed: the wake-ups stay, and the next pass takes them.
        logger.warn("{} pass failed: {}", name, e.toString());
      }
    }
  }

  private void drain() {
    while (!closed) {
      int advanced = 0;
      for (UUID id : work.due(BATCH)) {
        if (advance(id)) {
          advanced++;
        }
      }
      if (advanced == 0) {
        return;
      }
    }
  }

  private boolean advance(UUID id) {
    try {
      return work.advance(id);
    } catch (RuntimeException e) {
      logger.warn("[{} {}] could not advance it now, will again: {}", name, JobIds.format(id), e.toString());
      return false;
    }
  }

  /** Stops the loop; what it was doing is done again by the next engine that wakes. */
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
