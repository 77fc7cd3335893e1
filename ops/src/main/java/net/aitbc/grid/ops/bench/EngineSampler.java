package net.aitbc.grid.ops.bench;

import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static net.aitbc.grid.db.Tables.JOB;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * Watches the workflow engine from outside while executions run: every interval, how many
 * wake-ups wait for it and how many jobs wait for a worker (from the database), and at the end
 * the CPU its thread ({@code workflow-engine} in the coordinator) used. A backlog of wake-ups that
 * stays up while few jobs are queued means the engine, not the workers, sets the pace.
 */
final class EngineSampler implements AutoCloseable {
  private static final String ENGINE_THREAD = "workflow-engine";

  private final Connection connection;
  private final DSLContext db;
  private final long coordinatorPid;
  private final long intervalNanos;
  private final List<int[]> samples = new ArrayList<>();
  private final Thread thread;
  private final long startNanos = System.nanoTime();
  private final long engineTicksAtStart;
  private volatile boolean stopped;

  private EngineSampler(String dbUrl, long coordinatorPid, long intervalMillis) throws SQLException {
    this.connection = DriverManager.getConnection(dbUrl);
    this.db = DSL.using(connection, SQLDialect.POSTGRES);
    this.coordinatorPid = coordinatorPid;
    this.intervalNanos = intervalMillis * 1_000_000;
    this.engineTicksAtStart = ProcFs.threadTicks(coordinatorPid, ENGINE_THREAD);
    this.thread = Thread.ofPlatform().name("bench-engine-sampler").daemon().start(this::loop);
  }

  /** Starts sampling the coordinator with this process id over its database, every {@code intervalMillis}. */
  static EngineSampler start(String dbUrl, long coordinatorPid, long intervalMillis) {
    try {
      return new EngineSampler(dbUrl, coordinatorPid, intervalMillis);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot connect to " + dbUrl + ": " + e.getMessage(), e);
    }
  }

  private void loop() {
    while (!stopped) {
      long next = System.nanoTime() + intervalNanos;
      int wakeups = db.fetchCount(EXECUTION_WAKEUP);
      int queued = db.fetchCount(JOB, JOB.STATE.eq(JobState.QUEUED));
      synchronized (samples) {
        samples.add(new int[] {wakeups, queued});
      }
      LockSupport.parkNanos(Math.max(0, next - System.nanoTime()));
    }
  }

  /**
   * Stops sampling; returns the wake-ups waiting (p50, max, and the share of samples with any),
   * the jobs queued (p50, max), and the engine thread's CPU as cores busy over the sampled time.
   */
  Map<String, Object> stop() {
    stopped = true;
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    double wall = (System.nanoTime() - startNanos) / 1e9;
    long engineTicks = ProcFs.threadTicks(coordinatorPid, ENGINE_THREAD) - engineTicksAtStart;
    int[] wakeups;
    int[] queued;
    synchronized (samples) {
      wakeups = samples.stream().mapToInt(s -> s[0]).sorted().toArray();
      queued = samples.stream().mapToInt(s -> s[1]).sorted().toArray();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("samples", wakeups.length);
    out.put("wakeups_waiting_p50", median(wakeups));
    out.put("wakeups_waiting_max", wakeups.length == 0 ? 0 : wakeups[wakeups.length - 1]);
    out.put("share_of_samples_with_wakeups_waiting",
        wakeups.length == 0 ? 0 : CpuMeter.r2((double) Arrays.stream(wakeups).filter(w -> w > 0).count() / wakeups.length));
    out.put("jobs_queued_p50", median(queued));
    out.put("jobs_queued_max", queued.length == 0 ? 0 : queued[queued.length - 1]);
    out.put("engine_thread_cores", engineTicks < 0 ? null : CpuMeter.r2(engineTicks / (double) ProcFs.CLK_TCK / wall));
    return out;
  }

  private static int median(int[] sorted) {
    return sorted.length == 0 ? 0 : sorted[sorted.length / 2];
  }

  @Override
  public void close() {
    stopped = true;
    try {
      connection.close();
    } catch (SQLException e) {
      // Nothing is left to do with it.
    }
  }
}
