package net.aitbc.grid.coordinator.workflow;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import net.aitbc.grid.db.enums.CoordinationStrategy;
import org.jspecify.annotations.Nullable;

/**
 * Recommends changes to a network for an objective, each computed from its agents' measurements with
 * the {@link NetworkModel}: drop (or replace) an agent that fails too often, run independent agents
 * in parallel, order agents so that a failing run stops before the others spend, run them in sequence
 * for the same reason, drop agents whose results nothing reads. A change is advised only where the
 * model expects it to improve the objective's figure by at least {@value #MIN_GAIN_PERCENT}%; the
 * rules and formulas are in README "Networks".
 */
public final class NetworkOptimizer {
  /** An agent is judged unreliable only after this many finished executions. */
  static final int MIN_SAMPLES = 3;
  /** Below this success rate an agent is unreliable. */
  static final BigDecimal RELIABLE = new BigDecimal("0.8");
  static final int MIN_GAIN_PERCENT = 5;

  private NetworkOptimizer() {}

  /**
   * What the recommendations rest on.
   *
   * @param strategy the network's strategy
   * @param agents its agents' measurements, in the network's order
   * @param readsPrevious for each agent, whether its workflow reads the input {@code previous}
   * @param aggregatorReadsResults whether the first agent's workflow reads the input {@code results}
   */
  public record Input(CoordinationStrategy strategy, List<NetworkStats.AgentFigures> agents,
      List<Boolean> readsPrevious, boolean aggregatorReadsResults) {
    /** Copies the lists. */
    public Input {
      agents = List.copyOf(agents);
      readsPrevious = List.copyOf(readsPrevious);
    }
  }

  /**
   * One recommendation.
   *
   * @param action what to do: drop, replace, reorder, run_in_parallel, run_in_sequence, keep or collect_data
   * @param workflowIds the agents concerned (for reorder and run_in_sequence: all, in the order advised)
   * @param reason why, in terms of the measurements
   * @param expectedEffect the objective's figure now and as expected after the change
   * @param metric the name of that figure
   * @param current its value now, as a decimal (empty when there is none)
   * @param expected its value expected after the change, as a decimal (empty when there is none)
   * @param strategy the strategy advised, or null when it stays
   */
  public record Advice(String action, List<UUID> workflowIds, String reason, String expectedEffect, String metric,
      String current, String expected, @Nullable CoordinationStrategy strategy) {
    /** Copies the list. */
    public Advice {
      workflowIds = List.copyOf(workflowIds);
    }
  }

  /** A recommendation and how much it is expected to gain (NaN: not estimated, for want of measurements). */
  private record Candidate(Advice advice, double gain) {}

  /** The recommendations for {@code objective}, the most effective first; never empty. */
  public static List<Advice> optimize(Objective objective, Input in) {
    NetworkModel model = new NetworkModel(in.strategy(), in.agents().stream().map(NetworkOptimizer::measured).toList());
    boolean workIsCost = in.agents().stream().anyMatch(a -> a.meanCost().signum() > 0);
    Advisor advisor = new Advisor(objective, model, workIsCost, in);
    List<Candidate> found = new ArrayList<>(advisor.unreliable());
    if (model.known()) {
      switch (objective) {
        case SPEED -> found.addAll(advisor.parallel());
        case COST, EFFICIENCY -> {
          found.addAll(advisor.unusedResults());
          found.addAll(advisor.failFast());
        }
        case QUALITY -> {
          // Only reliability changes the share of runs that complete.
        }
      }
    }
    List<Candidate> kept = new ArrayList<>(found.stream()
        .filter(c -> Double.isNaN(c.gain()) || c.gain() * 100 >= MIN_GAIN_PERCENT).toList());
    // Unestimated ones first (they are failing agents whose effect cannot be computed yet), then by gain.
    kept.sort(Comparator.comparingDouble((Candidate c) -> Double.isNaN(c.gain()) ? Double.MAX_VALUE : c.gain())
        .reversed());
    if (!kept.isEmpty()) {
      return kept.stream().map(Candidate::advice).toList();
    }
    return List.of(model.known() ? advisor.keep() : advisor.collectData());
  }

