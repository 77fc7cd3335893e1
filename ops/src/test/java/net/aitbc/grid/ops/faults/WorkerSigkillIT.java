package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobAttemptRecord;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A worker killed with SIGKILL while it runs jobs loses none: they are requeued and completed by the other worker. */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WorkerSigkillIT {
  private static final int JOBS = 400;

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void jobsOfAKilledWorkerAreRequeuedAndCompletedByAnother() {
    Report report = new Report(grid.name());
    grid.withFreshDatabase().startCoordinator();
    GridProcess a = grid.startWorkers(4, Duration.ofSeconds(5), "A", "B").getFirst();
    Random random = new Random(7);
    Set<String> acknowledged = LoadGenerator.submitAll(grid.channel(), grid.clientKey(), JOBS,
        () -> 200 + random.nextInt(301));

    // Half the work done, and A in the middle of some of it.
    await("half the jobs done while A runs some").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> grid.count(JobState.COMPLETED) >= JOBS / 2 && grid.count(JobState.RUNNING, "A") > 0);
    Map<String, Integer> heldByA = grid.query(db -> db.select(JOB.JOB_ID, JOB.ATTEMPT).from(JOB)
        .where(JOB.STATE.eq(JobState.RUNNING).and(JOB.WORKER_ID.eq("A")))
        .fetchMap(r -> JobIds.format(r.value1()), r -> r.value2()));
    report.fault("SIGKILL worker A holding " + heldByA.size() + " job(s)", grid.count(JobState.RUNNING),
        grid.count(JobState.QUEUED));
    a.kill();

    Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(60));
    int requeued = 0;
    int finishedByAJustBeforeTheKill = 0;
    for (var held : heldByA.entrySet()) {
      JobRecord job = verdict.jobs().get(held.getKey());
      if ("A".equals(job.getWorkerId()) && job.getAttempt().equals(held.getValue())) {
        // A finished it between the snapshot and the signal; its outcome was committed in time.
        finishedByAJustBeforeTheKill++;
        continue;
      }
      requeued++;
      assertThat(job.getState()).as("job %s held by A", held.getKey()).isEqualTo(JobState.COMPLETED);
      assertThat(job.getWorkerId()).as("job %s held by A", held.getKey()).isEqualTo("B");
      assertThat(job.getAttempt()).as("job %s held by A", held.getKey()).isGreaterThanOrEqualTo(2);
      List<JobAttemptRecord> history = verdict.attempts().getOrDefault(held.getKey(), List.of());
      assertThat(history).as("attempt history of job %s", held.getKey())
          .anyMatch(r -> r.getAttempt().equals(held.getValue()) && "A".equals(r.getWorkerId()));
    }
    report.note("requeued_from_A=" + requeued + " finished_by_A_before_the_kill=" + finishedByAJustBeforeTheKill);
    report.finish(verdict);
    report.assertHeld();
    assertThat(requeued).as("jobs A held when it was killed that went to B").isPositive();
    assertThat(verdict.jobs().values()).as("nothing ran on A after it died")
        .noneMatch(j -> "A".equals(j.getWorkerId()) && j.getState() == JobState.RUNNING);
  }
}
