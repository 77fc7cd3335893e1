package net.aitbc.grid.ops.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What Linux's {@code /proc} says about CPU and memory, read the way the peers' {@code common.js}
 * reads it, so that both sides of a comparison count the same ticks; and the host facts a report
 * names.
 */
final class ProcFs {
  /** {@code getconf CLK_TCK} on Linux x86-64; the peers assume the same. */
  static final int CLK_TCK = 100;

  private ProcFs() {}

  /** The host's CPU counters from the first line of {@code /proc/stat}, in ticks. */
  record HostTicks(long busy, long idle, long iowait, long steal) {}

  /** user+nice+system+irq+softirq as busy, idle+iowait as idle (the peers' split). */
  static HostTicks host() {
    String[] f = firstLine(Path.of("/proc/stat")).trim().split("\\s+");
    long user = Long.parseLong(f[1]);
    long nice = Long.parseLong(f[2]);
    long system = Long.parseLong(f[3]);
    long idle = Long.parseLong(f[4]);
    long iowait = Long.parseLong(f[5]);
    long irq = Long.parseLong(f[6]);
    long softirq = Long.parseLong(f[7]);
    long steal = f.length > 8 ? Long.parseLong(f[8]) : 0;
    return new HostTicks(user + nice + system + irq + softirq, idle + iowait, iowait, steal);
  }

  /** utime+stime of a process (all its threads, live and exited), or -1 when it is gone. */
  static long cpuTicks(long pid) {
    String[] f = statFields(pid);
    return f == null ? -1 : Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /**
   * utime+stime of the threads of a process named {@code name} (Linux keeps 15 characters of a
   * thread's name), or -1 when there is none.
   */
  static long threadTicks(long pid, String name) {
    long total = -1;
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path t : tasks) {
        String stat = readOrNull(t.resolve("stat"));
        if (stat != null && command(stat).equals(name.length() > 15 ? name.substring(0, 15) : name)) {
          String[] f = fieldsAfterCommand(stat);
          total = Math.max(total, 0) + Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
      }
    } catch (IOException e) {
      return total;
    }
    return total;
  }

  /**
   * CPU of every process named {@code postgres}: utime+stime, plus cutime+cstime because the
   * postmaster accumulates the CPU of backends that already exited (common.js postgresTicks).
   */
  static long postgresTicks() {
    long total = 0;
    try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> isPid(p.getFileName().toString()))) {
      for (Path p : procs) {
        String stat = readOrNull(p.resolve("stat"));
        if (stat == null || !"postgres".equals(command(stat))) {
          continue;
        }
        String[] f = fieldsAfterCommand(stat);
        total += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
      }
    } catch (IOException e) {
      return total;
    }
    return total;
  }

  /** A process's resident set and its high-water mark, in bytes (0 when it is gone). */
  record Rss(long current, long peak) {}

  /** VmRSS and VmHWM from {@code /proc/<pid>/status}. */
  static Rss rss(long pid) {
    String status = readOrNull(Path.of("/proc", Long.toString(pid), "status"));
    if (status == null) {
      return new Rss(0, 0);
    }
    return new Rss(kilobytes(status, "VmRSS:") * 1024, kilobytes(status, "VmHWM:") * 1024);
  }

  private static long kilobytes(String status, String key) {
    for (String line : status.split("\n")) {
      if (line.startsWith(key)) {
        return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
      }
    }
    return 0;
  }

  private static String @org.jspecify.annotations.Nullable [] statFields(long pid) {
    String stat = readOrNull(Path.of("/proc", Long.toString(pid), "stat"));
    return stat == null ? null : fieldsAfterCommand(stat);
  }

  /** The command name sits in parentheses and may itself contain spaces or parentheses. */
  private static String command(String stat) {
    return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  }

  /** Fields from the state (field 3) on: index 11 is utime, 12 stime, 13 cutime, 14 cstime. */
  private static String[] fieldsAfterCommand(String stat) {
    return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
  }

  private static boolean isPid(String name) {
    if (name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (!Character.isDigit(name.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static String firstLine(Path file) {
    String all = readOrNull(file);
    if (all == null) {
      throw new IllegalStateException("cannot read " + file + ": the benchmark needs Linux's /proc");
    }
    int nl = all.indexOf('\n');
    return nl < 0 ? all : all.substring(0, nl);
  }

  private static @org.jspecify.annotations.Nullable String readOrNull(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      // Processes come and go between listing /proc and reading it.
      return null;
    }
  }

  /** Host facts for the report. */
  static Map<String, Object> hostInfo() {
    Map<String, Object> host = new LinkedHashMap<>();
    host.put("cpus", Runtime.getRuntime().availableProcessors());
    host.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
    host.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          host.put("cpu", line.substring(line.indexOf(':') + 1).trim());
          break;
        }
      }
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          host.put("mem_total_gb",
              Math.round(Long.parseLong(line.replaceAll("\\D", "")) / 1024.0 / 1024.0 * 10) / 10.0);
          break;
        }
      }
    } catch (IOException e) {
      // Facts for the report only.
    }
    host.put("open_files_limit", openFilesLimit());
    return host;
  }

  /** The soft limit on open files of this process (each worker connection and each client connection is one). */
  static String openFilesLimit() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          return line.substring("Max open files".length()).trim().split("\\s+")[0];
        }
      }
    } catch (IOException e) {
      return "unknown";
    }
    return "unknown";
  }
}
