package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
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
 * given both addresses, its own replica first). One replica is killed with SIGKILL, or both are
 * restarted in turn: nothing acknowledged is lost, no outcome is recorded twice, and clients and
 * workers carry on through the other replica within one lease (3 s here).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ReplicaFaultsIT {
  private static final int JOBS_PER_CLIENT = 3000;
  private static final Duration LEASE = Duration.ofSeconds(3);

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void killingOneReplicaLosesNothingAndEveryoneCarriesOnThroughTheOther() throws Exception {
    Report report = new Report(grid.name());
    int portA = grid.coordinatorPort();
    int portB = Ports.free();
    String aFirst = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    String bFirst = "127.0.0.1:" + portB + ",127.0.0.1:" + portA;
    GridProcess a = grid.withFreshDatabase().startCoordinator(portA);
    grid.startCoordinator(portB);
    List<GridProcess> onA = grid.startWorkers(aFirst, 8, Duration.ofSeconds(5), "a1", "a2");
    grid.startWorkers(bFirst, 8, Duration.ofSeconds(5), "b1", "b2");
    LoadGenerator clientOfA = grid.closeLater(new LoadGenerator(JOBS_PER_CLIENT, 32, () -> 20)
        .grpc(grid.channel(aFirst), grid.clientKey(), 400).start());
    LoadGenerator clientOfB = grid.closeLater(new LoadGenerator(JOBS_PER_CLIENT, 32, () -> 20)
        .grpc(grid.channel(bFirst), grid.clientKey(), 400).start());

    await("jobs in flight on both replicas' workers").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> grid.count(JobState.RUNNING) > 0 && clientOfA.acknowledgedCount() > 500
            && clientOfB.acknowledgedCount() > 500);
    int running = grid.count(JobState.RUNNING);
    int queued = grid.count(JobState.QUEUED);
    int ackedAtKill = clientOfA.acknowledgedCount();
    a.kill();
    long killed = System.nanoTime();
    report.fault("SIGKILL of replica A (B keeps running)", running, queued);

    // A's workers and A's client move to B by themselves.
    onA.forEach(w -> w.awaitLog("\\] registered;", 2, Duration.ofSeconds(30)));
    Duration workersBack = Duration.ofNanos(System.nanoTime() - killed);
    await("A's client acknowledged through B").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> clientOfA.acknowledgedCount() > ackedAtKill);
    Duration clientBack = Duration.ofNanos(System.nanoTime() - killed);
    report.note("workers_reregistered_ms=" + workersBack.toMillis() + " client_resumed_ms=" + clientBack.toMillis());

    await("both clients to finish").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
        .until(() -> clientOfA.acknowledgedCount() >= JOBS_PER_CLIENT
            && clientOfB.acknowledgedCount() >= JOBS_PER_CLIENT);
    clientOfA.close();
    clientOfB.close();
    report.refused(clientOfA.refusals());
    report.refused(clientOfB.refusals());

    Set<String> acknowledged = new HashSet<>(clientOfA.acknowledged());
    acknowledged.addAll(clientOfB.acknowledged());
    Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(60));
    report.finish(verdict);
    report.assertHeld();
    assertThat(verdict.acknowledged()).isGreaterThanOrEqualTo(2 * JOBS_PER_CLIENT);
    assertThat(workersBack).as("A's workers registered with B within a lease").isLessThan(LEASE.plusSeconds(2));
    assertThat(clientBack).as("A's client acknowledged through B within a lease").isLessThan(LEASE.plusSeconds(2));
  }

  @Test
  void aRollingRestartOfBothReplicasLosesNothing() throws Exception {
    Report report = new Report(grid.name());
    int portA = grid.coordinatorPort();
    int portB = Ports.free();
    String aFirst = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    String bFirst = "127.0.0.1:" + portB + ",127.0.0.1:" + portA;
    GridProcess a = grid.withFreshDatabase().startCoordinator(portA);
    GridProcess b = grid.startCoordinator(portB);
    grid.startWorkers(aFirst, 8, Duration.ofSeconds(5), "a1", "a2");
    grid.startWorkers(bFirst, 8, Duration.ofSeconds(5), "b1", "b2");
    LoadGenerator clientOfA = grid.closeLater(new LoadGenerator(JOBS_PER_CLIENT, 32, () -> 20)
        .grpc(grid.channel(aFirst), grid.clientKey(), 100).start());
    LoadGenerator clientOfB = grid.closeLater(new LoadGenerator(JOBS_PER_CLIENT, 32, () -> 20)
        .grpc(grid.channel(bFirst), grid.clientKey(), 100).start());

    // 100 jobs a second per client: the load lasts past both restarts (each takes seconds here).
    for (GridProcess replica : List.of(a, b)) {
      int acked = clientOfA.acknowledgedCount() + clientOfB.acknowledgedCount();
      await("load before the restart").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> clientOfA.acknowledgedCount() + clientOfB.acknowledgedCount() > acked + 300);
      report.fault("SIGTERM and restart of " + replica.name(), grid.count(JobState.RUNNING),
          grid.count(JobState.QUEUED));
      replica.terminate();
      assertThat(replica.awaitExit(Duration.ofSeconds(30))).as("%s exit status", replica.name()).isIn(0, 143);
      grid.startCoordinator(replica == a ? portA : portB);
    }

    await("both clients to finish").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
        .until(() -> clientOfA.acknowledgedCount() >= JOBS_PER_CLIENT
            && clientOfB.acknowledgedCount() >= JOBS_PER_CLIENT);
    clientOfA.close();
    clientOfB.close();
    report.refused(clientOfA.refusals());
    report.refused(clientOfB.refusals());
    Set<String> acknowledged = new HashSet<>(clientOfA.acknowledged());
    acknowledged.addAll(clientOfB.acknowledged());
    Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(60));
    report.finish(verdict);
    report.assertHeld();
    assertThat(verdict.acknowledged()).isGreaterThanOrEqualTo(2 * JOBS_PER_CLIENT);
  }
}
