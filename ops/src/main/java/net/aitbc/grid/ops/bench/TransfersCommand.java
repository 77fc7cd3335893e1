package net.aitbc.grid.ops.bench;

import static net.aitbc.grid.db.Tables.TRANSFER;

import com.zaxxer.hikari.HikariDataSource;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.store.AccountStore;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.JobStore;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.OutcomeStore;
import net.aitbc.grid.coordinator.store.PaymentStore;
import net.aitbc.grid.coordinator.store.Recorded;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.store.SessionStore;
import net.aitbc.grid.coordinator.store.Submitted;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.TransferKind;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench transfers}: the transfers per second the ledger sustains on its batched paths,
 * driven through the coordinator's own stores without gRPC: batches of paid jobs stored with their
 * escrows (the submit committer's transaction) and completed with their escrows posted (the
 * outcome committer's), from several threads; the same with unpaid jobs for the difference.
 */
@Command(name = "transfers", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {
        "Transfers per second through the ledger's batched paths, against PostgreSQL, without gRPC.",
        "Each of --threads threads is a worker session with its own owner and pays from its own funded client "
            + "account; it repeats: store --batch jobs handed to its session in one transaction (JobStore.insert, as "
            + "the coordinator's submit committer does; a paid job's escrow transfer is made in it), then complete "
            + "them in one transaction (OutcomeStore.record, as the outcome committer does; a paid job's escrow is "
            + "posted to the owner and the fee to the platform: two transfers, the batch's balances changed once "
            + "per account). Three transfers per paid job. Each round measures --jobs unpaid and --jobs paid jobs "
            + "(order alternating), each on a fresh database."})
final class TransfersCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--jobs", defaultValue = "30000", description = "jobs per measurement (default ${DEFAULT-VALUE})")
  int jobs = 30_000;

  @Option(names = "--batch", defaultValue = "500",
      description = "jobs per transaction; the coordinator's committers take up to 1,000 (default ${DEFAULT-VALUE})")
  int batch = 500;

  @Option(names = "--threads", defaultValue = "4",
      description = "threads, each with its own connection; the coordinator runs two submit and two outcome "
          + "committers (default ${DEFAULT-VALUE})")
  int threads = 4;

  @Option(names = "--rounds", defaultValue = "3", description = "pairs of measurements (default ${DEFAULT-VALUE})")
  int rounds = 3;

  @Option(names = "--warmup-jobs", defaultValue = "10000",
      description = "jobs of the same mode before each measurement, not measured (default ${DEFAULT-VALUE})")
  int warmupJobs = 10_000;

  @Option(names = "--amount", defaultValue = "0.10", description = "each paid job's payment (default ${DEFAULT-VALUE})")
  BigDecimal amount = new BigDecimal("0.10");

  @Option(names = "--db-url", defaultValue = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres",
      description = "PostgreSQL server (default ${DEFAULT-VALUE})")
  String dbUrl = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

  @Option(names = "--db-name", defaultValue = "bench_transfers", description = "database to (re)create per measurement")
  String dbName = "bench_transfers";

  /** One measurement. */
  private record Measured(int jobs, long transfers, double seconds, double submitMs, double completeMs,
      double appCores, double postgresCores) {
    double jobsPerS() {
      return jobs / seconds;
    }

    double transfersPerS() {
      return transfers / seconds;
    }
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (jobs < 1 || batch < 1 || threads < 1 || rounds < 1 || warmupJobs < 0) {
      throw new IllegalArgumentException("--jobs, --batch, --threads and --rounds must be at least 1");
    }
    List<Measured> unpaid = new ArrayList<>();
    List<Measured> paid = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (boolean pays : round % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
        Measured m = measure(pays);
        (pays ? paid : unpaid).add(m);
        out.printf(Locale.ROOT, "round %d, %-6s: %,d jobs in %.2f s: %,.0f jobs/s, %,.0f transfers/s; a submit "
                + "transaction %.1f ms, a completion transaction %.1f ms (%d jobs each); cores: this JVM %.2f, "
                + "PostgreSQL %.2f%n", round + 1, pays ? "paid" : "unpaid", m.jobs(), m.seconds(), m.jobsPerS(),
            m.transfersPerS(), m.submitMs(), m.completeMs(), batch, m.appCores(), m.postgresCores());
        out.flush();
      }
    }
    Measured u = median(unpaid);
    Measured p = median(paid);
    // What the transfers add to a batch, divided by the batch's transfers: the ledger's own time.
    double extraMs = (p.submitMs() + p.completeMs()) - (u.submitMs() + u.completeMs());
    out.printf(Locale.ROOT, "median of %d, %d threads, batches of %d: unpaid %,.0f jobs/s; paid %,.0f jobs/s = "
            + "%,.0f transfers/s (escrow, post and fee per job); a batch's two transactions take %.1f ms more with "
            + "payments: %.0f µs a transfer%n", rounds, threads, batch, u.jobsPerS(), p.jobsPerS(), p.transfersPerS(),
        extraMs, 1000 * extraMs / (3.0 * batch));
    out.flush();
    return 0;
  }

  /** One measurement on a fresh database: warm-up, then --jobs jobs from --threads threads. */
  private Measured measure(boolean pays) {
    BenchDatabase db = BenchDatabase.recreate(dbUrl, dbName);
    try (HikariDataSource pool = Database.pool(db.url(), null, null, threads + 1)) {
      DSLContext dsl = Database.dsl(pool);
      JobStore jobStore = new JobStore(dsl);
      PaymentStore payments = new PaymentStore(dsl, CoordinatorConfig.DEFAULT_PAYMENT_FEE_BPS, null);
      OutcomeStore outcomes = new OutcomeStore(dsl, null);
      SessionStore sessions = new SessionStore(dsl);
      AccountStore accounts = new AccountStore(dsl);
      List<Lane> lanes = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Lane lane = new Lane("bench-client-" + t, "bench-worker-" + t, UUID.randomUUID());
        sessions.open(lane.session(), lane.worker(), "bench-owner-" + t, "{}",
            Duration.ofHours(1));
        accounts.deposit(lane.client(), new BigDecimal("1000000000"), Currency.AITBC, null);
        lanes.add(lane);
      }
      Work work = new Work(jobStore, pays ? payments : null, outcomes, pays ? amount : null);
      run(lanes, work, warmupJobs);
      long transfersBefore = transfers(dsl);
      long cpu0 = ProcFs.cpuTicks(ProcessHandle.current().pid());
      long pg0 = ProcFs.postgresTicks();
      long t0 = System.nanoTime();
      long[] nanos = run(lanes, work, jobs);
      double seconds = (System.nanoTime() - t0) / 1e9;
      double cores = (ProcFs.cpuTicks(ProcessHandle.current().pid()) - cpu0) / (double) ProcFs.CLK_TCK / seconds;
      double pgCores = (ProcFs.postgresTicks() - pg0) / (double) ProcFs.CLK_TCK / seconds;
      long made = transfers(dsl) - transfersBefore;
      if (made != (pays ? 3L * jobs : 0)) {
        throw new IllegalStateException((pays ? 3L * jobs : 0) + " transfers expected, " + made + " made");
      }
      double batches = Math.ceil((double) jobs / batch);
      return new Measured(jobs, made, seconds, nanos[0] / 1e6 / batches, nanos[1] / 1e6 / batches, cores, pgCores);
    } finally {
      db.close();
    }
  }

  /** A thread's own session, worker and client. */
  private record Lane(String client, String worker, UUID session) {}

  /** The stores a batch goes through; {@code payments} and {@code amount} are null for unpaid jobs. */
  private record Work(JobStore jobs, @Nullable PaymentStore payments, OutcomeStore outcomes,
      @Nullable BigDecimal amount) {}

  /**
   * Runs {@code total} jobs in batches, shared out among the lanes' threads; returns the nanoseconds
   * all threads spent in submit transactions and in completion transactions.
   */
  private long[] run(List<Lane> lanes, Work work, int total) {
    long[] nanos = new long[2];
    AtomicInteger left = new AtomicInteger(total);
    AtomicReference<@Nullable RuntimeException> failure = new AtomicReference<>();
    List<Thread> running = new ArrayList<>();
    for (Lane lane : lanes) {
      running.add(Thread.ofPlatform().name("bench-ledger-" + lane.worker()).start(() -> {
        long[] mine = new long[2];
        try {
          for (int n = take(left); n > 0 && failure.get() == null; n = take(left)) {
            storeAndComplete(lane, work, n, mine);
          }
        } catch (RuntimeException e) {
          failure.compareAndSet(null, e);
        }
        synchronized (nanos) {
          nanos[0] += mine[0];
          nanos[1] += mine[1];
        }
      }));
    }
    for (Thread t : running) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    RuntimeException e = failure.get();
    if (e != null) {
      throw e;
    }
    synchronized (nanos) {
      return Arrays.copyOf(nanos, 2);
    }
  }

  private int take(AtomicInteger left) {
    int before = left.getAndAdd(-batch);
    return Math.max(0, Math.min(batch, before));
  }

  /** Stores {@code n} jobs handed to the lane's session, then completes them; adds the times to {@code nanos}. */
  private static void storeAndComplete(Lane lane, Work work, int n, long[] nanos) {
    JobIds ids = new JobIds();
    List<NewJob> batch = new ArrayList<>(n);
    NewJob.Placement placement = new NewJob.Placement(lane.session(), lane.worker());
    NewJob.JobPayment payment = work.amount() == null ? null
        : new NewJob.JobPayment(work.amount(), Currency.AITBC, 3600);
    for (int i = 0; i < n; i++) {
      batch.add(new NewJob(ids.next(), lane.client(), null, "noop", null, Submissions.PAYLOAD, Requirements.NONE, 0, 0,
          1, Duration.ofHours(1), Duration.ofMinutes(5), placement, payment));
    }
    long t0 = System.nanoTime();
    List<Submitted> stored = work.jobs().insert(batch, work.payments());
    long t1 = System.nanoTime();
    List<Outcome> done = new ArrayList<>(n);
    for (Submitted s : stored) {
      if (s.refused() != null || s.placed() == null) {
        throw new IllegalStateException("job " + s.job().jobId() + " was not stored running: " + s.refused());
      }
      done.add(new Outcome.Completed(s.job().jobId(), 1, lane.session(), "{}", "{}"));
    }
    List<Recorded> recorded = work.outcomes().record(done, attempt -> Duration.ZERO);
    long t2 = System.nanoTime();
    for (Recorded r : recorded) {
      if (!r.accepted()) {
        throw new IllegalStateException("a completion was refused: " + r.reason());
      }
    }
    nanos[0] += t1 - t0;
    nanos[1] += t2 - t1;
  }

  private static long transfers(DSLContext dsl) {
    return dsl.fetchCount(TRANSFER, TRANSFER.KIND.ne(TransferKind.deposit));
  }

  /** Each figure's median (the middle one, or the mean of the two middle ones). */
  private static Measured median(List<Measured> all) {
    return new Measured(all.getFirst().jobs(), all.getFirst().transfers(), mid(all, Measured::seconds),
        mid(all, Measured::submitMs), mid(all, Measured::completeMs), mid(all, Measured::appCores),
        mid(all, Measured::postgresCores));
  }

  private static double mid(List<Measured> all, ToDoubleFunction<Measured> figure) {
    double[] sorted = all.stream().mapToDouble(figure).sorted().toArray();
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
}
