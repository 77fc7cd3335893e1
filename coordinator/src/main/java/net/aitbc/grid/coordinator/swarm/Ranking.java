package net.aitbc.grid.coordinator.swarm;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.aitbc.grid.coordinator.store.SwarmCandidate;

/**
 * How a swarm task chooses among capable workers: swarm membership (tier), then reputation (highest),
 * then measured latency (lowest; unmeasured last), then price (lowest), then worker id; collaborators
 * are taken in that order from distinct owners first, then from owners already chosen when there are
 * not enough owners.
 */
public final class Ranking {
  /** The order of preference. */
  public static final Comparator<SwarmCandidate> ORDER = Comparator.comparingInt(SwarmCandidate::tier)
      .thenComparing(Comparator.comparingDouble(SwarmCandidate::reputation).reversed())
      .thenComparing(c -> c.latencyMs() == null ? Long.MAX_VALUE : c.latencyMs())
      .thenComparingDouble(SwarmCandidate::price)
      .thenComparing(SwarmCandidate::workerId);
  /** The rule in words. */
  public static final String RULE = "swarm membership, then reputation (highest), then measured latency (lowest), "
      + "then price (lowest), then worker id";

  private Ranking() {}

  /** The candidates in order of preference. */
  public static List<SwarmCandidate> ranked(List<SwarmCandidate> candidates) {
    List<SwarmCandidate> out = new ArrayList<>(candidates);
    out.sort(ORDER);
    return out;
  }

  /**
   * Up to {@code n} of the candidates, best first: the best of each owner not yet chosen, then the
   * rest in order. {@code ownersTaken} are owners whose workers already collaborate.
   */
  public static List<SwarmCandidate> choose(List<SwarmCandidate> candidates, int n, Set<String> ownersTaken) {
    List<SwarmCandidate> ranked = ranked(candidates);
    List<SwarmCandidate> chosen = new ArrayList<>(n);
    Set<String> owners = new HashSet<>(ownersTaken);
    for (SwarmCandidate c : ranked) {
      if (chosen.size() < n && owners.add(c.ownerId())) {
        chosen.add(c);
      }
    }
    for (SwarmCandidate c : ranked) {
      if (chosen.size() < n && !chosen.contains(c)) {
        chosen.add(c);
      }
    }
    chosen.sort(ORDER);
    return chosen;
  }

  /**
   * Why {@code leader} leads: what put it ahead of {@code next}, the best of the others (null when it
   * had no rival), in words.
   */
  public static String explain(SwarmCandidate leader, SwarmCandidate next) {
    String why;
    if (leader.tier() != next.tier()) {
      why = "by swarm membership: " + tier(leader.tier()) + " over " + tier(next.tier());
    } else if (leader.reputation() != next.reputation()) {
      why = String.format(Locale.ROOT, "by reputation: %.4f over %.4f", leader.reputation(), next.reputation());
    } else if (!java.util.Objects.equals(leader.latencyMs(), next.latencyMs())) {
      why = "by measured latency: " + latency(leader) + " over " + latency(next);
    } else if (leader.price() != next.price()) {
      why = "by price: " + leader.price() + " over " + next.price();
    } else {
      why = "by worker id, all else equal";
    }
    return why + " (" + next.workerId() + "); rule: " + RULE;
  }

  /** The leader's rule when it had no rival. */
  public static String alone() {
    return "the only candidate; rule: " + RULE;
  }

  private static String tier(int tier) {
    return switch (tier) {
      case 0 -> "member of the swarm asked for";
      case 1 -> "member of a swarm of the capability";
      default -> "no swarm member";
    };
  }

  private static String latency(SwarmCandidate c) {
    return c.latencyMs() == null ? "unmeasured" : c.latencyMs() + " ms";
  }
}
