package net.aitbc.grid.ops.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.aitbc.grid.ops.process.GridProcess;
import net.aitbc.grid.ops.process.Ports;
import org.jspecify.annotations.Nullable;

/**
 * {@code grid coordinator} in a JVM of its own, so that its CPU and memory can be told apart from
 * the benchmark's. Its output goes to a log file; its Prometheus endpoint gives heap, GC and
 * connected workers.
 */
final class CoordinatorProcess implements AutoCloseable {
  private static final String READY = "coordinator listening on";
  private static final Pattern COMMITTER = Pattern.compile("committer=\"([^\"]+)\"");

  private final GridProcess process;
  private final int grpcPort;
  private final int metricsPort;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private CoordinatorProcess(GridProcess process, int grpcPort, int metricsPort) {
    this.process = process;
    this.grpcPort = grpcPort;
    this.metricsPort = metricsPort;
  }

  /**
   * Starts the coordinator on free loopback ports with these JVM options and extra coordinator
   * arguments, and waits until it listens.
   */
  static CoordinatorProcess start(String dbUrl, List<String> jvmOptions, List<String> extraArgs, Path log) {
    int grpcPort = Ports.free();
    int metricsPort = Ports.free();
    List<String> args = new ArrayList<>(List.of("coordinator", "--db-url", dbUrl, "--host", "127.0.0.1",
        "--port", Integer.toString(grpcPort), "--metrics-port", Integer.toString(metricsPort), "--rate-limit", "0",
        "--max-queued", "100000000"));
    args.addAll(extraArgs);
    GridProcess p = GridProcess.builder("the coordinator", log).jvmOptions(jvmOptions).start(args);
    try {
      p.awaitLog(READY, Duration.ofSeconds(60));
    } catch (RuntimeException e) {
      p.close();
      throw e;
    }
    return new CoordinatorProcess(p, grpcPort, metricsPort);
  }

  /** The gRPC port. */
  int grpcPort() {
    return grpcPort;
  }

  /** The process id. */
  long pid() {
    return process.pid();
  }

  /** Where its output goes. */
  Path log() {
    return process.log();
  }

  /** What the Prometheus endpoint says now; null parts when it does not answer. */
  record Scrape(@Nullable Double heapUsed, @Nullable Double heapCommitted, @Nullable Long gcPauses,
      @Nullable Double gcPauseSeconds, @Nullable Double workersConnected) {}

  /** Reads the heap (all heap pools summed), GC pauses and connected workers from /metrics. */
  Scrape scrape() {
    String text = metricsText();
    Double heapUsed = null;
    Double heapCommitted = null;
    Double pauses = null;
    Double pauseSeconds = null;
    Double workers = null;
    for (String line : text.split("\n")) {
      if (line.startsWith("#")) {
        continue;
      }
      if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
        heapUsed = add(heapUsed, value(line));
      } else if (line.startsWith("jvm_memory_committed_bytes{") && line.contains("area=\"heap\"")) {
        heapCommitted = add(heapCommitted, value(line));
      } else if (line.startsWith("jvm_gc_pause_seconds_count{")) {
        pauses = add(pauses, value(line));
      } else if (line.startsWith("jvm_gc_pause_seconds_sum{")) {
        pauseSeconds = add(pauseSeconds, value(line));
      } else if (line.startsWith("grid_workers_connected ") || line.startsWith("grid_workers_connected{")) {
        workers = value(line);
      }
    }
    return new Scrape(heapUsed, heapCommitted, pauses == null ? null : pauses.longValue(), pauseSeconds, workers);
  }

  /** A committer's group commits so far: transactions, the items in them, and their seconds. */
  record Commits(double transactions, double items, double seconds) {
    /** What happened between {@code before} and this. */
    Commits since(Commits before) {
      return new Commits(transactions - before.transactions, items - before.items, seconds - before.seconds);
    }
  }

  /** Each group committer's commits so far (the grid.commit timer and grid.commit.batch summary), by name. */
  Map<String, Commits> commits() {
    Map<String, double[]> sums = new TreeMap<>();
    List<String> names = List.of("grid_commit_seconds_count{", "grid_commit_batch_sum{", "grid_commit_seconds_sum{");
    for (String line : metricsText().split("\n")) {
      for (int i = 0; i < names.size(); i++) {
        Matcher m = COMMITTER.matcher(line);
        if (line.startsWith(names.get(i)) && m.find()) {
          sums.computeIfAbsent(m.group(1), k -> new double[3])[i] = value(line);
        }
      }
    }
    Map<String, Commits> out = new TreeMap<>();
    sums.forEach((k, v) -> out.put(k, new Commits(v[0], v[1], v[2])));
    return out;
  }

  private String metricsText() {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static double add(@Nullable Double sum, double v) {
    return sum == null ? v : sum + v;
  }

  private static double value(String line) {
    // Prometheus text: `name{labels} value`; label values may contain spaces ("end of minor GC"),
    // and Micrometer writes no timestamps, so the value is the last field.
    String t = line.trim();
    return Double.parseDouble(t.substring(t.lastIndexOf(' ') + 1));
  }

  /** Its memory now, with the GC pauses since {@code before}. */
  Results.Memory memory(Scrape before) {
    Scrape now = scrape();
    ProcFs.Rss rss = ProcFs.rss(pid());
    Long pauses = now.gcPauses() == null || before.gcPauses() == null ? null : now.gcPauses() - before.gcPauses();
    Double pauseMs = now.gcPauseSeconds() == null || before.gcPauseSeconds() == null ? null
        : Math.round((now.gcPauseSeconds() - before.gcPauseSeconds()) * 10_000) / 10.0;
    return new Results.Memory(mb(rss.current()), mb(rss.peak()), now.heapUsed() == null ? null : mb(now.heapUsed()),
        now.heapCommitted() == null ? null : mb(now.heapCommitted()), pauses, pauseMs);
  }

  /** Asks the coordinator JVM for a full GC (jcmd GC.run), so that heap used shows what is live. */
  boolean collectGarbage() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    if (!Files.isExecutable(jcmd)) {
      return false;
    }
    try {
      Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), "GC.run").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Bytes in MiB, one decimal. */
  static double mb(double bytes) {
    return Math.round(bytes / (1024 * 1024) * 10) / 10.0;
  }

  /** SIGTERM (the coordinator shuts down gracefully), then SIGKILL after 30 s. */
  @Override
  public void close() {
    process.close();
  }
}
