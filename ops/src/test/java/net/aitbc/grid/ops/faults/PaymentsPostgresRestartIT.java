package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL stopped for a few seconds and started again under payment load (paid submissions,
 * payments for submitted jobs, refunds, completions releasing escrows): calls meanwhile are refused
 * with UNAVAILABLE and not acknowledged; afterwards payments, refunds and releases go on without
 * a restart of the coordinator; nothing acknowledged is lost and the money adds up.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PaymentsPostgresRestartIT {
  private static final Duration OUTAGE = Duration.ofSeconds(4);

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void paymentsGoOnAfterADatabaseRestartAndNothingAcknowledgedIsLost() throws Exception {
    Report report = new Report(grid.name());
    OwnPostgres pg = grid.closeLater(OwnPostgres.start(Grid.TARGET.resolve("fault-pg").resolve(grid.name()),
        grid.logDir().resolve("postgres.log")));
    GridProcess coordinator = grid.withDatabase(pg.url()).startCoordinator();
    PaymentClient.fund(grid);
    int bridgePort = grid.startBridge();
    List<GridProcess> workers = grid.startWorkers(4, Duration.ofSeconds(5), "A", "B");
    PaymentClient payer = grid.closeLater(new PaymentClient(grid.channel(), grid.clientKey(), 3));
    // gRPC submissions pay as they submit; REST ones are paid for by a payment right after.
    LoadGenerator load = grid.closeLater(payer.follow(new LoadGenerator(Integer.MAX_VALUE, 1000,
        () -> ThreadLocalRandom.current().nextInt(10, 60))
        .grpc(grid.channel(), grid.clientKey(), 25, PaymentClient.AMOUNT)
        .rest(bridgePort, grid.clientKey(), 25))
        .start());

    await("payments under way").atMost(Duration.ofSeconds(30))
        .until(() -> load.acknowledgedCount() >= 100 && !payer.refunded().isEmpty()
            && PaymentChecks.count(grid, PaymentStatus.released) >= 20);
    Map<String, Integer> refusedBefore = load.refusals();
    report.fault("PostgreSQL stopped for " + OUTAGE.toSeconds() + " s", grid.count(JobState.RUNNING),
        grid.count(JobState.QUEUED));
    int releasedAtStop = PaymentChecks.count(grid, PaymentStatus.released);
    pg.stop();
    Thread.sleep(OUTAGE);
    pg.restart();
    long restartedAt = System.nanoTime();

    await("a payment, a refund and a submission sent after the restart acknowledged").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20)).until(() -> load.acknowledgedSentAfter(restartedAt) > 0
            && payer.paymentAcknowledgedAfter(restartedAt) && payer.refundAcknowledgedAfter(restartedAt));
    double recoveredAfter = (System.nanoTime() - restartedAt) / 1e9;
    await("more paid load after the recovery").atMost(Duration.ofSeconds(30))
        .until(() -> load.acknowledgedSentAfter(restartedAt) >= 75
            && PaymentChecks.count(grid, PaymentStatus.released) > releasedAtStop + 30);
    load.close();
    payer.close();
    Map<String, Integer> refused = LoadGenerator.since(load.refusals(), refusedBefore);
    report.refused(refused);

    Invariants.Verdict verdict = Invariants.check(grid, load.acknowledged(), Duration.ofSeconds(60));
    PaymentChecks.Verdict payments = PaymentChecks.check(grid, verdict, payer, worker -> Grid.WORKER_OWNER);
    report.note(String.format("%s released_at_stop=%d recovered_after=%.1fs payment_failure_samples=%s",
        payments.summary(payer), releasedAtStop, recoveredAfter, payer.failureSamples()));
    report.finish(verdict);
    report.assertHeld();
    assertThat(payments.problems()).as("payments out of step with the jobs and the client's record").isEmpty();
    assertThat(refusedBefore).as("submissions refused before the outage").isEmpty();
    assertThat(refused.keySet()).as("submissions refused during the outage (%s)", load.refusalSamples())
        .isSubsetOf("gRPC UNAVAILABLE", "HTTP 503");
    assertThat(payer.failures()).as("payment calls that failed, retries and all (%s)", payer.failureSamples())
        .isEmpty();
    assertThat(coordinator.isAlive()).as("the coordinator survived the outage").isTrue();
    assertThat(coordinator.lines()).as("the coordinator was never restarted")
        .filteredOn(l -> l.contains("coordinator listening on")).hasSize(1);
    workers.forEach(w -> assertThat(w.isAlive()).as(w.name() + " alive").isTrue());
  }
}
