package net.aitbc.grid.coordinator.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.workflow.NetworkOptimizer.Advice;
import net.aitbc.grid.coordinator.workflow.NetworkOptimizer.Input;
import net.aitbc.grid.coordinator.workflow.NetworkStats.AgentFigures;
import net.aitbc.grid.coordinator.workflow.NetworkStats.Latency;
import net.aitbc.grid.db.enums.CoordinationStrategy;
import org.junit.jupiter.api.Test;

/** The rules of README "Networks", each checked with figures computed by hand. */
class NetworkOptimizerTest {
  private static UUID id(String name) {
    return UUID.nameUUIDFromBytes(name.getBytes());
  }

  /** An agent that completed {@code completed} of {@code finished} executions, each costing {@code cost}, in {@code ms}. */
  private static AgentFigures agent(String name, int completed, int finished, String cost, long ms) {
    BigDecimal total = new BigDecimal(cost).multiply(BigDecimal.valueOf(finished));
    return new AgentFigures(id(name), name, finished, completed, finished - completed, total, new Latency(ms, ms, ms));
  }

  private static Input input(CoordinationStrategy s, List<AgentFigures> agents, boolean... readsPrevious) {
    List<Boolean> reads = new ArrayList<>(Collections.nCopies(agents.size(), false));
    for (int i = 0; i < readsPrevious.length; i++) {
      reads.set(i, readsPrevious[i]);
    }
    return new Input(s, agents, reads, true);
  }

  @Test
  void aCentralizedNetworkWhoseAgentsReadNoPreviousResultIsAdvisedToRunInParallel() {
    Input in = input(CoordinationStrategy.centralized,
        List.of(agent("a", 4, 4, "0", 1000), agent("b", 4, 4, "0", 300), agent("c", 4, 4, "0", 200)));
    List<Advice> advice = NetworkOptimizer.optimize(Objective.SPEED, in);

    assertThat(advice).hasSize(1);
    Advice a = advice.getFirst();
    assertThat(a.action()).isEqualTo("run_in_parallel");
    assertThat(a.strategy()).isEqualTo(CoordinationStrategy.decentralized);
    assertThat(a.metric()).isEqualTo("ms_per_completed_run");
    // In sequence 1000 + 300 + 200 ms; in parallel the longest, 1000 ms.
    assertThat(a.current()).isEqualTo("1500");
    assertThat(a.expected()).isEqualTo("1000");
    assertThat(a.expectedEffect()).isEqualTo("time per completed run: 1500 ms → 1000 ms (-33.3%)");
  }

  @Test
  void agentsThatReadThePreviousResultKeepTheSequence() {
    Input in = input(CoordinationStrategy.centralized,
        List.of(agent("a", 4, 4, "0", 1000), agent("b", 4, 4, "0", 300)), false, true);
    List<Advice> advice = NetworkOptimizer.optimize(Objective.SPEED, in);

    assertThat(advice).extracting(Advice::action).containsExactly("keep");
    assertThat(advice.getFirst().reason()).startsWith("'a' is the slowest agent (median 1000 ms) of a completed run's"
        + " 1300 ms");
  }

  @Test
  void aFailingAgentIsAdvisedToBeDroppedWithTheEffectOnEveryObjective() {
    Input in = input(CoordinationStrategy.decentralized,
        List.of(agent("good", 4, 4, "0.2", 100), agent("flaky", 0, 4, "0.1", 50)));

    Advice quality = NetworkOptimizer.optimize(Objective.QUALITY, in).getFirst();
    assertThat(quality.action()).isEqualTo("drop");
    assertThat(quality.workflowIds()).containsExactly(id("flaky"));
    assertThat(quality.reason()).startsWith("'flaky' completed 0 of 4 executions (0%), below 80%");
    assertThat(quality.expectedEffect()).isEqualTo("run success rate: 0% → 100%");

    Advice speed = NetworkOptimizer.optimize(Objective.SPEED, in).getFirst();
    assertThat(speed.action()).isEqualTo("drop");
    assertThat(speed.current()).isEmpty();
    assertThat(speed.expected()).isEqualTo("100");
    assertThat(speed.expectedEffect()).isEqualTo("time per completed run: none (no run completes) → 100 ms");

    Advice cost = NetworkOptimizer.optimize(Objective.COST, in).getFirst();
    assertThat(cost.action()).isEqualTo("drop");
    assertThat(cost.expected()).isEqualTo("0.2");
  }

