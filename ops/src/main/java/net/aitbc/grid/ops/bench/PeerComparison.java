package net.aitbc.grid.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Grid results next to the peers' (graphile-worker, pg-boss) from the same machine: medians over
 * runs of the comparable measures, and grid/peer ratios. Peer runs are the JSON documents their
 * {@code run-all.sh} (or {@code ops/bench/side-by-side.sh}) writes, one per file, keyed by
 * {@code profile}.
 */
final class PeerComparison {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A measure on both sides; ratios of throughput are better above 1, of latency below 1. */
  record Measure(String label, String gridPath, String peerPath, boolean higherIsBetter) {}

  /** The comparable rows: enqueue_single ↔ both gRPC submit rows, process_1 ↔ process, latency ↔ latency. */
  static final List<Measure> MEASURES = List.of(
      new Measure("submit, 1 job/call, 8 closed-loop producers (jobs/s)", "phases.submit_grpc.jobs_per_s",
          "phases.enqueue_single.jobs_per_s", true),
      new Measure("submit, 1 job/call, one caller with calls in flight (jobs/s)", "phases.submit_grpc_async.jobs_per_s",
          "phases.enqueue_single.jobs_per_s", true),
      new Measure("process a backlog of N (jobs/s)", "phases.process.jobs_per_s", "phases.process_1.jobs_per_s", true),
      new Measure("latency e2e p50 (ms)", "phases.latency.e2e.p50_ms", "phases.latency.e2e.p50_ms", false),
      new Measure("latency e2e p90 (ms)", "phases.latency.e2e.p90_ms", "phases.latency.e2e.p90_ms", false),
      new Measure("latency e2e p99 (ms)", "phases.latency.e2e.p99_ms", "phases.latency.e2e.p99_ms", false),
      new Measure("latency e2e max (ms)", "phases.latency.e2e.max_ms", "phases.latency.e2e.max_ms", false),
      new Measure("latency pickup p50 (ms)", "phases.latency.pickup.p50_ms", "phases.latency.pickup.p50_ms", false));

  /** Grid-only rows shown under the comparison. */
  private static final List<Measure> GRID_ONLY = List.of(
      new Measure("REST submit, 8 closed-loop producers (jobs/s)", "phases.submit_rest.jobs_per_s", "", true),
      new Measure("REST submit, calls in flight (jobs/s)", "phases.submit_rest_async.jobs_per_s", "", true),
      new Measure("embedding grid/direct", "phases.embedding.details.grid_over_direct", "", true));

  private PeerComparison() {}

