package net.aitbc.grid.coordinator.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PacedTest {
  @Test
  void runsAtOnceThenNotBeforeItsInterval() {
    Paced paced = new Paced(Duration.ofHours(1));
    AtomicInteger runs = new AtomicInteger();
    assertThat(paced.runIfDue(runs::incrementAndGet, -1)).isEqualTo(1);
    assertThat(paced.runIfDue(runs::incrementAndGet, -1)).isEqualTo(-1);
    assertThat(runs).hasValue(1);
  }

  @Test
  void aSlowQueryWaitsFiftyTimesItsCost() {
    Paced paced = new Paced(Duration.ZERO);
    AtomicInteger runs = new AtomicInteger();
    // 30 ms of work: the next run is due 1.5 s later, not at once.
    paced.runIfDue(() -> {
      try {
        Thread.sleep(30);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return runs.incrementAndGet();
    }, -1);
    assertThat(paced.runIfDue(runs::incrementAndGet, -1)).isEqualTo(-1);
    assertThat(runs).hasValue(1);
  }
}
