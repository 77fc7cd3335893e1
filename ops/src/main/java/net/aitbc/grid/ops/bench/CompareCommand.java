package net.aitbc.grid.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code grid bench compare}: medians of several grid runs next to the peers' runs, with ratios. */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Grid runs next to the peers' runs: medians and grid/peer ratios.",
        "Reads grid results (grid bench --json files) and the peers' (folders of their result JSON)."})
final class CompareCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--grid", split = ",", required = true, description = "grid result JSON file(s)")
  List<Path> grid = new ArrayList<>();

  @Option(names = "--peers", split = ",", description = "folder(s) holding the peers' result JSON")
  List<Path> peers = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<JsonNode> runs = PeerComparison.readGrid(grid);
    out.println("Grid runs:");
    for (int i = 0; i < runs.size(); i++) {
      JsonNode r = runs.get(i);
      out.printf(Locale.ROOT, "  %s: submit %s / async %s / REST %s / REST async %s jobs/s; process %s jobs/s; "
          + "latency p50 %s p99 %s ms; embedding grid/direct %s%n", label(grid.get(i)),
          r.at("/phases/submit_grpc/jobs_per_s").asText("-"), r.at("/phases/submit_grpc_async/jobs_per_s").asText("-"),
          r.at("/phases/submit_rest/jobs_per_s").asText("-"), r.at("/phases/submit_rest_async/jobs_per_s").asText("-"),
          r.at("/phases/process/jobs_per_s").asText("-"), r.at("/phases/latency/e2e/p50_ms").asText("-"),
          r.at("/phases/latency/e2e/p99_ms").asText("-"),
          r.at("/phases/embedding/details/grid_over_direct").asText("-"));
    }
    PeerComparison.print(out, runs, PeerComparison.readPeers(peers));
    out.flush();
    return 0;
  }

  /** The file with its folder (side-by-side rounds all write grid.json). */
  private static String label(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    return parent == null ? file.toString() : parent.getFileName() + "/" + file.getFileName();
  }
}
