package net.aitbc.grid.worker.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

  private final Duration min = Duration.ofMillis(200);
  private final Duration max = Duration.ofSeconds(15);

  @Test
  void delaysStayUnderACapThatDoublesUpToTheMaximum() {
    Backoff backoff = new Backoff(min, max, new SplittableRandom(42));
    for (int attempt = 0; attempt < 20; attempt++) {
      Duration cap = Duration.ofMillis(Math.min(max.toMillis(), 200L << attempt));
      assertThat(backoff.next()).isBetween(Duration.ZERO, cap);
    }
  }

  @Test
  void jitterSpreadsTheDelaysOverTheWholeRange() {
    Backoff backoff = new Backoff(min, max, new SplittableRandom(7));
    for (int i = 0; i < 10; i++) {
      backoff.next();
    }
    long below = 0;
    for (int i = 0; i < 1000; i++) {
      if (backoff.next().compareTo(max.dividedBy(2)) < 0) {
        below++;
      }
    }
    assertThat(below).isBetween(400L, 600L);
  }

  @Test
  void resetStartsOverFromTheSmallestCap() {
    Backoff backoff = new Backoff(min, max, new SplittableRandom(1));
    for (int i = 0; i < 30; i++) {
      backoff.next();
    }
    backoff.reset();
    for (int i = 0; i < 100; i++) {
      backoff.reset();
      assertThat(backoff.next()).isLessThanOrEqualTo(min);
    }
    assertThat(backoff.max()).isEqualTo(max);
  }
}
