package net.aitbc.grid.worker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ProgressCoalescerTest {

  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final List<String> sent = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopScheduler() {
    scheduler.shutdownNow();
  }

  @Test
  void joinsABurstOfTokensIntoFewMessagesWithoutLosingText() {
    long interval = TimeUnit.MILLISECONDS.toNanos(50);
    ProgressCoalescer coalescer = new ProgressCoalescer(sent::add, scheduler, interval);
    StringBuilder expected = new StringBuilder();
    long start = System.nanoTime();
    for (int i = 0; i < 1000; i++) {
      coalescer.output("t" + i + " ");
      expected.append("t").append(i).append(' ');
    }
    long burst = System.nanoTime() - start;

    await()
        .atMost(Duration.ofSeconds(2))
        .until(() -> String.join("", sent).contentEquals(expected));
    // The first chunk at once, one message per interval the burst lasted, and the rest at the end
    // (a slow machine can stretch the burst over a few intervals).
    assertThat(sent).hasSizeLessThanOrEqualTo((int) (2 + burst / interval));
  }

  @Test
  void flushAndCloseSendsWhatIsPendingThenNothingMore() {
    ProgressCoalescer coalescer =
        new ProgressCoalescer(sent::add, scheduler, TimeUnit.SECONDS.toNanos(60));
    coalescer.output("first");
    coalescer.output(" second");

    coalescer.flushAndClose();
    coalescer.output(" late");

    assertThat(sent).containsExactly("first", " second");
  }

  @Test
  void discardDropsWhatIsPending() {
    ProgressCoalescer coalescer =
        new ProgressCoalescer(sent::add, scheduler, TimeUnit.SECONDS.toNanos(60));
    coalescer.output("first");
    coalescer.output(" dropped");

    coalescer.discard();
    coalescer.flushAndClose();

    assertThat(sent).containsExactly("first");
  }
}
