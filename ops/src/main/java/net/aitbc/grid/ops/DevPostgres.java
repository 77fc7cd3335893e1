package net.aitbc.grid.ops;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded PostgreSQL of {@code grid dev}: on a data directory of the user's (durable by
 * default) or on a throwaway one (fast, not durable). A server left running on its directory by a
 * {@code grid dev} that was killed is stopped first ({@link LeftoverPostmaster}); a server that
 * cannot start is reported with what PostgreSQL said.
 */
final class DevPostgres implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(DevPostgres.class);
  /** Crash recovery of a big data directory can take longer than zonky's default 10 s. */
  private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);
  private static final int SAID_LINES = 12;

  private final EmbeddedPostgres server;
  private final Path log;
  private final @Nullable Path dataDir;
  private final boolean durable;

  private DevPostgres(EmbeddedPostgres server, Path log, @Nullable Path dataDir, boolean durable) {
    this.server = server;
    this.log = log;
    this.dataDir = dataDir;
    this.durable = durable;
  }

  /**
   * Starts PostgreSQL on {@code dataDir} (kept across runs), or on a throwaway directory when it is
   * null. {@code durable}: every commit reaches the disk before it is acknowledged
   * ({@code synchronous_commit}, {@code fsync} and {@code full_page_writes} on); otherwise commits
   * are acknowledged before they are flushed, which is faster and can lose the last ones in a
   * crash of the machine.
   */
  static DevPostgres start(@Nullable Path dataDir, boolean durable) {
    Path dir;
    Path log;
    try {
      // Throwaway data directories and every server's log live here; what a killed grid dev left is cleaned up.
      Path parent = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "grid-dev-postgres"));
      LeftoverPostmaster.cleanThrowaway(parent);
      if (dataDir == null) {
        dir = Files.createTempDirectory(parent, "data-");
      } else {
        dir = dataDir.toAbsolutePath().normalize();
        LeftoverPostmaster.stopIfLeft(dir);
      }
      log = Files.createTempFile(parent, "postgres-", ".log");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the embedded PostgreSQL's directory: " + e.getMessage(), e);
    }
    String commit = durable ? "on" : "off";
    EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
        // DevGrid.close stops it last; its own shutdown hook would stop it under the other parts.
        .setRegisterShutdownHook(false)
        .setDataDirectory(dir)
        .setCleanDataDirectory(dataDir == null)
        .setPGStartupWait(STARTUP_WAIT)
        .setServerConfig("synchronous_commit", commit)
        .setServerConfig("fsync", commit)
        .setServerConfig("full_page_writes", commit)
        .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      return new DevPostgres(b.start(), log, dataDir, durable);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot start the embedded PostgreSQL"
          + (dataDir == null ? "" : " on " + dir) + ": " + e.getMessage() + said(log)
          + "\n(`grid dev --db-url jdbc:postgresql://host:5432/db` runs against an external PostgreSQL instead)", e);
    }
  }

  /** The last lines PostgreSQL (initdb, pg_ctl, the server) wrote, for an error message. */
  private static String said(Path log) {
    List<String> lines;
    try {
      lines = Files.readAllLines(log, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    } catch (IOException e) {
      return "";
    }
    if (lines.isEmpty()) {
      return "";
    }
    return "\nPostgreSQL said (" + log + "):\n  "
        + String.join("\n  ", lines.subList(Math.max(0, lines.size() - SAID_LINES), lines.size()));
  }

  /** The JDBC URL of its {@code postgres} database. */
  String jdbcUrl() {
    return server.getJdbcUrl("postgres", "postgres");
  }

  /** What it is, in words, for the start-up banner: where the data is and whether commits are durable. */
  String describe() {
    String data = dataDir == null ? "throwaway data" : "data in " + dataDir;
    String mode = durable ? "durable: a commit is on disk before it is acknowledged"
        : "fast, not durable: a crash of the machine can lose the last acknowledged jobs";
    return "embedded PostgreSQL on port " + server.getPort() + ", " + data + " (" + mode + ")";
  }

  /** Stops the server (fast shutdown); a throwaway directory is deleted, and so is the log. */
  @Override
  public void close() {
    try {
      server.close();
      Files.deleteIfExists(log);
    } catch (IOException e) {
      logger.warn("stopping the embedded PostgreSQL failed: {}; its log is {}", e.toString(), log);
    }
  }
}
