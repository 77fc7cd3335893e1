package net.aitbc.grid.coordinator.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
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
    c.setConnectionTimeout(5_000);
    c.setInitializationFailTimeout(-1);
    c.setAutoCommit(true);
    return new HikariDataSource(c);
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
