package net.aitbc.grid.coordinator.rpc;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.testing.TestWorker;

/** Keeps a test worker heartbeating while a step takes longer than its lease. */
final class ScheduledHeartbeats {
  private ScheduledHeartbeats() {}

  static void during(TestWorker worker, Runnable step) {
    ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
    try {
      beat.scheduleAtFixedRate(worker::heartbeat, 0, 500, TimeUnit.MILLISECONDS);
      step.run();
    } finally {
      beat.shutdownNow();
    }
  }
}
