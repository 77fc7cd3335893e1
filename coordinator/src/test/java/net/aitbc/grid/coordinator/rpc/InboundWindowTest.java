package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a worker stream holds is bounded in bytes, however large the messages it is sent. */
class InboundWindowTest {
  private static final int MIB = 1 << 20;
  private static final long BUDGET = 64L * MIB;
  private final List<Integer> asks = new ArrayList<>();
  private final InboundWindow window = new InboundWindow(BUDGET, 256, asks::add);

  private int asked() {
    return asks.stream().mapToInt(Integer::intValue).sum();
  }

  @Test
  void oncePastTheBudgetNothingMoreIsAskedForUntilSomeIsDoneWith() {
    window.start();
    int arrived = 0;
    // The largest messages the transport lets in, none done with (their commits hang).
    while (arrived < asked()) {
      window.arrived(16 * MIB);
      arrived++;
    }
    // What was asked ahead before the first large one arrived, and not one more.
    assertThat(arrived).isEqualTo(InboundWindow.MAX_AHEAD);
    assertThat(window.heldBytes()).isLessThanOrEqualTo(BUDGET + (long) InboundWindow.MAX_AHEAD * 16 * MIB);
    for (int i = 0; i < arrived - 4; i++) {
      window.done(16 * MIB);
    }
    assertThat(asked()).isEqualTo(InboundWindow.MAX_AHEAD);
    // Below the budget again: asking resumes, as many as the budget holds of such messages.
    window.done(16 * MIB);
    window.done(16 * MIB);
    assertThat(asked() - arrived).isBetween(1, 2);
  }

  @Test
  void aStreamOfLargeResultsHoldsAboutTheBudget() {
    window.start();
    int arrived = 0;
    long most = 0;
    // 8 MiB results, each done with a while after it arrived (a commit's latency).
    List<Integer> pending = new ArrayList<>();
    for (int step = 0; step < 2_000; step++) {
      if (arrived < asked()) {
        window.arrived(8 * MIB);
        arrived++;
        pending.add(8 * MIB);
      }
      if (pending.size() > 6) {
        window.done(pending.removeFirst());
      }
      most = Math.max(most, window.heldBytes() + (long) (asked() - arrived) * 8 * MIB);
    }
    assertThat(arrived).isGreaterThan(1_000);
    // The budget, plus what was asked ahead before the first large one was seen.
    assertThat(most).isLessThanOrEqualTo(BUDGET + (long) InboundWindow.MAX_AHEAD * 8 * MIB);
  }

  @Test
  void smallMessagesFlowUpToTheMessageBudgetAskedForInBatches() {
    window.start();
    int arrived = 0;
    while (arrived < asked() && arrived < 1000) {
      window.arrived(100);
      arrived++;
    }
    // Held, never done with: the message budget stops them, not the bytes.
    assertThat(arrived).isEqualTo(256);
    assertThat(asks.subList(1, asks.size())).allMatch(n -> n >= InboundWindow.MAX_AHEAD / 2
        || asks.indexOf(n) == asks.size() - 1);
  }

  @Test
  void aStreamThatKeepsUpIsNeverStarved() {
    window.start();
    for (int i = 0; i < 10_000; i++) {
      assertThat(asked()).isGreaterThan(i);
      window.arrived(200);
      window.done(200);
    }
    // Asks went out in batches, not one per message.
    assertThat(asks.size()).isLessThan(10_000 / 8);
  }
}
