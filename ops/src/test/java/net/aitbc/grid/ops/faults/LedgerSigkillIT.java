package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.LEDGER_HEAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ops.CliRun;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The coordinator killed with SIGKILL again and again while it seals small blocks under load, and
 * started again each time: afterwards every completed job has exactly one receipt, the ledger's
 * leaves are 0..n-1 without a gap or a receipt twice, and {@code grid verify ledger} passes.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class LedgerSigkillIT {
  private static final int JOBS = 2000;
  private static final int KILLS = 2;

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void theLedgerStaysWholeWhenTheCoordinatorIsKilledWhileSealing() throws Exception {
    Report report = new Report(grid.name());
    LedgerGrid ledger = new LedgerGrid(grid.withFreshDatabase(), 5, "50ms");
    GridProcess coordinator = grid.startCoordinator();
    List<GridProcess> workers = grid.startWorkers(8, Duration.ofSeconds(5), "A", "B");
    LoadGenerator load = grid.closeLater(new LoadGenerator(JOBS, 64, () -> 5)
        .grpc(grid.channel(), grid.clientKey(), 400)
        .start());

    for (int kill = 1; kill <= KILLS; kill++) {
      long target = headHeight() + 3 + kill;
      // Kill it in the middle of its sealing: a few blocks further, with receipts still coming in.
      await("blocks sealed before kill " + kill).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
          .until(() -> headHeight() >= target);
      report.fault("SIGKILL coordinator while sealing (block " + headHeight() + ")", grid.count(JobState.RUNNING),
          grid.count(JobState.QUEUED));
      coordinator.kill();
      Thread.sleep(500);
      coordinator = grid.startCoordinator();
      int registrations = kill + 1;
      workers.forEach(w -> w.awaitLog("\\] registered;", registrations, Duration.ofSeconds(60)));
    }

    await("the load generator to finish").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> load.acknowledgedCount() >= JOBS);
    load.close();
    Invariants.Verdict verdict = Invariants.check(grid, load.acknowledged(), Duration.ofSeconds(60));
    report.finish(verdict);
    report.assertHeld();

    ledger.startBridge();
    ledger.awaitSealed(Duration.ofSeconds(30));

    // Everything sealed now: the receipts' invariants (checked above as well) with no receipt waiting.
    assertThat(Invariants.receipts(grid, verdict.jobs())).isEmpty();
    long completed = grid.count(JobState.COMPLETED);
    long treeSize = grid.query(db -> db.select(LEDGER_HEAD.TREE_SIZE).from(LEDGER_HEAD).fetchSingle().value1());
    assertThat(treeSize).as("the head's tree size").isEqualTo(completed);

    CliRun verify = ledger.verifyLedger();
    assertThat(verify.status()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out()).contains(completed + " leaves");
  }

  private long headHeight() {
    return grid.query(db -> db.select(LEDGER_HEAD.HEIGHT).from(LEDGER_HEAD).fetchSingle().value1());
  }
}
