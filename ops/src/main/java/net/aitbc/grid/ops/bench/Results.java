package net.aitbc.grid.ops.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a benchmark run reports, as JSON-ready records. Field names come out in snake_case and
 * follow the peers' documents where the meaning is the same ({@code jobs_per_s}, {@code
 * e2e.p50_ms}, {@code cpu.other_cores}), so one reader handles both.
 */
final class Results {
  private Results() {}

  /** The JSON writer and reader for every result document. */
  static ObjectMapper json() {
    return new ObjectMapper()
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .setSerializationInclusion(JsonInclude.Include.NON_NULL)
        .enable(SerializationFeature.INDENT_OUTPUT);
  }

  /** Latency percentiles in milliseconds (nearest-rank, as common.js computes them). */
  record Latency(int n, @Nullable Double p50Ms, @Nullable Double p90Ms, @Nullable Double p99Ms,
      @Nullable Double maxMs, @Nullable Double minMs) {

    /** Percentiles of the first {@code count} durations, given in nanoseconds. */
    static Latency ofNanos(long[] nanos, int count) {
      long[] s = Arrays.copyOf(nanos, count);
      Arrays.sort(s);
      if (count == 0) {
        return new Latency(0, null, null, null, null, null);
      }
      return new Latency(count, ms(pct(s, 50)), ms(pct(s, 90)), ms(pct(s, 99)), ms(s[count - 1]), ms(s[0]));
    }

    private static long pct(long[] sorted, double p) {
      int i = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1));
      return sorted[i];
    }

    // Microsecond resolution: the targets are around one millisecond, the peers' 0.1 ms is too coarse.
    private static double ms(long nanos) {
      return Math.round(nanos / 1_000.0) / 1_000.0;
    }
  }

  /**
   * Average cores busy over a phase (the host has {@code Runtime.availableProcessors()}):
   * coordinator JVM, all postgres processes, this benchmark's JVM (its in-process workers, REST
   * bridge and clients), and everything else on the host.
   */
  record Cpu(double wallS, double coordinatorCores, double postgresCores, double benchCores, double hostBusyCores,
      double otherCores, double stealCores, double iowaitCores) {}

  /** The coordinator's memory at the end of a phase, and its GC pauses during it. */
  record Memory(double rssMb, double rssPeakMb, @Nullable Double heapUsedMb, @Nullable Double heapCommittedMb,
      @Nullable Long gcPauses, @Nullable Double gcPauseMs) {}

  /** How long a phase waited for the host to be quiet, and whether it got quiet. */
  record Gate(double waitedS, double busyCores, boolean quiet) {}

  /**
   * One measured phase. Submit phases fill {@code latency} (per call); the latency phase fills
   * {@code e2e} and {@code pickup}; the embedding phase fills {@code details}.
   *
   * @param what the phase in words, for the table
   * @param jobs jobs that succeeded (acknowledged submissions, or accepted outcomes)
   * @param errors failed calls or refused outcomes
   * @param errorKinds errors by kind (gRPC code or HTTP status), with a sample message
   * @param seconds the measured interval
   * @param jobsPerS jobs divided by seconds
   */
  record Phase(String what, int jobs, int errors, @Nullable Map<String, String> errorKinds, double seconds,
      long jobsPerS, @Nullable Latency latency, @Nullable Latency e2e, @Nullable Latency pickup,
      @Nullable Map<String, Object> details, Cpu cpu, Memory coordinator, Gate quietGate, boolean noisy,
      boolean timedOut) {}

  /** Jobs in the benchmark's database by state at the end, against what the clients were told. */
  record DbCheck(long submissionsAcknowledged, long jobsInDb, long outcomesAccepted, long completedInDb,
      long unfinishedInDb) {}

  /** The whole run. */
  record Run(String lib, String startedAt, Map<String, Object> params, Map<String, Object> host,
      Map<String, String> server, Map<String, Phase> phases, Map<String, Phase> drains, List<String> timedOut,
      @Nullable DbCheck dbCheck, String coordinatorLog, double totalSeconds) {}

  /** A scale run: many connected workers, the coordinator's footprint, latency next to the baseline. */
  record ScaleRun(String lib, String startedAt, Map<String, Object> params, Map<String, Object> host,
      Map<String, String> server, Map<String, Object> scale, Map<String, Phase> phases, List<String> timedOut,
      String coordinatorLog, double totalSeconds) {}
}
