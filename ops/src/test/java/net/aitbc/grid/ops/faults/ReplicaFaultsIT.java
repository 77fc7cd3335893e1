package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ops.process.GridProcess;
import net.aitbc.grid.ops.process.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two coordinator replicas on one database under load, with workers and clients on both (each
 * given both addresses, its own replica first). Both are restarted in turn, then one is killed with
 * SIGKILL: nothing acknowledged is lost, no outcome is recorded twice, and clients and workers carry
 * on through the other replica within one lease (3 s here). One grid for the three faults keeps the
 * test's wall time (process starts) down.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReplicaFaultsIT {
  // The clients submit until stopped, after the last fault: however long the restarts take, load is on.
  private static final int UNTIL_STOPPED = 1_000_000;
  private static final Duration LEASE = Duration.ofSeconds(3);

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void aRollingRestartThenASigkillOfOneReplicaLosesNothing() throws Exception {
    Report report = new Report(grid.name());
    int portA = grid.coordinatorPort();
    int portB = Ports.free();
    String aFirst = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    String bFirst = "127.0.0.1:" + portB + ",127.0.0.1:" + portA;
    GridProcess a = grid.withFreshDatabase().startCoordinator(portA);
    GridProcess b = grid.startCoordinator(portB);
    List<GridProcess> onA = grid.startWorkers(aFirst, 8, Duration.ofSeconds(5), "a1", "a2");
    List<GridProcess> workers = new ArrayList<>(onA);
    workers.addAll(grid.startWorkers(bFirst, 8, Duration.ofSeconds(5), "b1", "b2"));
    // 100 jobs a second per client.
    LoadGenerator clientOfA = grid.closeLater(new LoadGenerator(UNTIL_STOPPED, 32, () -> 20)
        .grpc(grid.channel(aFirst), grid.clientKey(), 100).start());
    LoadGenerator clientOfB = grid.closeLater(new LoadGenerator(UNTIL_STOPPED, 32, () -> 20)
        .grpc(grid.channel(bFirst), grid.clientKey(), 100).start());

    // A rolling restart: each replica in turn stops gracefully (its workers drain to the other) and starts again.
    for (GridProcess replica : List.of(a, b)) {
      awaitMoreAcknowledged(clientOfA, clientOfB, 200);
      report.fault("SIGTERM and restart of " + replica.name(), grid.count(JobState.RUNNING),
          grid.count(JobState.QUEUED));
      replica.terminate();
      assertThat(replica.awaitExit(Duration.ofSeconds(30))).as("%s exit status", replica.name()).isIn(0, 143);
      GridProcess restarted = grid.startCoordinator(replica == a ? portA : portB);
      if (replica == a) {
        a = restarted;
      }
    }

    // Then SIGKILL of A, which B outlives: the workers on A (after the restarts, all of them: each
    // went back to the first address of its list that answered) and A's client move to B by themselves.
    awaitMoreAcknowledged(clientOfA, clientOfB, 200);
    int ackedAtKill = clientOfA.acknowledgedCount();
    Map<GridProcess, Integer> registrations = new HashMap<>();
    workers.forEach(w -> registrations.put(w, registered(w)));
    report.fault("SIGKILL of replica A (B keeps running)", grid.count(JobState.RUNNING), grid.count(JobState.QUEUED));
    a.kill();
    long killed = System.nanoTime();
    onA.forEach(w -> w.awaitLog("\\] registered;", registrations.get(w) + 1, Duration.ofSeconds(60)));
    Duration workersBack = Duration.ofNanos(System.nanoTime() - killed);
    await("A's client acknowledged through B").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> clientOfA.acknowledgedCount() > ackedAtKill);
    Duration clientBack = Duration.ofNanos(System.nanoTime() - killed);
    report.note("after_sigkill_workers_reregistered_ms=" + workersBack.toMillis() + " client_resumed_ms="
        + clientBack.toMillis());

    awaitMoreAcknowledged(clientOfA, clientOfB, 500);
    clientOfA.close();
    clientOfB.close();
    report.refused(clientOfA.refusals());
    report.refused(clientOfB.refusals());
    Set<String> acknowledged = new HashSet<>(clientOfA.acknowledged());
    acknowledged.addAll(clientOfB.acknowledged());
    Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(60));
    report.finish(verdict);
    report.assertHeld();
    assertThat(verdict.acknowledged()).isGreaterThan(1000);
    assertThat(workersBack).as("A's workers registered with B within a lease").isLessThan(LEASE.plusSeconds(2));
    assertThat(clientBack).as("A's client acknowledged through B within a lease").isLessThan(LEASE.plusSeconds(2));
  }

  private static int registered(GridProcess worker) {
    return (int) worker.lines().stream().filter(l -> l.contains("] registered;")).count();
  }

  private static void awaitMoreAcknowledged(LoadGenerator one, LoadGenerator other, int more) {
    int acked = one.acknowledgedCount() + other.acknowledgedCount();
    await("load before the next fault").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> one.acknowledgedCount() + other.acknowledgedCount() > acked + more);
  }
}
