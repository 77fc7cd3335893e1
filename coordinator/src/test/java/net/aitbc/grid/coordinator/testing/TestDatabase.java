package net.aitbc.grid.coordinator.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * A fresh, empty PostgreSQL database for one test class, on the server named by
 * {@code AITBC_TEST_DB_URL} (default: the local server on 127.0.0.1:5432 as user postgres). Dropped
 * on close.
 */
public final class TestDatabase implements AutoCloseable {
  private static final String SERVER = System.getenv().getOrDefault("AITBC_TEST_DB_URL",
      "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres");

  private final String name;
  private final String url;

  private TestDatabase(String name) {
    this.name = name;
    int query = SERVER.indexOf('?');
    String base = query < 0 ? SERVER : SERVER.substring(0, query);
    String params = query < 0 ? "" : SERVER.substring(query);
    this.url = base.substring(0, base.lastIndexOf('/') + 1) + name + params;
  }

  /** Creates a new database with a unique name. */
  public static TestDatabase create() {
    TestDatabase db = new TestDatabase("grid_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    try (Connection c = DriverManager.getConnection(SERVER)) {
      DSL.using(c, SQLDialect.POSTGRES).createDatabase(db.name).execute();
    } catch (SQLException e) {
      throw new IllegalStateException("tests need PostgreSQL at " + SERVER
          + " (set AITBC_TEST_DB_URL, or start it: pg_ctlcluster --skip-systemctl-redirect <version> main start)", e);
    }
    return db;
  }

  /** The JDBC URL of this database. */
  public String url() {
    return url;
  }

  /** A plain connection, for tests that inspect rows directly. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(url);
  }

  @Override
  public void close() {
    try (Connection c = DriverManager.getConnection(SERVER)) {
      DSL.using(c, SQLDialect.POSTGRES).dropDatabaseIfExists(name).execute();
    } catch (SQLException | RuntimeException e) {
      // A database left behind by a test that still holds a connection is harmless.
    }
  }
}
