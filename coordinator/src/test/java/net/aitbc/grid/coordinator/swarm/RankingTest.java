package net.aitbc.grid.coordinator.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import net.aitbc.grid.coordinator.store.SwarmCandidate;
import org.junit.jupiter.api.Test;

class RankingTest {
  private static SwarmCandidate c(String id, String owner, int tier, double rep, Long latency, double price) {
    return new SwarmCandidate(id, owner, tier, rep, latency, price);
  }

  @Test
  void membershipThenReputationThenLatencyThenPrice() {
    List<SwarmCandidate> ranked = Ranking.ranked(List.of(
        c("slow", "o1", 1, 0.9, 900L, 0), c("member", "o2", 0, 0.1, null, 5), c("fast", "o3", 1, 0.9, 100L, 9),
        c("unmeasured", "o4", 1, 0.9, null, 0), c("cheap", "o5", 1, 0.9, 100L, 1)));
    assertThat(ranked).extracting(SwarmCandidate::workerId)
        .containsExactly("member", "cheap", "fast", "slow", "unmeasured");
  }

  @Test
  void distinctOwnersFirstThenTheRest() {
    List<SwarmCandidate> all = List.of(c("a1", "A", 2, 0.9, null, 0), c("a2", "A", 2, 0.8, null, 0),
        c("b1", "B", 2, 0.5, null, 0));
    assertThat(Ranking.choose(all, 2, Set.of())).extracting(SwarmCandidate::workerId).containsExactly("a1", "b1");
    assertThat(Ranking.choose(all, 3, Set.of())).extracting(SwarmCandidate::workerId).containsExactly("a1", "a2", "b1");
    // An owner already collaborating is passed over while another can serve.
    assertThat(Ranking.choose(all, 1, Set.of("A"))).extracting(SwarmCandidate::workerId).containsExactly("b1");
  }

  @Test
  void explainsWhatPutTheLeaderAhead() {
    assertThat(Ranking.explain(c("w1", "o", 0, 0.8, null, 0), c("w2", "o", 0, 0.5, null, 0)))
        .startsWith("by reputation: 0.8000 over 0.5000 (w2)");
    assertThat(Ranking.explain(c("w1", "o", 0, 0.5, 10L, 0), c("w2", "o", 0, 0.5, null, 0)))
        .startsWith("by measured latency: 10 ms over unmeasured (w2)");
    assertThat(Ranking.explain(c("w1", "o", 0, 0.5, null, 1), c("w2", "o", 0, 0.5, null, 2)))
        .startsWith("by price: 1.0 over 2.0");
    assertThat(Ranking.alone()).startsWith("the only candidate");
  }
}
