package net.aitbc.grid.coordinator.workflow;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import net.aitbc.grid.db.enums.CoordinationStrategy;
import org.jspecify.annotations.Nullable;

/**
 * What a network is expected to do, from its agents' measurements, under the assumption that agents
 * succeed independently of each other (README "Networks" gives the formulas). With s the success
 * rate, c the mean cost and L the median latency of each agent, a run completes with probability
 * P = Π s; a completed run takes Σ L in sequence, max L in parallel, and (hybrid) the parallel
 * agents' max L plus the aggregator's L; a run is expected to spend Σ c_i Π_{j<i} s_j in sequence
 * (it stops at the first failure), Σ c in parallel, and (hybrid) the parallel agents' Σ c plus the
 * aggregator's c times the chance that they all complete.
 */
final class NetworkModel {
  static final MathContext MC = MathContext.DECIMAL64;

  /**
   * One agent as measured.
   *
   * @param id its workflow
   * @param name its workflow's name
   * @param success completed ÷ finished, or null when none of its executions has finished
   * @param cost the mean cost of its finished executions
   * @param latency the median run time of its finished executions, in milliseconds
   */
  record Agent(UUID id, String name, @Nullable BigDecimal success, BigDecimal cost, BigDecimal latency) {
    /** Its success rate; only for a model that is {@link #known()}. */
    BigDecimal s() {
      return success == null ? BigDecimal.ONE : success;
    }
  }

  private final CoordinationStrategy strategy;
  private final List<Agent> agents;

  NetworkModel(CoordinationStrategy strategy, List<Agent> agents) {
    this.strategy = strategy;
    this.agents = List.copyOf(agents);
  }

  CoordinationStrategy strategy() {
    return strategy;
  }

  List<Agent> agents() {
    return agents;
  }

  /** Whether every agent has been measured (otherwise no figure can be expected). */
  boolean known() {
    return agents.stream().allMatch(a -> a.success() != null);
  }

  /** P: the chance that a run completes. */
  BigDecimal success() {
    BigDecimal p = BigDecimal.ONE;
    for (Agent a : agents) {
      p = p.multiply(a.s(), MC);
    }
    return p;
  }

  /** How long a completed run takes, in milliseconds. */
  BigDecimal latency() {
    return switch (strategy) {
      case centralized -> full(Agent::latency);
      case decentralized -> max(agents, Agent::latency);
      case hybrid -> max(agents.subList(1, agents.size()), Agent::latency).add(agents.getFirst().latency());
    };
  }

  /** What a run is expected to spend of {@code value} (cost, or time as work), failed runs included. */
  BigDecimal expected(Function<Agent, BigDecimal> value) {
    return switch (strategy) {
      case centralized -> {
        BigDecimal sum = BigDecimal.ZERO;
        BigDecimal reached = BigDecimal.ONE;
        for (Agent a : agents) {
          sum = sum.add(value.apply(a).multiply(reached, MC), MC);
          reached = reached.multiply(a.s(), MC);
        }
        yield sum;
      }
      case decentralized -> full(value);
      case hybrid -> {
        List<Agent> parallel = agents.subList(1, agents.size());
        BigDecimal all = BigDecimal.ONE;
        for (Agent a : parallel) {
          all = all.multiply(a.s(), MC);
        }
        yield new NetworkModel(CoordinationStrategy.decentralized, parallel).full(value)
            .add(value.apply(agents.getFirst()).multiply(all, MC), MC);
      }
    };
  }

  /** What a completed run spends of {@code value}: every agent's. */
  BigDecimal full(Function<Agent, BigDecimal> value) {
    BigDecimal sum = BigDecimal.ZERO;
    for (Agent a : agents) {
      sum = sum.add(value.apply(a), MC);
    }
    return sum;
  }

  /** The network without agent {@code index}. */
  NetworkModel without(int index) {
    List<Agent> rest = new ArrayList<>(agents);
    rest.remove(index);
    return new NetworkModel(strategy, rest);
  }

  /** The network with agent {@code index} replaced by one that always completes, at the same cost and speed. */
  NetworkModel replaced(int index) {
    List<Agent> copy = new ArrayList<>(agents);
    Agent a = copy.get(index);
    copy.set(index, new Agent(a.id(), a.name(), BigDecimal.ONE, a.cost(), a.latency()));
    return new NetworkModel(strategy, copy);
  }

  /** The same agents in {@code order} under {@code strategy}. */
  NetworkModel as(CoordinationStrategy other, List<Agent> order) {
    return new NetworkModel(other, order);
  }

  private static BigDecimal max(List<Agent> agents, Function<Agent, BigDecimal> value) {
    return agents.stream().map(value).max(BigDecimal::compareTo).orElse(BigDecimal.ZERO);
  }
}
