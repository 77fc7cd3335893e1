package net.aitbc.grid.coordinator.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The embedded PostgreSQL (zonky, as {@code grid dev} runs it) that a test JVM starts when no
 * server answers: at most one per JVM, on a throwaway data directory, stopped by its own shutdown
 * hook when the JVM exits. Kept apart from {@link TestDatabase} so that a module whose tests always
 * have a server never loads zonky's classes.
 */
final class EmbeddedTestServer {
  private static EmbeddedPostgres server;

  private EmbeddedTestServer() {}

  /** The JDBC URL of its {@code postgres} database; starts it on first use and says so on stderr. */
  static synchronized String url(String probed) {
    if (server == null) {
      long start = System.nanoTime();
      try {
        server = EmbeddedPostgres.builder().start();
      } catch (IOException e) {
        throw new UncheckedIOException("no PostgreSQL answers at " + probed + " and the embedded one did not start: "
            + e.getMessage(), e);
      }
      System.err.printf("TestDatabase: no PostgreSQL answers at %s and AITBC_TEST_DB_URL is not set: started an "
          + "embedded PostgreSQL on port %d for this test JVM in %d ms%n", probed, server.getPort(),
          (System.nanoTime() - start) / 1_000_000);
    }
    return server.getJdbcUrl("postgres", "postgres");
  }
}
