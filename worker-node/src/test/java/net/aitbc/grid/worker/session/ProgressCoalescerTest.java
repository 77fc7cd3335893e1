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
    ProgressCoalescer coalescer =
        new ProgressCoalescer(sent::add, scheduler, TimeUnit.MILLISECONDS.toNanos(50));
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      coalescer.output("t" + i + " ");
      expected.append("t").append(i).append(' ');
    }

    await()
        .atMost(Duration.ofSeconds(2))
        .until(() -> String.join("", sent).contentEquals(expected));
    assertThat(sent).hasSizeLessThanOrEqualTo(3);
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
