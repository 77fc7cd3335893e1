package net.aitbc.grid.coordinator.testing;

import java.time.Duration;
import net.aitbc.grid.coordinator.CoordinatorConfig;

/** Coordinator settings for tests: free ports on loopback, and short leases so that faults show fast. */
public final class TestConfigs {
  private TestConfigs() {}

  /** A coordinator on free loopback ports with a 3 s lease, 1 s heartbeats and 100 ms sweeps. */
  public static CoordinatorConfig coordinator(String dbUrl) {
    return builder(dbUrl).build();
  }

  /** The builder behind {@link #coordinator}, for tests that change one more setting. */
  public static CoordinatorConfig.Builder builder(String dbUrl) {
    return CoordinatorConfig.builder(dbUrl)
        .listen("127.0.0.1", 0, 0)
        .timing(Duration.ofSeconds(3), Duration.ofSeconds(1), Duration.ofMillis(100))
        .retries(3, Duration.ofMillis(100), Duration.ofSeconds(1));
  }
}