  private static NetworkModel.Agent measured(NetworkStats.AgentFigures f) {
    BigDecimal success = f.finished() == 0 ? null
        : BigDecimal.valueOf(f.completed()).divide(BigDecimal.valueOf(f.finished()), NetworkModel.MC);
    return new NetworkModel.Agent(f.workflowId(), f.name(), success, f.meanCost(),
        BigDecimal.valueOf(f.latency().p50()));
  }

  /** The rules, over one network's model. */
  private static final class Advisor {
    private final Objective objective;
    private final NetworkModel model;
    private final boolean workIsCost;
    private final Input in;
    private final List<NetworkModel.Agent> agents;

    Advisor(Objective objective, NetworkModel model, boolean workIsCost, Input in) {
      this.objective = objective;
      this.model = model;
      this.workIsCost = workIsCost;
      this.in = in;
      this.agents = model.agents();
    }

    /** Every agent with enough finished executions that completes less than {@link #RELIABLE} of them. */
    List<Candidate> unreliable() {
      List<Candidate> out = new ArrayList<>();
      List<Integer> worst = IntStream.range(0, agents.size())
          .filter(i -> in.agents().get(i).finished() >= MIN_SAMPLES && agents.get(i).s().compareTo(RELIABLE) < 0)
          .boxed()
          .sorted(Comparator.comparing((Integer i) -> agents.get(i).s()))
          .toList();
      for (int i : worst) {
        NetworkStats.AgentFigures f = in.agents().get(i);
        String why = quote(i) + " completed " + f.completed() + " of " + f.finished() + " executions ("
            + Objective.percent(agents.get(i).s()) + "), below " + Objective.percent(RELIABLE)
            + "; a run completes only when every agent does";
        String keepIt = mustStay(i);
        if (keepIt == null) {
          out.add(change(model.without(i), "drop", List.of(agents.get(i).id()), why, null));
        } else {
          out.add(change(model.replaced(i), "replace", List.of(agents.get(i).id()), why + "; " + keepIt, null));
        }
      }
      return out;
    }

    /** Why agent {@code i} cannot simply be dropped, or null when it can. */
    private @Nullable String mustStay(int i) {
      CoordinationStrategy s = in.strategy();
      if (agents.size() == 1) {
        return "it is the network's only agent, so it must be replaced, not dropped";
      }
      if (s == CoordinationStrategy.hybrid && i == 0) {
        return "it aggregates this hybrid network, so it must be replaced, not dropped";
      }
      if (s == CoordinationStrategy.hybrid && agents.size() == 2) {
        return "it is the only agent the aggregator aggregates, so it must be replaced, not dropped";
      }
      if (s == CoordinationStrategy.centralized && i + 1 < agents.size() && in.readsPrevious().get(i + 1)) {
        return quote(i + 1) + " reads its result as previous, so it must be replaced, not dropped";
      }
      return null;
    }

    /** Speed: a centralized network whose agents do not read {@code previous} need not wait for each other. */
    List<Candidate> parallel() {
      if (in.strategy() != CoordinationStrategy.centralized || agents.size() < 2 || readsPrevious(1)) {
        return List.of();
      }
      NetworkModel parallel = model.as(CoordinationStrategy.decentralized, agents);
      String why = "no agent reads 'previous', so none needs another's result: in sequence a completed run takes the"
          + " sum of the agents' median latencies (" + ms(model.latency()) + "), in parallel the longest ("
          + ms(parallel.latency()) + ")";
      return List.of(change(parallel, "run_in_parallel", ids(agents), why, CoordinationStrategy.decentralized));
    }

    /** Cost, efficiency: a hybrid aggregator that never reads {@code results} makes the other agents' work useless. */
    List<Candidate> unusedResults() {
      if (in.strategy() != CoordinationStrategy.hybrid || in.aggregatorReadsResults()) {
        return List.of();
      }
      List<Integer> others = IntStream.range(1, agents.size()).boxed()
          .sorted(Comparator.comparing((Integer i) -> costPerSuccess(i)).reversed()).toList();
      NetworkModel alone = model.as(CoordinationStrategy.centralized, List.of(agents.getFirst()));
      String why = "the aggregator " + quote(0) + " never reads 'results', so the other agents' results are not used;"
          + " they cost " + others.stream().map(i -> quote(i) + " " + Objective.money(costPerSuccess(i)))
          .collect(Collectors.joining(", ")) + " per completed execution";
      return List.of(change(alone, "drop", others.stream().map(i -> agents.get(i).id()).toList(), why, null));
    }

