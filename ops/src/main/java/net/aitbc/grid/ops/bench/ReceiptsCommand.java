package net.aitbc.grid.ops.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.v1.GetSyncStatusRequest;
import net.aitbc.grid.v1.GetSyncStatusResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench receipts}: what signed receipts and sealing cost the {@code process} phase. Each
 * round runs the phase on a fresh coordinator without a signing key and on one with it (the order
 * alternates), and reports both rates, their medians and the ratio; with receipts on, also how long
 * the ledger took to seal the backlog's receipts after the last outcome was acknowledged.
 */
@Command(name = "receipts", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {
        "The cost of receipts: the process phase with receipts off and on, in interleaved rounds.",
        "Each round starts a fresh coordinator (and database) per mode, warms it up, queues a backlog of --n jobs "
            + "(not measured) and measures --workers bench workers draining it; with receipts on, the workers sign "
            + "their completions in batches, the coordinator verifies them and stores a receipt with each, and blocks "
            + "are sealed every --blocks-every receipts or --block-interval."})
final class ReceiptsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--n", defaultValue = "50000", description = "backlog per measurement (default ${DEFAULT-VALUE})")
  int n = 50_000;

  @Option(names = "--rounds", defaultValue = "3", description = "pairs of measurements (default ${DEFAULT-VALUE})")
  int rounds = 3;

  @Option(names = "--warmup-jobs", defaultValue = "20000",
      description = "jobs processed before each measurement, not measured (default ${DEFAULT-VALUE})")
  int warmupJobs = 20_000;

  @Option(names = "--blocks-every", defaultValue = "1000", description = "receipts per block (default ${DEFAULT-VALUE})")
  int blocksEvery = 1000;

  @Option(names = "--block-interval", defaultValue = "1s", description = "the longest a receipt waits for its block")
  String blockInterval = "1s";

  @Mixin CommonOptions common = new CommonOptions();

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    Path keyFile = Files.createTempFile("grid-bench-signing", ".key");
    Files.delete(keyFile);
    SigningKey.generate().save(keyFile);
    List<Long> off = new ArrayList<>();
    List<Long> on = new ArrayList<>();
    List<Double> sealSeconds = new ArrayList<>();
    try {
      for (int round = 0; round < rounds; round++) {
        for (boolean receipts : round % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
          List<String> args = receipts ? List.of("--signing-key-file", keyFile.toString(), "--blocks-every",
              Integer.toString(blocksEvery), "--block-interval", blockInterval) : List.of();
          try (BenchGrid grid = BenchGrid.start(common, out, false, args)) {
            grid.warmUp(warmupJobs, 8, 256, common.workers, common.workerCredits, null);
            waitSealed(grid, receipts);
            var log = Submissions.inFlight(n, 256, System.nanoTime() + Duration.ofMinutes(5).toNanos(),
                () -> Submissions.createJobAsync(grid.asyncStub()));
            grid.acknowledged(log.ok());
            Results.Phase p = grid.phase("process " + (receipts ? "with" : "without") + " receipts",
                w -> grid.process(log.ok(), common.workers, common.workerCredits, grid.deadline(), w));
            (receipts ? on : off).add(p.jobsPerS());
            String sealed = "";
            if (receipts) {
              double s = waitSealed(grid, true);
              sealSeconds.add(s);
              sealed = String.format(Locale.ROOT, "; all receipts sealed %.2f s after the last acknowledgement", s);
            }
            out.println(Report.line("process", p));
            out.printf(Locale.ROOT, "round %d, receipts %-3s: %,d jobs/s (%d jobs, %d errors)%s%n", round + 1,
                receipts ? "on" : "off", p.jobsPerS(), p.jobs(), p.errors(), sealed);
            out.flush();
          }
        }
      }
    } finally {
      Files.deleteIfExists(keyFile);
    }
    long offMedian = median(off, 0L);
    long onMedian = median(on, 0L);
    out.printf(Locale.ROOT, "process, median of %d: receipts off %,d jobs/s, on %,d jobs/s: ratio on/off %.2f "
            + "(cost %.0f %%); sealing caught up in %.2f s (median)%n", rounds, offMedian, onMedian,
        (double) onMedian / offMedian, 100.0 * (1 - (double) onMedian / offMedian), median(sealSeconds, 0.0));
    return 0;
  }

  /** Waits until every receipt is sealed; returns the seconds waited. */
  private static double waitSealed(BenchGrid grid, boolean receipts) {
    long start = System.nanoTime();
    if (!receipts) {
      return 0;
    }
    long deadline = start + Duration.ofMinutes(2).toNanos();
    while (System.nanoTime() < deadline) {
      GetSyncStatusResponse s = grid.explorer().getSyncStatus(GetSyncStatusRequest.getDefaultInstance());
      if (s.getUnsealed() == 0) {
        break;
      }
      LockSupport.parkNanos(Duration.ofMillis(10).toNanos());
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private static <T extends Comparable<T>> T median(List<T> values, T none) {
    List<T> sorted = values.stream().sorted().toList();
    return sorted.isEmpty() ? none : sorted.get(sorted.size() / 2);
  }
}
