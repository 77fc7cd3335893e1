package net.aitbc.grid.coordinator.workflow;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * What optimizing a network aims at, and the figure of the {@link NetworkModel} that measures it
 * (README "Networks"): speed is the time per completed run (T ÷ P, retries of failed runs
 * included), cost the cost per completed run (expected cost ÷ P), quality the share of runs that
 * complete (P), efficiency the share of the work spent that goes into runs that complete
 * (P × a completed run's work ÷ a run's expected work; work is cost, or time where nothing costs).
 */
public enum Objective {
  SPEED("ms_per_completed_run", "time per completed run", false),
  EFFICIENCY("work_share_in_completed_runs", "share of work in completed runs", true),
  COST("cost_per_completed_run", "cost per completed run", false),
  QUALITY("run_success_rate", "run success rate", true);

  private final String metric;
  private final String label;
  private final boolean higherIsBetter;

  Objective(String metric, String label, boolean higherIsBetter) {
    this.metric = metric;
    this.label = label;
    this.higherIsBetter = higherIsBetter;
  }

  /** Its name as clients write it. */
  public String title() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The objective named {@code name} (any case); empty for any other. */
  public static Optional<Objective> named(String name) {
    return Arrays.stream(values()).filter(o -> o.title().equals(name.strip().toLowerCase(Locale.ROOT))).findFirst();
  }

  /** Every objective's name, for messages. */
  public static String names() {
    return Arrays.stream(values()).map(Objective::title).collect(Collectors.joining(", "));
  }

  /** The name of the figure that measures it. */
  String metric() {
    return metric;
  }

  /** The figure for {@code model}; null where there is none (no run completes: no time or cost per completed run). */
  @Nullable BigDecimal value(NetworkModel model, boolean workIsCost) {
    BigDecimal p = model.success();
    return switch (this) {
      case QUALITY -> p;
      case SPEED -> p.signum() == 0 ? null : model.latency().divide(p, NetworkModel.MC);
      case COST -> p.signum() == 0 ? null : model.expected(NetworkModel.Agent::cost).divide(p, NetworkModel.MC);
      case EFFICIENCY -> {
        Function<NetworkModel.Agent, BigDecimal> work =
            workIsCost ? NetworkModel.Agent::cost : NetworkModel.Agent::latency;
        BigDecimal expected = model.expected(work);
        yield expected.signum() == 0 ? p : p.multiply(model.full(work), NetworkModel.MC).divide(expected,
            NetworkModel.MC);
      }
    };
  }

  /**
   * How much better {@code expected} is than {@code current}, as a fraction of it (0.25: 25% better;
   * negative: worse); a large number when the change makes a figure exist or leave zero.
   */
  double gain(@Nullable BigDecimal current, @Nullable BigDecimal expected) {
    if (current == null || expected == null) {
      return current == null && expected != null ? 1e9 : current != null && expected == null ? -1e9 : 0;
    }
    if (current.signum() == 0) {
      int sign = expected.signum() * (higherIsBetter ? 1 : -1);
      return sign == 0 ? 0 : sign * 1e9;
    }
    double change = expected.subtract(current).doubleValue() / current.doubleValue();
    return higherIsBetter ? change : -change;
  }

  /** The figure as people read it. */
  String show(@Nullable BigDecimal value) {
    if (value == null) {
      return "none (no run completes)";
    }
    return switch (this) {
      case QUALITY, EFFICIENCY -> percent(value);
      case SPEED -> value.setScale(0, RoundingMode.HALF_EVEN).toPlainString() + " ms";
      case COST -> money(value);
    };
  }

  /** The figure as a decimal for programs: a fraction, whole milliseconds, or a cost; empty for none. */
  String decimal(@Nullable BigDecimal value) {
    if (value == null) {
      return "";
    }
    BigDecimal v = switch (this) {
      case QUALITY, EFFICIENCY -> value.setScale(4, RoundingMode.HALF_EVEN);
      case SPEED -> value.setScale(0, RoundingMode.HALF_EVEN);
      case COST -> value.setScale(8, RoundingMode.HALF_EVEN);
    };
    return v.signum() == 0 ? "0" : v.stripTrailingZeros().toPlainString();
  }

  /** "label: current → expected (±x%)". */
  String effect(@Nullable BigDecimal current, @Nullable BigDecimal expected) {
    String change = "";
    if (current != null && expected != null && current.signum() != 0) {
      BigDecimal pct = expected.subtract(current).multiply(BigDecimal.valueOf(100)).divide(current, NetworkModel.MC)
          .setScale(1, RoundingMode.HALF_EVEN).stripTrailingZeros();
      change = " (" + (pct.signum() > 0 ? "+" : "") + pct.toPlainString() + "%)";
    }
    return label + ": " + show(current) + " → " + show(expected) + change;
  }

  /** "label stays value": what keeping the network as it is leaves the figure at. */
  String stays(@Nullable BigDecimal value) {
    return label + " stays " + show(value);
  }

  /** A fraction as a percentage with at most one decimal. */
  static String percent(BigDecimal fraction) {
    BigDecimal pct = fraction.multiply(BigDecimal.valueOf(100)).setScale(1, RoundingMode.HALF_EVEN)
        .stripTrailingZeros();
    return (pct.signum() == 0 ? "0" : pct.toPlainString()) + "%";
  }

  /** A cost as a plain decimal with at most 8 places. */
  static String money(BigDecimal cost) {
    BigDecimal v = cost.setScale(8, RoundingMode.HALF_EVEN);
    return v.signum() == 0 ? "0" : v.stripTrailingZeros().toPlainString();
  }
}
