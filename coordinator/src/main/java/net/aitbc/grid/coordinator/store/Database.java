package net.aitbc.grid.coordinator.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jooq.ConnectionProvider;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DataSourceConnectionProvider;
import org.jooq.impl.DefaultConfiguration;
import org.jooq.impl.DefaultConnectionProvider;
import org.jooq.impl.DefaultExecuteListenerProvider;
import org.jspecify.annotations.Nullable;

/** Opens the connection pool and brings the schema up to date. */
public final class Database {
  // Callers wait this long for a connection while the database is down, then get UNAVAILABLE.
  private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(2);

  private Database() {}

  /**
   * A pool for this database. It does not fail when the database is down: connections are made
   * when needed, so that the coordinator can start first and recover by itself.
   */
  public static HikariDataSource pool(String url, @Nullable String user, @Nullable String password, int size) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(url);
    if (user != null) {
      c.setUsername(user);
    }
    if (password != null) {
      c.setPassword(password);
    }
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(Math.min(2, size));
    c.setPoolName("grid-db");
    c.setConnectionTimeout(CONNECTION_TIMEOUT.toMillis());
    c.setInitializationFailTimeout(-1);
    c.setAutoCommit(true);
    // A batch of single-row inserts (receipts) goes as multi-row inserts of a few fixed sizes, each
    // prepared once: one execution per chunk instead of per row.
    c.addDataSourceProperty("reWriteBatchedInserts", "true");
    return new HikariDataSource(c);
  }

  /**
   * No connection for a call within the pool's timeout while the database was up: the coordinator
   * is busy (refused as UNAVAILABLE, which clients retry).
   */
  public static final class Busy extends DataAccessException {
    Busy(String message) {
      super(message);
    }
  }

  /** What a failed statement says about trying it again. */
  public enum Failure {
    /** The database could not be reached or went away: retrying once it is back will work. */
    UNAVAILABLE,
    /** A conflict with a concurrent transaction (serialization, deadlock): retrying soon may work. */
    TRANSIENT,
    /** The database refused the statement itself: retrying the same thing will fail the same way. */
    PERMANENT
  }

  /** Classifies a failure by the SQLSTATE of the first SQL exception in its causes. */
  public static Failure classify(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof SQLTransientConnectionException || c instanceof SQLNonTransientConnectionException) {
        return Failure.UNAVAILABLE;
      }
      if (c instanceof SQLException e && e.getSQLState() != null) {
        String state = e.getSQLState();
        if (state.startsWith("08") || state.startsWith("57P") || state.equals("53300")) {
          // Connection exceptions, server shutting down or starting, too many connections.
          return Failure.UNAVAILABLE;
        }
        return state.startsWith("40") ? Failure.TRANSIENT : Failure.PERMANENT;
      }
      if (c instanceof java.io.IOException) {
        return Failure.UNAVAILABLE;
      }
    }
    // No SQLSTATE at all: the driver or pool failed before PostgreSQL answered.
    return t instanceof DataAccessException ? Failure.UNAVAILABLE : Failure.PERMANENT;
  }

  /**
   * Whether a failure means the database could not be reached (or dropped the connection), as
   * opposed to refusing the statement: the former is worth retrying until it is back.
   */
  public static boolean isUnavailable(Throwable t) {
    return classify(t) == Failure.UNAVAILABLE;
  }

  /** Applies the migrations shipped in the jooq-codegen jar. */
  public static void migrate(DataSource dataSource) {
    Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
  }

  /**
   * Runs {@code work} in a transaction on one connection taken up front: when the database is down,
   * that fails once, quickly, instead of again for the rollback.
   */
  public static <T> T transaction(DSLContext dsl, Function<DSLContext, T> work) {
    // Not jOOQ's transactionResult: it first asks the driver for the isolation level, which costs a
    // round trip to PostgreSQL per transaction.
    return dsl.connectionResult(c -> {
      c.setAutoCommit(false);
      try {
        T result = work.apply(dsl.configuration().derive(new DefaultConnectionProvider(c)).dsl());
        c.commit();
        return result;
      } catch (Throwable e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    });
  }

  /** jOOQ over a pool. */
  public static DSLContext dsl(DataSource dataSource) {
    return dsl(new DataSourceConnectionProvider(dataSource));
  }

  /**
   * jOOQ over the coordinator's pool of {@code size} connections: calls served on virtual threads
   * hold at most half of them at once (all of a pool of four or fewer); while the database is up,
   * the pipeline waits for a busy pool up to {@code busyWait}, a call up to the smaller of that and
   * half of {@code callerBudget} (nanoseconds its deadline leaves), then is refused as busy. See
   * {@link PooledConnections}.
   */
  public static DSLContext dsl(DataSource pool, int size, Duration busyWait, LongSupplier callerBudget) {
    return dsl(new PooledConnections(pool, size <= 4 ? size : size / 2, busyWait, callerBudget));
  }

  private static DSLContext dsl(ConnectionProvider connections) {
    return new DefaultConfiguration()
        .set(connections)
        .set(SQLDialect.POSTGRES)
        .set(new Settings().withExecuteLogging(false))
        .set(new DefaultExecuteListenerProvider(new ArrayStatementPlans()))
        .dsl();
  }
}
