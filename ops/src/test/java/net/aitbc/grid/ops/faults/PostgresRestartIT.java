package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * PostgreSQL stopped for 5 s under load and started again: the coordinator stays up and recovers
 * by itself; submissions meanwhile are refused with gRPC UNAVAILABLE / HTTP 503 and not
 * acknowledged; every acknowledged job completes.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class PostgresRestartIT {
  private static final Duration OUTAGE = Duration.ofSeconds(5);

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void coordinatorRidesOutADatabaseRestartWithoutLosingAcknowledgedJobs() throws Exception {
    Report report = new Report(grid.name());
    OwnPostgres pg = grid.closeLater(OwnPostgres.start(Grid.TARGET.resolve("fault-pg").resolve(grid.name()),
        grid.logDir().resolve("postgres.log")));
    GridProcess coordinator = grid.withDatabase(pg.url()).startCoordinator();
    int bridgePort = grid.startBridge();
    List<GridProcess> workers = grid.startWorkers(4, Duration.ofSeconds(5), "A", "B");
    LoadGenerator load = grid.closeLater(new LoadGenerator(Integer.MAX_VALUE, 1000,
        () -> ThreadLocalRandom.current().nextInt(20, 200))
        .grpc(grid.channel(), grid.clientKey(), 40)
        .rest(bridgePort, grid.clientKey(), 40)
        .start());

    await("load under way").atMost(Duration.ofSeconds(30)).until(() -> load.acknowledgedCount() >= 150);
    Map<String, Integer> refusedBefore = load.refusals();
    report.fault("PostgreSQL stopped for " + OUTAGE.toSeconds() + " s", grid.count(JobState.RUNNING),
        grid.count(JobState.QUEUED));
    long stoppedAt = System.nanoTime();
    pg.stop();
    int ackedAtStop = load.acknowledgedCount();
    Thread.sleep(OUTAGE); // the outage lasts this long, whatever happens meanwhile
    int ackedWhileDown = load.acknowledgedCount() - ackedAtStop;
    pg.restart();
    long restartedAt = System.nanoTime();

    // Without any restart of the coordinator, submissions sent from now on are acknowledged again.
    await("a submission sent after the restart acknowledged").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20)).until(() -> load.acknowledgedSentAfter(restartedAt) > 0);
    double recoveredAfter = (System.nanoTime() - restartedAt) / 1e9;
    await("more load after the recovery").atMost(Duration.ofSeconds(30))
        .until(() -> load.acknowledgedSentAfter(restartedAt) >= 150);
    load.close();
    Map<String, Integer> refused = LoadGenerator.since(load.refusals(), refusedBefore);
    report.refused(refused);
    report.note(String.format("outage=%.1fs acknowledged_while_db_down=%d first_ack_of_a_call_sent_after_db_restart=%.1fs"
        + " refusal_samples=%s", (restartedAt - stoppedAt) / 1e9, ackedWhileDown, recoveredAfter, load.refusalSamples()));

    Invariants.Verdict verdict = Invariants.check(grid, load.acknowledged(), Duration.ofSeconds(60));
    report.finish(verdict);
    report.assertHeld();
    assertThat(refusedBefore).as("submissions refused before the outage").isEmpty();
    assertThat(refused.keySet()).as("statuses of the submissions refused during the outage (first of each: %s)",
        load.refusalSamples()).contains("gRPC UNAVAILABLE", "HTTP 503").isSubsetOf("gRPC UNAVAILABLE", "HTTP 503");
    assertThat(coordinator.isAlive()).as("the coordinator survived the outage").isTrue();
    assertThat(coordinator.lines()).as("the coordinator was never restarted")
        .filteredOn(l -> l.contains("coordinator listening on")).hasSize(1);
    workers.forEach(w -> assertThat(w.isAlive()).as(w.name() + " alive").isTrue());
  }
}
