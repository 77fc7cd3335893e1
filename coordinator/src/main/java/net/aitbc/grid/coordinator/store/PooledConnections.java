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
 * <p>A caller waits for a connection no longer than the pool's timeout and is then refused as
 * busy (UNAVAILABLE, which clients retry): a burst is shed rather than left to run into its
 * callers' deadlines. The pipeline, which cannot retry by itself, keeps waiting while the database
 * is reachable and every connection is merely in use, up to {@code pipelineWait}; while the
 * database cannot be reached, the pool's timeout ends its wait too.
 */
final class PooledConnections implements ConnectionProvider {
  private final DataSource pool;
  private final long callerWaitNanos;
  private final long pipelineWaitNanos;
  private final Semaphore callers;

  PooledConnections(DataSource pool, int callerLimit, Duration callerWait, Duration pipelineWait) {
    this.pool = requireNonNull(pool, "pool");
    this.callerWaitNanos = callerWait.toNanos();
    this.pipelineWaitNanos = pipelineWait.toNanos();
    this.callers = new Semaphore(callerLimit, true);
  }

  @Override
  public Connection acquire() {
    boolean caller = Thread.currentThread().isVirtual();
    if (!caller) {
      return fromPool(System.nanoTime());
    }
    try {
      if (!callers.tryAcquire(callerWaitNanos, TimeUnit.NANOSECONDS)) {
        throw new Database.Busy("every connection calls may hold was in use for " + callerWaitNanos / 1_000_000 + " ms");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DataAccessException("interrupted while waiting for a connection", e);
    }
    try {
      return pool.getConnection();
    } catch (SQLTransientConnectionException e) {
      callers.release();
      throw e.getCause() == null ? new Database.Busy(e.getMessage())
          : new DataAccessException("Error getting connection from data source " + pool + ": " + e.getMessage(), e);
    } catch (SQLException | RuntimeException e) {
      callers.release();
      throw new DataAccessException("Error getting connection from data source " + pool + ": " + e.getMessage(), e);
    }
  }

  private Connection fromPool(long start) {
    while (true) {
      try {
        return pool.getConnection();
      } catch (SQLTransientConnectionException e) {
        // HikariCP names the last failure to connect as the cause; none means the pool was just busy.
        if (e.getCause() != null || System.nanoTime() - start >= pipelineWaitNanos) {
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
