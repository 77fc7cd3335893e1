package net.aitbc.grid.coordinator.jmh;

import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Stores;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Offer;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The three writes every job costs, in batches as the coordinator makes them, against the real
 * PostgreSQL on 127.0.0.1:5432: the insert (group commit), the claim, and the fenced completion.
 * Scores are per job.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class StoreBenchmark {
  private static final int BATCH = 1000;

  @Param({"1000"})
  public int batch;

  private TestDatabase db;
  private HikariDataSource pool;
  private Stores stores;
  private final JobIds ids = new JobIds();
  private final UUID session = UUID.randomUUID();
  private final Offer offer = Offer.of(List.of("noop"), List.of(), List.of(), 0, "", 0, "");

  @Setup(Level.Trial)
  public void open() {
    db = TestDatabase.create();
    pool = Database.pool(db.url(), null, null, 4);
    Database.migrate(pool);
    stores = Stores.over(Database.dsl(pool), null);
  }

  @TearDown(Level.Trial)
  public void close() {
    pool.close();
    db.close();
  }

  private List<NewJob> newJobs() {
    List<NewJob> batchOfJobs = new ArrayList<>(BATCH);
    for (int i = 0; i < BATCH; i++) {
      batchOfJobs.add(new NewJob(ids.next(), "bench", null, "noop", null, "{\"type\":\"noop\"}", Requirements.NONE, 5, i,
          3, Duration.ofHours(1), Duration.ofMinutes(10), null));
    }
    return batchOfJobs;
  }

  /** One group-committed INSERT of a batch of no-op jobs. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object insert() {
    return stores.jobs().insert(newJobs());
  }

  /** A claim of a batch, then the fenced completion of every job in it (two transactions). */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public Object claimAndComplete() {
    stores.jobs().insert(newJobs());
    List<ClaimedJob> claimed = stores.claims().claim(offer, BATCH, session, "bench-worker");
    List<Outcome> outcomes = new ArrayList<>(claimed.size());
    for (ClaimedJob c : claimed) {
      outcomes.add(new Outcome.Completed(c.jobId(), c.attempt(), session, "{}", "{}"));
    }
    return stores.outcomes().record(outcomes, attempt -> Duration.ZERO);
  }
}
