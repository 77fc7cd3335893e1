package net.aitbc.grid.coordinator.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.exception.DataAccessException;
import org.jooq.exception.SQLStateClass;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/** Opens the connection pool and brings the schema up to date. */
public final class Database {
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
    // Callers wait this long for a connection while the database is down, then get UNAVAILABLE.
    c.setConnectionTimeout(2_000);
    c.setInitializationFailTimeout(-1);
    c.setAutoCommit(true);
    return new HikariDataSource(c);
  }

  /**
   * Whether a failure means the database could not be reached (or dropped the connection), as
   * opposed to refusing the statement: the former is worth retrying, the latter is not.
   */
  public static boolean isUnavailable(Throwable t) {
    if (!(t instanceof DataAccessException e)) {
      return false;
    }
    SQLStateClass c = e.sqlStateClass();
    return c != SQLStateClass.C22_DATA_EXCEPTION && c != SQLStateClass.C23_INTEGRITY_CONSTRAINT_VIOLATION
        && c != SQLStateClass.C42_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION;
  }

  /** Applies the migrations shipped in the jooq-codegen jar. */
  public static void migrate(DataSource dataSource) {
    Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
  }

  /** jOOQ over a pool. */
  public static DSLContext dsl(DataSource dataSource) {
    return DSL.using(dataSource, SQLDialect.POSTGRES, new Settings().withExecuteLogging(false));
  }
}
