package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.jooq.ConnectionProvider;
import org.jooq.exception.DataAccessException;

/**
 * Connections from the coordinator's pool for jOOQ, shared between its pipeline and its callers.
 *
 * <p>The pipeline (committers, dispatcher, sweepers, engines) runs on platform threads; calls are
 * served on virtual threads, as many as arrive. Callers may hold at most {@code callerLimit}
 * connections at once, so that a burst of calls queueing on a hot row (a client paying for
 * hundreds of jobs at once) cannot take every connection from the committers that store and
 * complete jobs.
 *
 * <p>While the database is reachable and every connection is merely in use, both wait their turn,
 * as they would in PostgreSQL's own queue: the pipeline up to {@code busyWait}, a call up to the
 * smaller of that and half the time its deadline leaves ({@code callerBudget}), so that it is
 * refused as busy (UNAVAILABLE, which clients retry) while it can still be retried, not run into
 * its deadline. While the database cannot be reached, the pool's timeout ends every wait.
 */
final class PooledConnections implements ConnectionProvider {
  private final DataSource pool;
  private final long busyWaitNanos;
  private final LongSupplier callerBudget;
  private final Semaphore callers;

  PooledConnections(DataSource pool, int callerLimit, Duration busyWait, LongSupplier callerBudget) {
    this.pool = requireNonNull(pool, "pool");
    this.busyWaitNanos = busyWait.toNanos();
    this.callerBudget = requireNonNull(callerBudget, "callerBudget");
    this.callers = new Semaphore(callerLimit, true);
  }

  @Override
  public Connection acquire() {
    long start = System.nanoTime();
    if (!Thread.currentThread().isVirtual()) {
      return fromPool(start, busyWaitNanos);
    }
    long wait = Math.min(busyWaitNanos, Math.max(0, callerBudget.getAsLong() / 2));
    try {
      if (!callers.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
        throw new Database.Busy("every connection calls may hold was in use for " + wait / 1_000_000 + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataAccessException("interrupted while waiting for a connection", e);
    }
    try {
      return fromPool(start, wait);
    } catch (RuntimeException e) {
      callers.release();
      throw e;
    }
  }

  private Connection fromPool(long start, long waitNanos) {
    while (true) {
      try {
        return pool.getConnection();
      } catch (SQLTransientConnectionException e) {
        // HikariCP names the last failure to connect as the cause; none means the pool was just busy.
        if (e.getCause() != null) {
          throw new DataAccessException("Error getting connection from data source " + pool + ": " + e.getMessage(), e);
        }
        if (System.nanoTime() - start >= waitNanos) {
          throw new Database.Busy(e.getMessage());
        }
      } catch (SQLException e) {
        throw new DataAccessException("Error getting connection from data source " + pool + ": " + e.getMessage(), e);
      }
    }
  }

  @Override
  public void release(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new DataAccessException("Error closing connection " + connection, e);
    } finally {
      // jOOQ releases a connection on the thread that acquired it.
      if (Thread.currentThread().isVirtual()) {
        callers.release();
      }
    }
  }
}