  /** Every peer run under these folders (not recursive), keyed by profile (or library name), in file order. */
  static Map<String, List<JsonNode>> readPeers(List<Path> dirs) {
    Map<String, List<JsonNode>> byProfile = new TreeMap<>();
    for (Path dir : dirs) {
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
          JsonNode run = lastJsonLine(f);
          if (run == null || !run.has("phases") || "aitbc-grid".equals(run.path("lib").asText())) {
            continue;
          }
          String profile = run.path("profile").asText(run.path("lib").asText(f.getFileName().toString()));
          byProfile.computeIfAbsent(profile, k -> new ArrayList<>()).add(run);
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read peer results in " + dir, e);
      }
    }
    return byProfile;
  }

  /** Grid runs from these JSON files (written by {@code grid bench --json}). */
  static List<JsonNode> readGrid(List<Path> files) {
    List<JsonNode> runs = new ArrayList<>();
    for (Path f : files) {
      JsonNode run = lastJsonLine(f);
      if (run == null) {
        throw new IllegalArgumentException(f + " holds no JSON document");
      }
      runs.add(run);
    }
    return runs;
  }

  /** The file's JSON document; the peers' files end with it on one line, ours are the whole file. */
  private static @Nullable JsonNode lastJsonLine(Path f) {
    try {
      String text = Files.readString(f).trim();
      if (text.isEmpty()) {
        return null;
      }
      try {
        return JSON.readTree(text);
      } catch (IOException whole) {
        String[] lines = text.split("\n");
        return JSON.readTree(lines[lines.length - 1]);
      }
    } catch (IOException e) {
      return null;
    }
  }

  /** Prints the side-by-side table: medians (with the number of runs) and grid/peer ratios. */
  static void print(PrintWriter out, List<JsonNode> grid, Map<String, List<JsonNode>> peers) {
    List<String> profiles = new ArrayList<>(peers.keySet());
    out.println();
    out.printf("Side by side (medians; grid: %d run(s)%s). Ratios are grid/peer: above 1 is better for jobs/s, "
        + "below 1 is better for latency.%n", grid.size(), peerCounts(peers));
    StringBuilder head = new StringBuilder("| measure | grid |");
    StringBuilder rule = new StringBuilder("|---|---:|");
    for (String p : profiles) {
      head.append(' ').append(p).append(" | grid/").append(p).append(" |");
      rule.append("---:|---:|");
    }
    out.println(head);
    out.println(rule);
    for (Measure m : MEASURES) {
      Double g = median(grid, m.gridPath());
      StringBuilder row = new StringBuilder("| " + m.label() + " | " + fmt(g) + " |");
      for (String p : profiles) {
        Double v = median(peers.get(p), m.peerPath());
        row.append(' ').append(fmt(v)).append(" | ").append(ratio(g, v)).append(" |");
      }
      out.println(row);
    }
    for (Measure m : GRID_ONLY) {
      Double g = median(grid, m.gridPath());
      if (g != null) {
        out.println("| " + m.label() + " | " + fmt(g) + " |" + " |".repeat(profiles.size() * 2));
      }
    }
    Double restClosed = median(grid, "phases.submit_rest.jobs_per_s");
    Double grpcClosed = median(grid, "phases.submit_grpc.jobs_per_s");
    Double restAsync = median(grid, "phases.submit_rest_async.jobs_per_s");
    Double grpcAsync = median(grid, "phases.submit_grpc_async.jobs_per_s");
    if (restClosed != null && grpcClosed != null) {
      out.printf(Locale.ROOT, "REST/gRPC submit: closed loop %s, in flight %s%n", ratio(restClosed, grpcClosed),
          ratio(restAsync, grpcAsync));
    }
  }

  private static String peerCounts(Map<String, List<JsonNode>> peers) {
    StringBuilder b = new StringBuilder();
    peers.forEach((p, runs) -> b.append("; ").append(p).append(": ").append(runs.size()).append(" run(s)"));
    return b.toString();
  }

  /** The median of a numeric field over runs (mean of the middle two for an even count, as summarize.js). */
  static @Nullable Double median(@Nullable List<JsonNode> runs, String path) {
    if (runs == null) {
      return null;
    }
    List<Double> values = new ArrayList<>();
    for (JsonNode run : runs) {
      JsonNode n = run;
      for (String part : path.split("\\.")) {
        n = n.path(part);
      }
      if (n.isNumber()) {
        values.add(n.asDouble());
      }
    }
    return values.isEmpty() ? null : EmbeddingBench.median(values);
  }

  private static String ratio(@Nullable Double grid, @Nullable Double peer) {
    if (grid == null || peer == null || peer == 0) {
      return "-";
    }
    double r = grid / peer;
    return r >= 10 ? String.format(Locale.ROOT, "%.1f", r) : String.format(Locale.ROOT, "%.2f", r);
  }

  private static String fmt(@Nullable Double v) {
    if (v == null) {
      return "-";
    }
    if (Math.abs(v) >= 100) {
      return String.format(Locale.ROOT, "%,d", Math.round(v));
    }
    return String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.1f" : "%.3g", v);
  }

  /** The rows as a map, for tests: measure label to grid median. */
  static Map<String, @Nullable Double> gridMedians(List<JsonNode> grid) {
    Map<String, @Nullable Double> out = new LinkedHashMap<>();
    for (Measure m : MEASURES) {
      out.put(m.label(), median(grid, m.gridPath()));
    }
    return out;
  }
}
