package net.aitbc.grid.ops.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One {@code grid} command in a JVM of its own, started through {@link GridChild} (so it never
 * outlives this JVM), with its command line and then its output in a log file. Signals are real
 * signals.
 */
public final class GridProcess implements AutoCloseable {
  /** Lean child JVMs, for tests: the machine may have two cores and run several of them at once. */
  public static final List<String> LEAN_JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");
  private static final List<String> ALWAYS = List.of("--enable-native-access=ALL-UNNAMED",
      "--sun-misc-unsafe-memory-access=allow");
  private static final long POLL_NANOS = 50_000_000;

  private final String name;
  private final Path log;
  private final Process process;

  private GridProcess(String name, Path log, Process process) {
    this.name = name;
    this.log = log;
    this.process = process;
  }

  /** A process named {@code name} (in messages) whose output goes to {@code log}. */
  public static Builder builder(String name, Path log) {
    return new Builder(name, log);
  }

  /** What to start, and how. */
  public static final class Builder {
    private final String name;
    private final Path log;
    private final List<String> jvmOptions = new ArrayList<>();
    private final Map<String, String> env = new HashMap<>();
    private @Nullable Path directory;
    private boolean interruptible;

    private Builder(String name, Path log) {
      this.name = name;
      this.log = log;
    }

    /** Adds options for the child's JVM (e.g. {@code -Xmx1g}, {@code -Dkey=value}). */
    public Builder jvmOptions(List<String> options) {
      jvmOptions.addAll(options);
      return this;
    }

    /** Adds variables to the child's environment (keys travel here, never on the command line). */
    public Builder env(Map<String, String> variables) {
      env.putAll(variables);
      return this;
    }

    /** The child's working directory (default: this one's). */
    public Builder directory(Path dir) {
      directory = dir;
      return this;
    }

    /**
     * Starts the child with SIGINT handled (GNU env's {@code --default-signal}) even where this
     * process ignores it, as every process started in the background by a non-interactive shell
     * does: without it, {@link #interrupt()} (a Ctrl-C) would not reach the child at all.
     */
    public Builder interruptible() {
      interruptible = true;
      return this;
    }

    /** Starts {@code grid <args>}; does not wait for anything. */
    public GridProcess start(List<String> args) {
      List<String> command = new ArrayList<>();
      if (interruptible) {
        command.addAll(List.of("env", "--default-signal=INT"));
      }
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOptions);
      command.addAll(ALWAYS);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), GridChild.class.getName()));
      command.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(env);
      if (directory != null) {
        pb.directory(directory.toFile());
      }
      try {
        Path parent = log.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(log, String.join(" ", command) + "\n");
        // The pipe to its standard input stays open as long as the Process object lives (GridChild).
        return new GridProcess(name, log, pb.start());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start " + name, e);
      }
    }

    /** Starts {@code grid <args>}. */
    public GridProcess start(String... args) {
      return start(List.of(args));
    }
  }

  /** The name it was given. */
  public String name() {
    return name;
  }

  /** Its process id. */
  public long pid() {
    return process.pid();
  }

  /** Where its output goes. */
  public Path log() {
    return log;
  }

  /** Whether it still runs. */
  public boolean isAlive() {
    return process.isAlive();
  }

  /** Waits until a line of the log matches {@code regex}; fails if the process exits first. */
  public GridProcess awaitLog(String regex, Duration atMost) {
    return awaitLog(regex, 1, atMost);
  }

  /** Waits until {@code count} lines of the log match {@code regex}; fails if the process exits first. */
  public GridProcess awaitLog(String regex, int count, Duration atMost) {
    Pattern p = Pattern.compile(regex);
    long deadline = System.nanoTime() + atMost.toNanos();
    while (true) {
      // Read the liveness first: a line logged just before the exit is still seen.
      boolean alive = process.isAlive();
      if (lines().stream().filter(l -> p.matcher(l).find()).count() >= count) {
        return this;
      }
      if (!alive) {
        throw new IllegalStateException(name + " exited with " + process.exitValue() + " before logging " + count
            + "× /" + regex + "/; see " + log + "\n" + tail(40));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(name + " did not log " + count + "× /" + regex + "/ within " + atMost
            + "\n" + tail(40));
      }
      LockSupport.parkNanos(POLL_NANOS);
    }
  }

  /** Every line logged so far. */
  public List<String> lines() {
    try {
      return Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last {@code n} lines of the log, under a header naming it, for failure messages. */
  public String tail(int n) {
    List<String> all;
    try {
      all = lines();
    } catch (UncheckedIOException e) {
      return "(" + log + " unreadable: " + e.getCause() + ")";
    }
    return "---- " + name + " (" + log + ") ----\n"
        + String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
  }

  /** SIGKILL: gone at once, with no shutdown hook and no goodbye on its streams; waits for the exit. */
  public void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(10));
  }

  /** SIGTERM: its shutdown hooks run (a worker drains, a coordinator shuts down). Does not wait. */
  public void terminate() {
    // Not Process.destroy(): that also closes the child's standard input, which GridChild takes
    // for its parent's end.
    signal("-TERM");
  }

  /** SIGINT, as Ctrl-C in a terminal sends. Does not wait. */
  public void interrupt() {
    signal("-INT");
  }

  /** SIGSTOP: it freezes; its sockets stay open but it reads and writes nothing. */
  public void pause() {
    signal("-STOP");
  }

  /** SIGCONT: a paused process runs on. */
  public void resume() {
    signal("-CONT");
  }

  /** Waits for it to exit and returns its status; fails if it has not within {@code atMost}. */
  public int awaitExit(Duration atMost) {
    try {
      if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(name + " did not exit within " + atMost + "\n" + tail(40));
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    }
  }

  /** SIGKILL if it still runs (cleanup after a test, passed or not; ends a paused process too). */
  public void destroy() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** SIGTERM (a graceful stop), then SIGKILL if it has not exited within 30 s. */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    try {
      signal("-TERM");
    } catch (RuntimeException e) {
      process.destroy(); // it may have exited meanwhile; if not, SIGTERM this way
    }
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void signal(String signal) {
    try {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while signalling " + name, e);
    }
  }
}