  @Test
  void anAgentWhoseSuccessorReadsItsResultIsToBeReplacedNotDropped() {
    Input in = input(CoordinationStrategy.centralized,
        List.of(agent("first", 1, 2, "0", 10), agent("flaky", 1, 4, "0", 10), agent("reader", 1, 1, "0", 10)),
        false, false, true);
    Advice a = NetworkOptimizer.optimize(Objective.QUALITY, in).getFirst();

    assertThat(a.action()).isEqualTo("replace");
    assertThat(a.workflowIds()).containsExactly(id("flaky"));
    assertThat(a.reason()).endsWith("'reader' reads its result as previous, so it must be replaced, not dropped");
    // P = 1/2 × 1/4 × 1 = 12.5%; with 'flaky' always completing, 50% ('first' has too few executions to judge).
    assertThat(a.expectedEffect()).isEqualTo("run success rate: 12.5% → 50% (+300%)");
  }

  @Test
  void forCostAFailingRunStopsEarlierWhenTheAgentLikeliestToFailForItsCostGoesFirst() {
    // Now: 1 + 0.9 × 0.5 = 1.45 spent per run, P = 0.45: 3.2222 per completed run. Cost ÷ failure rate:
    // 'cheap' 0.5 / 0.5 = 1, 'dear' 1 / 0.1 = 10. Cheap first: 0.5 + 0.5 × 1 = 1 per run, 2.2222 per completed one.
    Input in = input(CoordinationStrategy.centralized,
        List.of(agent("dear", 9, 10, "1", 100), agent("cheap", 5, 10, "0.5", 100)));
    List<Advice> advice = NetworkOptimizer.optimize(Objective.COST, in);

    Advice reorder = advice.stream().filter(a -> a.action().equals("reorder")).findFirst().orElseThrow();
    assertThat(reorder.workflowIds()).containsExactly(id("cheap"), id("dear"));
    assertThat(reorder.current()).isEqualTo("3.22222222");
    assertThat(reorder.expected()).isEqualTo("2.22222222");
    // 'cheap' is also below 80%: dropping it is advised too, and saves more.
    assertThat(advice.getFirst().action()).isEqualTo("drop");
    assertThat(advice.getFirst().workflowIds()).containsExactly(id("cheap"));
  }

  @Test
  void aDecentralizedNetworkWithAFailingAgentIsAdvisedToRunInSequenceForCost() {
    Input in = input(CoordinationStrategy.decentralized,
        List.of(agent("a", 10, 10, "1", 100), agent("b", 8, 10, "1", 200)));
    Advice a = NetworkOptimizer.optimize(Objective.COST, in).getFirst();

    assertThat(a.action()).isEqualTo("run_in_sequence");
    assertThat(a.strategy()).isEqualTo(CoordinationStrategy.centralized);
    assertThat(a.workflowIds()).containsExactly(id("b"), id("a"));
    // Now 2 per run, P = 0.8: 2.5; 'b' first: 1 + 0.8 × 1 = 1.8 per run, 2.25 per completed one.
    assertThat(a.current()).isEqualTo("2.5");
    assertThat(a.expected()).isEqualTo("2.25");
    assertThat(a.reason()).endsWith("(a completed run then takes 300 ms instead of 200 ms)");
  }

  @Test
  void aHybridAggregatorThatNeverReadsTheResultsMakesTheOthersUseless() {
    Input in = new Input(CoordinationStrategy.hybrid,
        List.of(agent("lead", 3, 3, "0.1", 10), agent("w1", 3, 3, "0.3", 10), agent("w2", 3, 3, "0.2", 10)),
        List.of(false, false, false), false);
    Advice a = NetworkOptimizer.optimize(Objective.COST, in).getFirst();

    assertThat(a.action()).isEqualTo("drop");
    assertThat(a.workflowIds()).containsExactly(id("w1"), id("w2"));
    assertThat(a.expectedEffect()).isEqualTo("cost per completed run: 0.6 → 0.1 (-83.3%)");
  }

  @Test
  void withoutMeasurementsItAsksForThem() {
    Input in = input(CoordinationStrategy.decentralized, List.of(agent("a", 2, 2, "0", 10), agent("b", 0, 0, "0", 0)));
    List<Advice> advice = NetworkOptimizer.optimize(Objective.SPEED, in);

    assertThat(advice).extracting(Advice::action).containsExactly("collect_data");
    assertThat(advice.getFirst().workflowIds()).containsExactly(id("b"));
  }

  @Test
  void aReliableParallelNetworkIsKeptWithItsFiguresGiven() {
    Input in = input(CoordinationStrategy.decentralized,
        List.of(agent("a", 5, 5, "0.1", 10), agent("b", 5, 5, "0.3", 20)));

    Advice quality = NetworkOptimizer.optimize(Objective.QUALITY, in).getFirst();
    assertThat(quality.action()).isEqualTo("keep");
    assertThat(quality.expectedEffect()).isEqualTo("no change advised; run success rate stays 100%");
    Advice cost = NetworkOptimizer.optimize(Objective.COST, in).getFirst();
    assertThat(cost.action()).isEqualTo("keep");
    assertThat(cost.reason()).startsWith("'b' costs the most, 0.3 per execution (75% of a completed run's cost)");
  }
}
