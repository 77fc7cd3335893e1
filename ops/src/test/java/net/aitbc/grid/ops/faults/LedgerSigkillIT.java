package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.LEDGER_HEAD;
import static net.aitbc.grid.db.Tables.LEDGER_NODE;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ops.CliRun;
import net.aitbc.grid.ops.process.GridProcess;
import org.jooq.Record2;
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
  private static final int JOBS = 3000;
  private static final int KILLS = 4;

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
      workers.forEach(w -> w.awaitLog("\\] registered;", registrations, Duration.ofSeconds(30)));
    }

    await("the load generator to finish").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
        .until(() -> load.acknowledgedCount() >= JOBS);
    load.close();
    Invariants.Verdict verdict = Invariants.check(grid, load.acknowledged(), Duration.ofSeconds(60));
    report.finish(verdict);
    report.assertHeld();

    ledger.startBridge();
    ledger.awaitSealed(Duration.ofSeconds(30));

    // Every completed job has exactly one receipt, and only completed jobs have one.
    Set<UUID> completed = new HashSet<>(grid.query(db -> db.select(JOB.JOB_ID).from(JOB)
        .where(JOB.STATE.eq(JobState.COMPLETED)).fetch(JOB.JOB_ID)));
    Map<UUID, Integer> receiptsPerJob = new HashMap<>();
    grid.query(db -> db.select(RECEIPT.JOB_ID).from(RECEIPT).fetch(RECEIPT.JOB_ID))
        .forEach(id -> receiptsPerJob.merge(id, 1, Integer::sum));
    assertThat(receiptsPerJob.keySet()).as("jobs with a receipt").isEqualTo(completed);
    assertThat(receiptsPerJob.values()).as("receipts per job").allMatch(n -> n == 1);

    // Leaves 0..n-1, each a distinct receipt, every receipt sealed once; the head says n.
    List<Record2<Long, UUID>> leaves = grid.query(db -> db.select(LEDGER_NODE.IDX, LEDGER_NODE.RECEIPT_ID)
        .from(LEDGER_NODE).where(LEDGER_NODE.LEVEL.eq((short) 0)).orderBy(LEDGER_NODE.IDX).fetch());
    List<Long> gaps = new ArrayList<>();
    for (int i = 0; i < leaves.size(); i++) {
      if (leaves.get(i).value1() != i) {
        gaps.add((long) i);
      }
    }
    assertThat(gaps).as("leaf indexes out of place").isEmpty();
    Set<UUID> sealedReceipts = new HashSet<>();
    leaves.forEach(l -> assertThat(sealedReceipts.add(l.value2())).as("receipt %s sealed twice", l.value2()).isTrue());
    Set<UUID> receipts = new HashSet<>(grid.query(db -> db.select(RECEIPT.RECEIPT_ID).from(RECEIPT)
        .fetch(RECEIPT.RECEIPT_ID)));
    assertThat(sealedReceipts).isEqualTo(receipts);
    long treeSize = grid.query(db -> db.select(LEDGER_HEAD.TREE_SIZE).from(LEDGER_HEAD).fetchSingle().value1());
    assertThat(treeSize).as("the head's tree size").isEqualTo(leaves.size());

    CliRun verify = ledger.verifyLedger();
    assertThat(verify.status()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out()).contains(completed.size() + " leaves");
  }

  private long headHeight() {
    return grid.query(db -> db.select(LEDGER_HEAD.HEIGHT).from(LEDGER_HEAD).fetchSingle().value1());
  }
}
