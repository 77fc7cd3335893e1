package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker whose stream stalls without closing (SIGSTOP: its connection stays open, it reads and
 * writes nothing) loses its leases; its jobs complete on another worker, and whatever it reports
 * for those old attempts once it wakes up (SIGCONT) is refused.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class StalledWorkerIT {
  private static final int HELD = 4;

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void stalledWorkersJobsMoveOnAndItsLateResultsAreRefused() {
    Report report = new Report(grid.name());
    grid.withFreshDatabase().startCoordinator();
    GridProcess a = grid.startWorker("A", HELD, Duration.ofSeconds(5));
    Set<String> acknowledged = new HashSet<>(
        LoadGenerator.submitAll(grid.channel(), grid.clientKey(), HELD, () -> 2_000));
    await("A runs its jobs").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> grid.count(JobState.RUNNING, "A") == HELD);
    Map<String, Integer> held = grid.query(db -> db.select(JOB.JOB_ID, JOB.ATTEMPT).from(JOB)
        .where(JOB.STATE.eq(JobState.RUNNING).and(JOB.WORKER_ID.eq("A")))
        .fetchMap(r -> JobIds.format(r.value1()), r -> r.value2()));

    report.fault("SIGSTOP worker A holding " + held.size() + " job(s)", grid.count(JobState.RUNNING),
        grid.count(JobState.QUEUED));
    a.pause();
    grid.startWorker("B", 4, Duration.ofSeconds(5));
    acknowledged.addAll(LoadGenerator.submitAll(grid.channel(), grid.clientKey(), 20, () -> 100));

    // A's leases run out (3 s without a heartbeat) and its jobs are done again, by B.
    await("A's jobs completed by B").atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100))
        .until(() -> grid.query(db -> db.fetchCount(JOB, JOB.STATE.eq(JobState.COMPLETED).and(JOB.WORKER_ID.eq("B"))
            .and(JOB.JOB_ID.in(held.keySet().stream().map(id -> JobIds.parse(id).orElseThrow()).toList())))) == HELD);

    // A wakes up: its sleeps are over, so it reports its old attempts at once, on a stream the
    // coordinator has ended. It then connects again, and takes work like any worker.
    a.resume();
    a.awaitLog("\\] registered;", 2, Duration.ofSeconds(60));
    acknowledged.addAll(LoadGenerator.submitAll(grid.channel(), grid.clientKey(), 20, () -> 100));

    Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(30));
    long lateRefused = verdict.refusedOutcomes().stream()
        .filter(o -> o.workerId().equals("A") && held.get(o.jobId()) != null && held.get(o.jobId()) == o.attempt())
        .count();
    long lateSent = a.lines().stream().filter(l -> held.entrySet().stream()
        .anyMatch(h -> l.contains("job=" + h.getKey() + " attempt=" + h.getValue() + "] completed in"))).count();
    long aborted = a.lines().stream().filter(l -> l.contains("] aborted: stream lost")).count();
    boolean streamEnded = a.lines().stream().anyMatch(l -> l.contains("no heartbeat within the lease"));
    report.lateResultsRefused((int) lateRefused);
    report.note("late_results_sent_by_A=" + lateSent + " aborted_by_A_on_stream_loss=" + aborted
        + " A_stream_ended_by_coordinator=" + streamEnded);
    report.finish(verdict);
    report.assertHeld();

    for (var h : held.entrySet()) {
      JobRecord job = verdict.jobs().get(h.getKey());
      assertThat(job.getState()).as("job %s", h.getKey()).isEqualTo(JobState.COMPLETED);
      assertThat(job.getWorkerId()).as("job %s", h.getKey()).isEqualTo("B");
      assertThat(job.getAttempt()).as("job %s", h.getKey()).isGreaterThan(h.getValue());
      assertThat(a.lines()).as("A's log on job %s", h.getKey())
          .noneMatch(l -> l.contains("job=" + h.getKey() + " attempt=" + h.getValue() + "] outcome accepted"));
    }
    // Every late result A sent was refused, or went on a stream the coordinator had already ended.
    assertThat(streamEnded || lateRefused == lateSent)
        .as("A's late results: %d sent, %d refused, stream ended by the coordinator: %s", lateSent, lateRefused,
            streamEnded).isTrue();
  }
}
