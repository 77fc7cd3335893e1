package net.aitbc.grid.ops.bench;

import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.JOB;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/**
 * What the database says of a set of executions of a linear workflow: the coordinator's own
 * timestamps of each execution and step job, all from one clock. Each timestamp is taken at the
 * start of the transaction that writes it: a job's {@code created_at} when its insert began,
 * {@code started_at} when a worker's claim of it began, {@code finished_at} when its outcome's
 * transaction began.
 *
 * @param executions executions read
 * @param completed those that completed
 * @param seconds from the first execution's creation to the last one's end
 * @param executionsPerS executions over seconds
 * @param stepOverhead a step job's outcome to the next step's job created (one sample per step pair)
 * @param handoff as the bench workers saw it: a step job's OutcomeAck received to the next step's
 *     Assignment received (their clock); null without the workers' times
 * @param queuedToStarted each step job's creation to its start on a worker: 0 when the coordinator
 *     placed it on a worker with a free slot in the transaction that inserted it
 * @param startOverhead an execution's creation to its first step job's creation
 * @param finishOverhead the last step job's outcome to its execution's end
 * @param e2e an execution's creation to its end
 */
record WorkflowTimings(int executions, int completed, double seconds, double executionsPerS,
    Results.Latency stepOverhead, Results.@Nullable Latency handoff, Results.Latency queuedToStarted,
    Results.Latency startOverhead, Results.Latency finishOverhead, Results.Latency e2e) {

  /**
   * Reads the executions {@code ids} of a workflow whose steps run one after the other in
   * {@code steps}' order; with {@code workers} (a tracker that kept times), also the handoffs.
   */
  static WorkflowTimings read(String dbUrl, Collection<UUID> ids, List<String> steps, @Nullable Tracker workers) {
    try (Connection c = DriverManager.getConnection(dbUrl)) {
      DSLContext db = DSL.using(c, SQLDialect.POSTGRES);
      var executions = db.select(EXECUTION.EXECUTION_ID, EXECUTION.STATUS, EXECUTION.CREATED_AT, EXECUTION.ENDED_AT)
          .from(EXECUTION).where(EXECUTION.EXECUTION_ID.in(ids)).fetch();
      Map<UUID, Map<String, Job>> jobs = new HashMap<>();
      db.select(JOB.EXECUTION_ID, JOB.REQUEST_ID, JOB.JOB_ID, JOB.CREATED_AT, JOB.STARTED_AT, JOB.FINISHED_AT).from(JOB)
          .where(JOB.EXECUTION_ID.in(ids))
          .forEach(r -> jobs.computeIfAbsent(r.value1(), k -> new HashMap<>())
              .put(step(r.value2()), new Job(JobIds.format(r.value3()), r.value4(), r.value5(), r.value6())));

      int n = executions.size();
      int pairs = Math.max(0, steps.size() - 1);
      Samples overhead = new Samples(n * pairs);
      Samples handoff = new Samples(n * pairs);
      Samples queued = new Samples(n * steps.size());
      Samples start = new Samples(n);
      Samples finish = new Samples(n);
      Samples e2e = new Samples(n);
      int completed = 0;
      OffsetDateTime first = null;
      OffsetDateTime last = null;
      for (var e : executions) {
        OffsetDateTime created = e.value3();
        OffsetDateTime ended = e.value4();
        first = first == null || created.isBefore(first) ? created : first;
        if (ended != null) {
          last = last == null || ended.isAfter(last) ? ended : last;
          e2e.add(created, ended);
        }
        if (e.value2() == ExecutionStatus.completed) {
          completed++;
        }
        Map<String, Job> mine = jobs.getOrDefault(e.value1(), Map.of());
        for (int i = 0; i < steps.size(); i++) {
          Job j = mine.get(steps.get(i));
          if (j == null) {
            continue;
          }
          queued.add(j.created(), j.started());
          if (i == 0) {
            start.add(created, j.created());
          } else {
            Job before = mine.get(steps.get(i - 1));
            if (before != null) {
              overhead.add(before.finished(), j.created());
              if (workers != null) {
                handoff.add(workers.acceptedAt(before.id()), workers.assignedAt(j.id()));
              }
            }
          }
          if (i == steps.size() - 1) {
            finish.add(j.finished(), ended);
          }
        }
      }
      double seconds = first == null || last == null ? 0 : Duration.between(first, last).toNanos() / 1e9;
      return new WorkflowTimings(n, completed, Math.round(seconds * 1000) / 1000.0,
          seconds > 0 ? Math.round(completed / seconds * 10) / 10.0 : 0, overhead.latency(),
          workers == null ? null : handoff.latency(), queued.latency(), start.latency(), finish.latency(), e2e.latency());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read the executions from " + dbUrl + ": " + e.getMessage(), e);
    }
  }

  /** The step a step job's request id ({@code wf:<execution>:<step>#<item>}) names. */
  private static String step(@Nullable String requestId) {
    if (requestId == null) {
      return "";
    }
    int colon = requestId.lastIndexOf(':');
    int hash = requestId.lastIndexOf('#');
    return colon < 0 || hash < colon ? requestId : requestId.substring(colon + 1, hash);
  }

  private record Job(String id, OffsetDateTime created, @Nullable OffsetDateTime started,
      @Nullable OffsetDateTime finished) {}

  /** Durations between pairs of timestamps; a pair with a missing end is left out. */
  private static final class Samples {
    private final long[] nanos;
    private int count;

    Samples(int capacity) {
      nanos = new long[Math.max(1, capacity)];
    }

    void add(@Nullable OffsetDateTime from, @Nullable OffsetDateTime to) {
      if (from != null && to != null) {
        add(Duration.between(from, to).toNanos());
      }
    }

    /** A duration between two System.nanoTime readings. */
    void add(@Nullable Long from, @Nullable Long to) {
      if (from != null && to != null) {
        add(to - from);
      }
    }

    private void add(long duration) {
      if (count < nanos.length) {
        nanos[count++] = duration;
      }
    }

    Results.Latency latency() {
      return Results.Latency.ofNanos(nanos, count);
    }
  }
}
