package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
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
 * <p>Why none came decides how long to wait: while the database cannot be reached, the pool's own
 * timeout ends the wait (callers get UNAVAILABLE quickly); while it is reachable and every
 * connection is merely in use, a caller keeps waiting its turn up to {@code busyWait}, as it would
 * in PostgreSQL's own queue.
 */
final class PooledConnections implements ConnectionProvider {
  private final DataSource pool;
  private final long busyWaitNanos;
  private final Semaphore callers;

  PooledConnections(DataSource pool, int callerLimit, Duration busyWait) {
    this.pool = requireNonNull(pool, "pool");
    this.busyWaitNanos = busyWait.toNanos();
    this.callers = new Semaphore(callerLimit, true);
  }

  @Override
  public Connection acquire() {
    long start = System.nanoTime();
    boolean caller = Thread.currentThread().isVirtual();
    if (caller) {
      try {
        if (!callers.tryAcquire(busyWaitNanos, TimeUnit.NANOSECONDS)) {
          throw new DataAccessException("Error getting connection from data source " + pool + ": every connection "
              + "callers may hold was in use for " + busyWaitNanos / 1_000_000 + " ms",
              new SQLTransientConnectionException("callers' connections busy"));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DataAccessException("interrupted while waiting for a connection", e);
      }
    }
    try {
      return fromPool(start);
    } catch (RuntimeException e) {
      if (caller) {
        callers.release();
      }
      throw e;
    }
  }

  private Connection fromPool(long start) {
    while (true) {
      try {
        return pool.getConnection();
      } catch (SQLTransientConnectionException e) {
        // HikariCP names the last failure to connect as the cause; none means the pool was just busy.
        if (e.getCause() != null || System.nanoTime() - start >= busyWaitNanos) {
          throw new DataAccessException("Error getting connection from data source " + pool + ": " + e.getMessage(), e);
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
