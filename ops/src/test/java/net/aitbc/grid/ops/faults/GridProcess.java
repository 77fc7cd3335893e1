package net.aitbc.grid.ops.faults;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** One real {@code grid} command in its own JVM, with its output in a log file; signals are real signals. */
final class GridProcess {
  /** Lean child JVMs: the machine has two cores and runs several of them at once. */
  private static final List<String> JVM_FLAGS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
      "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow");

  private final String name;
  private final Path log;
  private final Process process;

  private GridProcess(String name, Path log, Process process) {
    this.name = name;
    this.log = log;
    this.process = process;
  }

  /**
   * Starts {@code grid <args…>} with these extra JVM options and environment, its stdout and stderr
   * appended to {@code log}.
   */
  static GridProcess start(String name, Path log, List<String> jvmOptions, Map<String, String> env, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(JVM_FLAGS);
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("net.aitbc.grid.ops.GridMain");
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    pb.environment().putAll(env);
    try {
      return new GridProcess(name, log, pb.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name, e);
    }
  }

  String name() {
    return name;
  }

  long pid() {
    return process.pid();
  }

  Path log() {
    return log;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Waits until a line of the log matches {@code regex}; fails if the process dies first. */
  GridProcess awaitLog(String regex, Duration atMost) {
    return awaitLog(regex, 1, atMost);
  }

  /** Waits until {@code count} lines of the log match {@code regex}. */
  GridProcess awaitLog(String regex, int count, Duration atMost) {
    Pattern p = Pattern.compile(regex);
    await(name + " to log " + count + "× /" + regex + "/").atMost(atMost).pollInterval(Duration.ofMillis(50))
        .until(() -> {
          long n = lines().stream().filter(l -> p.matcher(l).find()).count();
          if (n < count && !process.isAlive()) {
            throw new AssertionError(name + " exited with " + process.exitValue() + "\n" + tail(40));
          }
          return n >= count;
        });
    return this;
  }

  /** Every line logged so far. */
  List<String> lines() {
    try {
      return Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The last {@code n} lines of the log, for failure messages. */
  String tail(int n) {
    List<String> all = lines();
    return "---- " + name + " (" + log + ") ----\n" + String.join("\n", all.subList(Math.max(0, all.size() - n), all.size()));
  }

  /** SIGKILL: gone at once, with no shutdown hook and no goodbye on its streams. */
  void kill() {
    process.destroyForcibly();
    awaitExit(Duration.ofSeconds(10));
  }

  /** SIGTERM: the process's shutdown hooks run (a worker drains, a coordinator shuts down). */
  void terminate() {
    process.destroy();
  }

  /** SIGSTOP: the process freezes; its sockets stay open but it reads and writes nothing. */
  void pause() {
    signal("-STOP");
  }

  /** SIGCONT: a paused process runs on. */
  void resume() {
    signal("-CONT");
  }

  /** Waits for the process to exit and returns its status. */
  int awaitExit(Duration atMost) {
    try {
      if (!process.waitFor(atMost.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new AssertionError(name + " did not exit within " + atMost + "\n" + tail(40));
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Kills it if it still runs (cleanup after every test, passed or not; SIGKILL ends a paused process too). */
  void destroy() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void signal(String signal) {
    try {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new AssertionError("kill " + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