    /**
     * Cost, efficiency: in sequence, the agents likeliest to fail for what they spend go first, so that
     * a failing run stops before the others spend; a decentralized network of agents that do not read
     * {@code previous} may be run so too.
     */
    List<Candidate> failFast() {
      boolean someFail = agents.stream().anyMatch(a -> a.s().compareTo(BigDecimal.ONE) < 0);
      if (agents.size() < 2 || !someFail) {
        return List.of();
      }
      Function<NetworkModel.Agent, BigDecimal> work = work();
      if (in.strategy() == CoordinationStrategy.centralized) {
        List<List<Integer>> segments = segments();
        List<List<Integer>> ordered = new ArrayList<>(segments);
        ordered.sort(Comparator.comparing((List<Integer> seg) -> failFastKey(seg, work)));
        if (ordered.equals(segments)) {
          return List.of();
        }
        List<NetworkModel.Agent> order = ordered.stream().flatMap(List::stream).map(agents::get).toList();
        String why = "ordered by what each spends per failure it causes (expected " + spend() + " ÷ failure rate), "
            + quote(ordered.getFirst().getFirst()) + " goes first: a run that fails stops before the others spend"
            + (segments.size() < agents.size() ? " (an agent that reads 'previous' keeps its predecessor)" : "");
        return List.of(change(model.as(CoordinationStrategy.centralized, order), "reorder", ids(order), why, null));
      }
      if (in.strategy() == CoordinationStrategy.decentralized && !readsPrevious(0)) {
        List<NetworkModel.Agent> order = IntStream.range(0, agents.size()).boxed()
            .sorted(Comparator.comparing((Integer i) -> failFastKey(List.of(i), work)))
            .map(agents::get).toList();
        NetworkModel sequence = model.as(CoordinationStrategy.centralized, order);
        String why = "in parallel every agent spends even in the " + Objective.percent(BigDecimal.ONE
            .subtract(model.success())) + " of runs that fail; in sequence, ordered by " + spend()
            + " ÷ failure rate, a failing run stops at its first failure (a completed run then takes "
            + ms(sequence.latency()) + " instead of " + ms(model.latency()) + ")";
        return List.of(change(sequence, "run_in_sequence", ids(order), why, CoordinationStrategy.centralized));
      }
      return List.of();
    }

    /** Runs of agents each of which (after the first) reads the one before's result: they move together. */
    private List<List<Integer>> segments() {
      List<List<Integer>> out = new ArrayList<>();
      for (int i = 0; i < agents.size(); i++) {
        if (i == 0 || !in.readsPrevious().get(i)) {
          out.add(new ArrayList<>());
        }
        out.getLast().add(i);
      }
      return out;
    }

    /** A segment's expected spend over its chance of failing (the order that minimizes what failing runs spend). */
    private BigDecimal failFastKey(List<Integer> segment, Function<NetworkModel.Agent, BigDecimal> work) {
      NetworkModel part = model.as(CoordinationStrategy.centralized, segment.stream().map(agents::get).toList());
      BigDecimal fails = BigDecimal.ONE.subtract(part.success());
      // Segments that never fail go last, in their order (the sort is stable).
      return fails.signum() == 0 ? BigDecimal.valueOf(Long.MAX_VALUE)
          : part.expected(work).divide(fails, NetworkModel.MC);
    }

