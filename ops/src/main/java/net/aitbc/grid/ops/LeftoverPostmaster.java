package net.aitbc.grid.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL server left running on a data directory by a {@code grid dev} that was killed
 * (SIGKILL gives it no chance to stop the server it started). The data directory's {@code epg-lock}
 * (which zonky holds while its server runs) tells a live owner from a dead one; {@code
 * postmaster.pid} names the server.
 */
final class LeftoverPostmaster {
  private static final Logger logger = LoggerFactory.getLogger(LeftoverPostmaster.class);
  /** zonky's lock file in the data directory, held by the JVM whose server runs there. */
  private static final String LOCK = "epg-lock";
  private static final Duration STOP_WAIT = Duration.ofSeconds(30);
  /** A throwaway directory this young may be one another grid dev is still setting up. */
  private static final Duration SETTLING = Duration.ofMinutes(1);

  private LeftoverPostmaster() {}

  /**
   * Makes {@code dataDir} free for a new server: fails if a live process owns it; stops a server
   * whose owner is gone; removes a {@code postmaster.pid} that names no server of this directory.
   */
  static void stopIfLeft(Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    try (FileChannel channel = FileChannel.open(dataDir.resolve(LOCK), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE); FileLock lock = tryLock(channel)) {
      Optional<Long> pid = postmasterPid(pidFile, dataDir);
      if (lock == null) {
        throw new IllegalStateException("the data directory " + dataDir + " is in use by another running grid dev"
            + pid.map(p -> " (its PostgreSQL is pid " + p + ")").orElse("") + "; stop it first or use another --data-dir");
      }
      if (pid.isPresent()) {
        logger.warn("a PostgreSQL (pid {}) is still running on {}, left by a grid dev that did not stop; stopping it",
            pid.get(), dataDir);
        stop(pid.get());
      } else if (Files.deleteIfExists(pidFile)) {
        logger.info("removed a stale postmaster.pid from {}", dataDir);
      }
    }
  }

  /**
   * Stops the servers of throwaway directories under {@code parent} whose grid dev is gone, and
   * deletes those directories, and server logs untouched for a week.
   */
  static void cleanThrowaway(Path parent) throws IOException {
    List<Path> children;
    try (Stream<Path> list = Files.list(parent)) {
      children = list.toList();
    }
    Instant settled = Instant.now().minus(SETTLING);
    Instant weekAgo = Instant.now().minus(Duration.ofDays(7));
    for (Path log : children) {
      if (log.getFileName().toString().endsWith(".log") && Files.getLastModifiedTime(log).toInstant().isBefore(weekAgo)) {
        Files.deleteIfExists(log);
      }
    }
    for (Path dir : children.stream().filter(Files::isDirectory).toList()) {
      Path lockFile = dir.resolve(LOCK);
      // No lock file: a start that failed before its server ran, or one still in initdb.
      boolean locked = Files.exists(lockFile);
      if (Files.getLastModifiedTime(locked ? lockFile : dir).toInstant().isAfter(settled)
          || locked && !stopIfOwnerGone(dir, lockFile)) {
        continue;
      }
      try (Stream<Path> all = Files.walk(dir)) {
        all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Stops the server on a throwaway {@code dir} unless its owner lives; false if it does. */
  private static boolean stopIfOwnerGone(Path dir, Path lockFile) throws IOException {
    try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE); FileLock lock = tryLock(channel)) {
      if (lock == null) {
        return false;
      }
      Optional<Long> pid = postmasterPid(dir.resolve("postmaster.pid"), dir);
      if (pid.isPresent()) {
        logger.info("stopping PostgreSQL (pid {}) left on the throwaway {} by a grid dev that did not stop",
            pid.get(), dir);
        stop(pid.get());
      }
      return true;
    }
  }

  private static @Nullable FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null; // held by this JVM: a grid dev of its own is running there
    }
  }

  /** The pid in {@code postmaster.pid} if it is a live postgres serving {@code dataDir}. */
  private static Optional<Long> postmasterPid(Path pidFile, Path dataDir) throws IOException {
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    // Line 1 is the postmaster's pid, line 2 its data directory (PostgreSQL's miscadmin.h).
    List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
    if (lines.size() < 2 || !Path.of(lines.get(1).trim()).toAbsolutePath().normalize().equals(dataDir)) {
      return Optional.empty();
    }
    long pid;
    try {
      pid = Long.parseLong(lines.get(0).trim());
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(LeftoverPostmaster::isPostgres).map(h -> pid);
  }

  private static boolean isPostgres(ProcessHandle h) {
    Optional<String> command = h.info().command();
    if (command.isPresent()) {
      return Path.of(command.get()).getFileName().toString().equals("postgres");
    }
    try {
      return Files.readString(Path.of("/proc", Long.toString(h.pid()), "comm")).trim().equals("postgres");
    } catch (IOException e) {
      return false;
    }
  }

  /** Fast shutdown (SIGINT: connections are ended, a checkpoint is written), then waits for the exit. */
  private static void stop(long pid) {
    ProcessHandle h = ProcessHandle.of(pid).orElse(null);
    if (h == null) {
      return;
    }
    try {
      Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pid)).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        h.destroy(); // SIGTERM: a smart shutdown, which the dead owner's closed connections do not hold up
      }
      h.onExit().get(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot signal PostgreSQL (pid " + pid + "): " + e.getMessage(), e);
    } catch (TimeoutException | ExecutionException e) {
      throw new IllegalStateException("PostgreSQL (pid " + pid + ") did not stop within " + STOP_WAIT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping PostgreSQL (pid " + pid + ")", e);
    }
  }
}
