package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A worker stream holds a bounded number of bytes, however large the messages it is sent. */
class InboundWindowTest {
  private static final int MIB = 1 << 20;
  private final List<Integer> asks = new ArrayList<>();
  private final InboundWindow window = new InboundWindow(16L * MIB, 128L * MIB, 256, asks::add);

  private int asked() {
    return asks.stream().mapToInt(Integer::intValue).sum();
  }

  @Test
  void largeMessagesThatAreNotDoneWithStopTheAsking() {
    window.start();
    int arrived = 0;
    // Each message is as large as the transport allows, and none is done with (its commit hangs).
    while (arrived < asked()) {
      window.arrived(16 * MIB);
      arrived++;
      assertThat(window.heldBytes() + (long) (asked() - arrived) * 16 * MIB).isLessThanOrEqualTo(128L * MIB);
    }
    assertThat(arrived).isEqualTo(8);
    // Once some are done with, asking resumes, within the same budget.
    for (int i = 0; i < 4; i++) {
      window.done(16 * MIB);
    }
    assertThat(asked()).isGreaterThan(8);
    assertThat(window.heldBytes() + (long) (asked() - arrived) * 16 * MIB).isLessThanOrEqualTo(128L * MIB);
  }

  @Test
  void smallMessagesFlowUpToTheMessageBudgetAskedForAFewAtATime() {
    window.start();
    int arrived = 0;
    while (arrived < asked() && arrived < 1000) {
      window.arrived(100);
      arrived++;
    }
    // Held, never done with: the message budget stops them, not the bytes.
    assertThat(arrived).isBetween(248, 256);
    assertThat(asks).allMatch(n -> n >= 4 || asks.indexOf(n) == 0);
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
    assertThat(asks.size()).isLessThan(10_000 / 3);
  }
}
