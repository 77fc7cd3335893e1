package net.aitbc.grid.ops.bench;

import java.nio.file.Path;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** Options that {@code grid bench} and {@code grid bench scale} share. */
final class CommonOptions {
  @Option(names = "--db-url", defaultValue = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres",
      description = "PostgreSQL server (any database on it); the benchmark drops and creates its own database there "
          + "(default ${DEFAULT-VALUE})")
  String dbUrl = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

  @Option(names = "--db-name", defaultValue = "bench_grid",
      description = "the benchmark's database, dropped and created at start (default ${DEFAULT-VALUE})")
  String dbName = "bench_grid";

  @Option(names = "--reuse-db",
      description = "use --db-name as it is, with the jobs it holds (created if missing, migrated), instead of "
          + "dropping it: to measure with history in the job table (ops/bench/fill-history.sql)")
  boolean reuseDb;

  @Option(names = "--coordinator-opts", defaultValue = "-Xmx1g",
      description = "JVM options of the coordinator's JVM, space-separated (default ${DEFAULT-VALUE})")
  String coordinatorOpts = "-Xmx1g";

  @Option(names = "--workers", defaultValue = "4", description = "in-process bench workers (default ${DEFAULT-VALUE})")
  int workers = 4;

  @Option(names = "--worker-credits", defaultValue = "1000",
      description = "credits each bench worker grants and keeps outstanding (default ${DEFAULT-VALUE})")
  int workerCredits = 1000;

  @Option(names = "--latency-jobs", defaultValue = "2000",
      description = "jobs of the latency phase (default ${DEFAULT-VALUE})")
  int latencyJobs = 2000;

  @Option(names = "--latency-rate", defaultValue = "100",
      description = "jobs per second of the latency phase, one call at a time (default ${DEFAULT-VALUE})")
  double latencyRate = 100;

  @Option(names = "--phase-timeout", defaultValue = "60s", converter = Seconds.class,
      description = "cap per phase; a capped phase reports what it did and is listed as timed out (default ${DEFAULT-VALUE})")
  Duration phaseTimeout = Duration.ofSeconds(60);

  @Option(names = "--gate-max-busy", defaultValue = "0.3",
      description = "a phase starts once the host's busy CPU is below this many cores ... (default ${DEFAULT-VALUE})")
  double gateMaxBusy = 0.3;

  @Option(names = "--gate-max-wait", defaultValue = "12s", converter = Seconds.class,
      description = "... or after this long anyway; 0s skips the wait (default ${DEFAULT-VALUE})")
  Duration gateMaxWait = Duration.ofSeconds(12);

  @Option(names = "--json", description = "also write the full result as JSON to this file")
  @Nullable Path json;

  @Option(names = "--log-dir",
      description = "where the coordinator's log goes (default: a new folder under the system's temp folder)")
  @Nullable Path logDir;

  /** A phase whose other processes used more than this many cores is flagged noisy (as the peers do). */
  static final double NOISY_OTHER_CORES = 0.3;
}
