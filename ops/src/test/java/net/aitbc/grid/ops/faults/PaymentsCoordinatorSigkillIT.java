package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.VoidReason;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The coordinator killed with SIGKILL while paid jobs complete by the hundred a second (each
 * completion posts its escrow in its own transaction) and the client pays and refunds, then
 * started again on the same database: every payment ends exactly once, released to the worker's
 * owner or refunded, and the money adds up.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PaymentsCoordinatorSigkillIT {
  private static final int JOBS = 800;

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void everyPaymentEndsExactlyOnceAfterTheCoordinatorIsKilledMidRelease() throws Exception {
    Report report = new Report(grid.name());
    GridProcess first = grid.withFreshDatabase().startCoordinator();
    PaymentClient.fund(grid);
    List<GridProcess> workers = grid.startWorkers(8, Duration.ofSeconds(5), "A", "B");
    PaymentClient payer = grid.closeLater(new PaymentClient(grid.channel(), grid.clientKey(), 5));
    // Half the jobs are paid for as they are submitted, half by a payment right after.
    LoadGenerator load = grid.closeLater(payer.follow(new LoadGenerator(JOBS, 64, () -> 20)
        .grpc(grid.channel(), grid.clientKey(), 100, PaymentClient.AMOUNT)
        .grpc(grid.channel(), grid.clientKey(), 100))
        .start());

    await("releases under way").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> PaymentChecks.count(grid, PaymentStatus.released) >= 150 && grid.count(JobState.RUNNING) > 0);
    int running = grid.count(JobState.RUNNING);
    int queued = grid.count(JobState.QUEUED);
    Map<String, Integer> refusedBefore = load.refusals();
    Map<String, String> samplesBefore = load.refusalSamples();
    first.kill();
    int releasedAtKill = PaymentChecks.count(grid, PaymentStatus.released);
    int escrowedAtKill = PaymentChecks.count(grid, PaymentStatus.escrowed);
    report.fault("SIGKILL coordinator with " + escrowedAtKill + " payments in escrow", running, queued);
    Thread.sleep(1_000); // the outage
    grid.startCoordinator();
    int ackedAtRestart = load.acknowledgedCount();

    workers.forEach(w -> w.awaitLog("\\] registered;", 2, Duration.ofSeconds(60)));
    // On a quick machine every submission may have been acknowledged before the kill: then none is left to see.
    await("submissions acknowledged again").atMost(Duration.ofSeconds(30))
        .until(() -> load.acknowledgedCount() > ackedAtRestart || ackedAtRestart >= JOBS);
    await("the load generator to finish").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> load.acknowledgedCount() >= JOBS);
    load.close();
    payer.close();
    report.refused(LoadGenerator.since(load.refusals(), refusedBefore));

    Invariants.Verdict verdict = Invariants.check(grid, load.acknowledged(), Duration.ofSeconds(60));
    PaymentChecks.Verdict payments = PaymentChecks.check(grid, verdict, payer, worker -> Grid.WORKER_OWNER);
    report.note(payments.summary(payer) + " released_at_kill=" + releasedAtKill + " escrowed_at_kill=" + escrowedAtKill);
    report.finish(verdict);
    report.assertHeld();
    assertThat(payments.problems()).as("payments out of step with the jobs and the client's record").isEmpty();
    assertThat(refusedBefore).as("submissions refused before any fault (%s)", samplesBefore).isEmpty();
    assertThat(payer.failures()).as("payment calls that failed, retries and all (%s)", payer.failureSamples())
        .isEmpty();
    assertThat(payments.released().values().stream().mapToInt(Integer::intValue).sum())
        .as("payments released, of which %d before the kill", releasedAtKill).isGreaterThan(releasedAtKill);
    assertThat(payments.refunded()).as("payments refunded").containsKey(VoidReason.refund);
  }
}
