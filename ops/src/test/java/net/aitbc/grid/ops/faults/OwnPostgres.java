package net.aitbc.grid.ops.faults;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import net.aitbc.grid.ops.process.Ports;
import org.jspecify.annotations.Nullable;

/**
 * A real PostgreSQL server of the test's own (never the machine's), that can be stopped and
 * started again on the same port and data directory, as an outage of the database would be.
 */
final class OwnPostgres implements AutoCloseable {
  private final int port = Ports.free();
  private final Path dataDir;
  private final Path log;
  private @Nullable EmbeddedPostgres server;

  private OwnPostgres(Path dataDir, Path log) {
    this.dataDir = dataDir;
    this.log = log;
  }

  /** Starts a server on a free port over a new data directory, logging to {@code log}. */
  static OwnPostgres start(Path dataDir, Path log) {
    try {
      if (Files.exists(dataDir)) {
        try (Stream<Path> old = Files.walk(dataDir)) {
          old.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
      }
      Files.createDirectories(dataDir.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    OwnPostgres pg = new OwnPostgres(dataDir, log);
    pg.restart();
    return pg;
  }

  /** The JDBC URL of its {@code postgres} database. */
  String url() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  /** Stops the server (pg_ctl stop, fast mode: every connection is dropped). */
  void stop() {
    if (server != null) {
      try {
        server.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        server = null;
      }
    }
  }

  /** Starts the server again on the same port and data directory. */
  void restart() {
    try {
      server = EmbeddedPostgres.builder()
          .setPort(port)
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setOutputRedirector(java.lang.ProcessBuilder.Redirect.appendTo(log.toFile()))
          .setErrorRedirector(java.lang.ProcessBuilder.Redirect.appendTo(log.toFile()))
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start PostgreSQL on port " + port, e);
    }
  }

  @Override
  public void close() {
    stop();
  }
}
