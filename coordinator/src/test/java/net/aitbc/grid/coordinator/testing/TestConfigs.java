package net.aitbc.grid.coordinator.testing;

import java.time.Duration;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.ledger.SigningKey;

/** Coordinator settings for tests: free ports on loopback, and short leases so that faults show fast. */
public final class TestConfigs {
  private TestConfigs() {}

  /** The coordinators' receipt signing key in tests (the contract's test-vector seed, 32 bytes of 7). */
  public static final SigningKey SIGNING_KEY = SigningKey.fromHex("07".repeat(32));

  /**
   * A coordinator on free loopback ports with a 3 s lease, 1 s heartbeats and 100 ms sweeps, issuing
   * receipts signed with {@link #SIGNING_KEY} and sealing a block every 100 ms.
   */
  public static CoordinatorConfig coordinator(String dbUrl) {
    return builder(dbUrl).build();
  }

  /** The builder behind {@link #coordinator}, for tests that change one more setting. */
  public static CoordinatorConfig.Builder builder(String dbUrl) {
    return CoordinatorConfig.builder(dbUrl)
        .listen("127.0.0.1", 0, 0)
        .timing(Duration.ofSeconds(3), Duration.ofSeconds(1), Duration.ofMillis(100))
        .retries(3, Duration.ofMillis(100), Duration.ofSeconds(1))
        .signingKey(SIGNING_KEY)
        .blocks(1000, Duration.ofMillis(100));
  }
}
