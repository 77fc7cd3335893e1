package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker killed with SIGKILL while it holds paid jobs: each is retried on the other worker, whose
 * owner (not the dead worker's) is paid for it, exactly once.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PaymentsWorkerSigkillIT {
  private static final int JOBS = 120;
  private static final Map<String, String> OWNERS = new TreeMap<>(Map.of("A", "owner-a", "B", "owner-b"));

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void paidJobsOfAKilledWorkerArePaidOnceToTheOwnerOfTheWorkerThatCompletesThem() {
    Report report = new Report(grid.name());
    grid.withFreshDatabase().startCoordinator();
    PaymentClient.fund(grid);
    Map<String, String> keys = new LinkedHashMap<>();
    OWNERS.forEach((worker, owner) -> keys.put(worker, grid.workerKeyOf(owner)));
    GridProcess a = grid.startWorkers(4, Duration.ofSeconds(5), keys).get(0);
    PaymentClient payer = grid.closeLater(new PaymentClient(grid.channel(), grid.clientKey(), 0));
    LoadGenerator load = grid.closeLater(payer.follow(new LoadGenerator(JOBS, 16,
        () -> ThreadLocalRandom.current().nextInt(100, 301))
        .grpc(grid.channel(), grid.clientKey(), 100, PaymentClient.AMOUNT))
        .start());

    await("a third of the jobs paid out while A runs some").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> PaymentChecks.count(grid, PaymentStatus.released) >= JOBS / 3
            && grid.count(JobState.RUNNING, "A") > 0);
    int running = grid.count(JobState.RUNNING);
    int queued = grid.count(JobState.QUEUED);
    Map<String, Integer> heldByA = grid.query(db -> db.select(JOB.JOB_ID, JOB.ATTEMPT).from(JOB)
        .where(JOB.STATE.eq(JobState.RUNNING).and(JOB.WORKER_ID.eq("A")))
        .fetchMap(r -> JobIds.format(r.value1()), r -> r.value2()));
    a.kill();
    report.fault("SIGKILL worker A holding " + heldByA.size() + " paid job(s)", running, queued);
    await("every job submitted").atMost(Duration.ofSeconds(30)).until(() -> load.acknowledgedCount() >= JOBS);
    load.close();
    payer.close();

    Invariants.Verdict verdict = Invariants.check(grid, load.acknowledged(), Duration.ofSeconds(60));
    PaymentChecks.Verdict payments = PaymentChecks.check(grid, verdict, payer, OWNERS::get);
    // What A held when it died are the jobs that needed a second attempt (a snapshot taken before the
    // signal may already be finished by the time it lands: the jobs last 100 to 300 ms).
    int retried = 0;
    for (JobRecord job : verdict.jobs().values()) {
      if (job.getAttempt() < 2) {
        continue;
      }
      retried++;
      String what = "job " + JobIds.format(job.getJobId()) + " retried after A was killed";
      assertThat(job.getState()).as(what).isEqualTo(JobState.COMPLETED);
      assertThat(job.getWorkerId()).as(what).isEqualTo("B");
      var paid = grid.query(db -> db.selectFrom(PAYMENT).where(PAYMENT.JOB_ID.eq(job.getJobId())).fetch());
      assertThat(paid).as("%s: its payments", what).singleElement().satisfies(p -> {
        assertThat(p.getStatus()).isEqualTo(PaymentStatus.released);
        assertThat(p.getWorkerOwnerId()).isEqualTo("owner-b");
        assertThat(p.getWorkerId()).isEqualTo("B");
      });
    }
    report.note(payments.summary(payer) + " retried_from_A=" + retried);
    report.finish(verdict);
    report.assertHeld();
    assertThat(payments.problems()).as("payments out of step with the jobs and the client's record").isEmpty();
    assertThat(retried).as("paid jobs A held when it was killed that went to B").isPositive();
    assertThat(payments.released()).as("released, by owner").containsOnlyKeys("owner-a", "owner-b");
    assertThat(payments.released().values().stream().mapToInt(Integer::intValue).sum())
        .as("payments released").isEqualTo(verdict.acknowledged());
    assertThat(payer.failures()).as("payment calls that failed").isEmpty();
  }
}
