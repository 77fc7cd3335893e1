package net.aitbc.grid.coordinator.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(60));

  @RepeatedTest(20)
  void delayDoublesPerAttemptWithHalfOfItRandom() {
    assertThat(backoff.after(1)).isBetween(Duration.ofMillis(500), Duration.ofMillis(1000));
    assertThat(backoff.after(2)).isBetween(Duration.ofMillis(1000), Duration.ofMillis(2000));
    assertThat(backoff.after(4)).isBetween(Duration.ofMillis(4000), Duration.ofMillis(8000));
  }

  @Test
  void delayIsCappedEvenForHugeAttemptNumbers() {
    for (int attempt : new int[] {7, 30, 31, 64, Integer.MAX_VALUE}) {
      assertThat(backoff.after(attempt)).isBetween(Duration.ofSeconds(30), Duration.ofSeconds(60));
    }
  }
}
