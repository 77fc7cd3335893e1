package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobAttemptRecord;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * SIGTERM drains a worker: jobs that fit in its drain timeout finish on it and nothing is requeued;
 * jobs that do not are handed back and completed by another worker. None is lost either way.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WorkerSigtermIT {
  private static final int HELD = 4;

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void jobsShorterThanTheDrainTimeoutFinishOnTheDrainingWorker() {
    Report report = new Report(grid.name());
    grid.withFreshDatabase().startCoordinator();
    GridProcess a = grid.startWorker("A", HELD, Duration.ofSeconds(10));
    Set<String> acknowledged = LoadGenerator.submitAll(grid.channel(), grid.clientKey(), HELD, () -> 1_000);
    awaitRunningOn("A");

    report.fault("SIGTERM worker A (drain timeout 10 s, jobs of 1 s)", grid.count(JobState.RUNNING),
        grid.count(JobState.QUEUED));
    a.terminate();
    int exit = a.awaitExit(Duration.ofSeconds(30));
    report.note("A_exit_status=" + exit);

    Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(10));
    report.finish(verdict);
    report.assertHeld();
    assertThat(exit).as("exit status of a drained worker (143 = killed by SIGTERM after its shutdown hook)")
        .isIn(0, 143);
    for (String id : acknowledged) {
      JobRecord job = verdict.jobs().get(id);
      assertThat(job.getWorkerId()).as("job %s", id).isEqualTo("A");
      assertThat(job.getAttempt()).as("job %s", id).isEqualTo(1);
    }
    assertThat(verdict.attempts()).as("attempts that ended without completing (requeues)").isEmpty();
  }

  @Test
  void jobsLongerThanTheDrainTimeoutAreHandedBackAndCompletedElsewhere() {
    Report report = new Report(grid.name());
    grid.withFreshDatabase().startCoordinator();
    GridProcess a = grid.startWorker("A", HELD, Duration.ofSeconds(1));
    Set<String> acknowledged = LoadGenerator.submitAll(grid.channel(), grid.clientKey(), HELD, () -> 8_000);
    awaitRunningOn("A");
    grid.startWorker("B", HELD, Duration.ofSeconds(10));

    report.fault("SIGTERM worker A (drain timeout 1 s, jobs of 8 s)", grid.count(JobState.RUNNING),
        grid.count(JobState.QUEUED));
    a.terminate();
    int exit = a.awaitExit(Duration.ofSeconds(30));
    report.note("A_exit_status=" + exit);

    Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(40));
    report.finish(verdict);
    report.assertHeld();
    assertThat(exit).as("exit status of a drained worker (143 = killed by SIGTERM after its shutdown hook)")
        .isIn(0, 143);
    for (String id : acknowledged) {
      JobRecord job = verdict.jobs().get(id);
      assertThat(job.getWorkerId()).as("job %s", id).isEqualTo("B");
      assertThat(job.getAttempt()).as("job %s", id).isEqualTo(2);
      List<JobAttemptRecord> history = verdict.attempts().get(id);
      assertThat(history).as("attempt history of job %s", id).singleElement()
          .satisfies(r -> assertThat(r.getAttempt()).isEqualTo(1))
          .satisfies(r -> assertThat(r.getWorkerId()).isEqualTo("A"));
    }
  }

  private void awaitRunningOn(String worker) {
    await(worker + " runs " + HELD + " jobs").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> grid.query(db -> db.fetchCount(JOB, JOB.STATE.eq(JobState.RUNNING).and(JOB.WORKER_ID.eq(worker))))
            == HELD);
  }
}