    /** Nothing to change: what the measurements say instead. */
    Advice keep() {
      BigDecimal now = objective.value(model, workIsCost);
      String why = switch (objective) {
        case QUALITY -> "every agent with at least " + MIN_SAMPLES + " finished executions completes at least "
            + Objective.percent(RELIABLE) + " of them; runs are expected to complete "
            + Objective.percent(model.success()) + " of the time";
        case SPEED -> {
          int slowest = slowest();
          yield quote(slowest) + " is the slowest agent (median " + ms(agents.get(slowest).latency())
              + ") of a completed run's " + ms(model.latency()) + (in.strategy() == CoordinationStrategy.centralized
              ? "" : ", and no change that keeps every agent's work makes runs faster");
        }
        case COST -> {
          BigDecimal total = model.full(NetworkModel.Agent::cost);
          if (total.signum() == 0) {
            yield "no agent's executions cost anything";
          }
          int dearest = IntStream.range(0, agents.size()).boxed()
              .max(Comparator.comparing((Integer i) -> agents.get(i).cost())).orElse(0);
          yield quote(dearest) + " costs the most, " + Objective.money(agents.get(dearest).cost()) + " per execution ("
              + Objective.percent(agents.get(dearest).cost().divide(total, NetworkModel.MC))
              + " of a completed run's cost), and no order or agent left out is expected to save "
              + MIN_GAIN_PERCENT + "% or more";
        }
        case EFFICIENCY -> Objective.percent(now == null ? BigDecimal.ZERO : now) + " of the " + spend()
            + " spent goes into runs that complete, and no change is expected to raise it by " + MIN_GAIN_PERCENT
            + "% or more";
      };
      return new Advice("keep", ids(agents), why, "no change advised; " + objective.stays(now),
          objective.metric(), objective.decimal(now), objective.decimal(now), null);
    }

    /** Some agents have no finished execution: nothing can be estimated. */
    Advice collectData() {
      List<Integer> unknown = IntStream.range(0, agents.size()).filter(i -> agents.get(i).success() == null).boxed()
          .toList();
      String why = unknown.stream().map(this::quote).collect(Collectors.joining(", ")) + (unknown.size() == 1
          ? " has" : " have") + " no finished execution in the network's latest " + NetworkStats.RUNS_MEASURED
          + " runs: run the network to measure " + (unknown.size() == 1 ? "it" : "them");
      return new Advice("collect_data", unknown.stream().map(i -> agents.get(i).id()).toList(), why,
          "none until every agent has been measured", objective.metric(), "", "", null);
    }

    private Candidate change(NetworkModel next, String action, List<UUID> ids, String reason,
        @Nullable CoordinationStrategy strategy) {
      if (!model.known() || !next.known()) {
        String unknown = IntStream.range(0, agents.size()).filter(i -> agents.get(i).success() == null)
            .mapToObj(this::quote).collect(Collectors.joining(", "));
        return new Candidate(new Advice(action, ids, reason, "not estimated yet: " + unknown
            + " has no finished execution", objective.metric(), "", "", strategy), Double.NaN);
      }
      BigDecimal now = objective.value(model, workIsCost);
      BigDecimal then = objective.value(next, workIsCost);
      return new Candidate(new Advice(action, ids, reason, objective.effect(now, then), objective.metric(),
          objective.decimal(now), objective.decimal(then), strategy), objective.gain(now, then));
    }

    private Function<NetworkModel.Agent, BigDecimal> work() {
      return objective == Objective.COST || workIsCost ? NetworkModel.Agent::cost : NetworkModel.Agent::latency;
    }

    private String spend() {
      return objective == Objective.COST || workIsCost ? "cost" : "time";
    }

    private boolean readsPrevious(int from) {
      return in.readsPrevious().subList(from, agents.size()).contains(true);
    }

    private int slowest() {
      return IntStream.range(0, agents.size()).boxed()
          .max(Comparator.comparing((Integer i) -> agents.get(i).latency())).orElse(0);
    }

    private BigDecimal costPerSuccess(int i) {
      BigDecimal c = in.agents().get(i).costPerSuccess();
      return c == null ? agents.get(i).cost() : c;
    }

    private String quote(int i) {
      return "'" + agents.get(i).name() + "'";
    }

    private static String ms(BigDecimal millis) {
      return millis.setScale(0, java.math.RoundingMode.HALF_EVEN).toPlainString() + " ms";
    }

    private static List<UUID> ids(List<NetworkModel.Agent> agents) {
      return agents.stream().map(NetworkModel.Agent::id).toList();
    }
  }
}
