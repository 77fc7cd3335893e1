package net.aitbc.grid.ops.bench;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits the host's CPU between the coordinator, PostgreSQL, this benchmark and everything else,
 * and waits for a quiet host before a phase, as the peers' harness does (common.js cpuSnap,
 * cpuDelta, quietGate).
 */
final class CpuMeter {
  private final long coordinatorPid;
  private final long selfPid = ProcessHandle.current().pid();

  /** A meter for the coordinator with this process id. */
  CpuMeter(long coordinatorPid) {
    this.coordinatorPid = coordinatorPid;
  }

  /** Counters at one moment. */
  record Snapshot(long nanos, long coordinator, long postgres, long bench, ProcFs.HostTicks host) {}

  /** Reads every counter now. */
  Snapshot snapshot() {
    return new Snapshot(System.nanoTime(), Math.max(0, ProcFs.cpuTicks(coordinatorPid)), ProcFs.postgresTicks(),
        ProcFs.cpuTicks(selfPid), ProcFs.host());
  }

  /** Average cores busy between two snapshots. */
  static Results.Cpu delta(Snapshot a, Snapshot b) {
    double wall = (b.nanos() - a.nanos()) / 1e9;
    double coordinator = seconds(b.coordinator() - a.coordinator());
    double postgres = seconds(b.postgres() - a.postgres());
    double bench = seconds(b.bench() - a.bench());
    double busy = seconds(b.host().busy() - a.host().busy());
    return new Results.Cpu(r2(wall), r2(coordinator / wall), r2(postgres / wall), r2(bench / wall), r2(busy / wall),
        r2((busy - coordinator - postgres - bench) / wall), r2(seconds(b.host().steal() - a.host().steal()) / wall),
        r2(seconds(b.host().iowait() - a.host().iowait()) / wall));
  }

  /**
   * Waits until the host's busy CPU, averaged over 1.5 s, is below {@code maxBusy} cores, or until
   * {@code maxWait} has passed (common.js quietGate: a shared 2-core host is often busy with
   * someone else's build).
   */
  static Results.Gate quietGate(double maxBusy, Duration maxWait) {
    long start = System.nanoTime();
    double busy = Double.POSITIVE_INFINITY;
    if (maxWait.isZero()) {
      return new Results.Gate(0, 0, true);
    }
    while (System.nanoTime() - start < maxWait.toNanos()) {
      ProcFs.HostTicks a = ProcFs.host();
      LockSupport.parkNanos(1_500_000_000L);
      busy = seconds(ProcFs.host().busy() - a.busy()) / 1.5;
      if (busy < maxBusy) {
        break;
      }
    }
    return new Results.Gate(Math.round((System.nanoTime() - start) / 1e8) / 10.0, r2(busy), busy < maxBusy);
  }

  private static double seconds(long ticks) {
    return ticks / (double) ProcFs.CLK_TCK;
  }

  /** Rounds to two decimals. */
  static double r2(double x) {
    return Math.round(x * 100) / 100.0;
  }
}
