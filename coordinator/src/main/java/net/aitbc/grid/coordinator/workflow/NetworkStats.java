package net.aitbc.grid.coordinator.workflow;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.NetworkSamples;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jspecify.annotations.Nullable;

/**
 * What a network's latest runs measured, per agent and for the runs, computed from their rows alone
 * (README "Networks"): success = completed ÷ finished (failed and cancelled count as not completed),
 * cost = the executions' total cost, latency = end − start of each finished execution (of each
 * completed run: end − creation).
 */
public final class NetworkStats {
  /** How many of a network's latest runs are measured. */
  public static final int RUNS_MEASURED = 100;
  private static final int COST_SCALE = 8;

  private NetworkStats() {}

  /**
   * One agent's figures.
   *
   * @param workflowId the agent
   * @param name its workflow's name
   * @param executions its executions, finished or not
   * @param completed those that completed
   * @param failed those that failed or were cancelled
   * @param totalCost the sum of its finished executions' costs
   * @param latency its finished executions' run times
   */
  public record AgentFigures(UUID workflowId, String name, int executions, int completed, int failed,
      BigDecimal totalCost, Latency latency) {
    /** Completed or not. */
    public int finished() {
      return completed + failed;
    }

    /** completed ÷ finished; 0 before any finished. */
    public double successRate() {
      return finished() == 0 ? 0 : (double) completed / finished();
    }

    /** The mean cost of its finished executions; 0 before any. */
    public BigDecimal meanCost() {
      return finished() == 0 ? BigDecimal.ZERO : totalCost.divide(BigDecimal.valueOf(finished()), COST_SCALE,
          RoundingMode.HALF_EVEN);
    }

    /** What it spent per completed execution; null before any completed. */
    public @Nullable BigDecimal costPerSuccess() {
      return completed == 0 ? null : totalCost.divide(BigDecimal.valueOf(completed), COST_SCALE,
          RoundingMode.HALF_EVEN);
    }
  }

  /**
   * The runs' figures.
   *
   * @param runs the runs measured
   * @param completed those that completed
   * @param failed those that failed or were cancelled
   * @param totalCost the sum of the finished runs' executions' costs
   * @param latency the completed runs' durations
   */
  public record RunFigures(int runs, int completed, int failed, BigDecimal totalCost, Latency latency) {
    /** completed ÷ finished; 0 before any finished. */
    public double successRate() {
      return completed + failed == 0 ? 0 : (double) completed / (completed + failed);
    }

    /** The mean cost of a finished run; 0 before any. */
    public BigDecimal meanCost() {
      return completed + failed == 0 ? BigDecimal.ZERO : totalCost.divide(BigDecimal.valueOf(completed + failed),
          COST_SCALE, RoundingMode.HALF_EVEN);
    }
  }

  /**
   * Durations in milliseconds (nearest-rank percentiles); all 0 when there are none.
   *
   * @param p50 the median
   * @param p95 the 95th percentile
   * @param mean the mean, rounded down
   */
  public record Latency(long p50, long p95, long mean) {
    static Latency of(List<Long> millis) {
      if (millis.isEmpty()) {
        return new Latency(0, 0, 0);
      }
      List<Long> sorted = millis.stream().sorted().toList();
      long sum = sorted.stream().mapToLong(Long::longValue).sum();
      return new Latency(rank(sorted, 50), rank(sorted, 95), sum / sorted.size());
    }

    private static long rank(List<Long> sorted, int percent) {
      int rank = (int) Math.ceil(percent / 100.0 * sorted.size());
      return sorted.get(Math.max(rank, 1) - 1);
    }
  }

  /** Every agent's figures, in the network's order; {@code names} by workflow id. */
  public static List<AgentFigures> agents(List<UUID> agents, Map<UUID, String> names, NetworkSamples samples) {
    List<AgentFigures> out = new ArrayList<>(agents.size());
    for (int slot = 0; slot < agents.size(); slot++) {
      int executions = 0;
      int completed = 0;
      int failed = 0;
      BigDecimal cost = BigDecimal.ZERO;
      List<Long> millis = new ArrayList<>();
      for (NetworkSamples.Agent e : samples.executions()) {
        if (e.slot() != slot) {
          continue;
        }
        executions++;
        OffsetDateTime ended = e.endedAt();
        if (e.ended() && ended != null) {
          if (e.status() == ExecutionStatus.completed) {
            completed++;
          } else {
            failed++;
          }
          cost = cost.add(e.cost());
          millis.add(Duration.between(e.startedAt(), ended).toMillis());
        }
      }
      UUID id = agents.get(slot);
      out.add(new AgentFigures(id, names.getOrDefault(id, ""), executions, completed, failed, cost,
          Latency.of(millis)));
    }
    return out;
  }

  /** The runs' figures. */
  public static RunFigures runs(NetworkSamples samples) {
    int completed = 0;
    int failed = 0;
    BigDecimal cost = BigDecimal.ZERO;
    List<Long> millis = new ArrayList<>();
    for (NetworkSamples.Run r : samples.runs()) {
      OffsetDateTime ended = r.endedAt();
      if (r.status() == ExecutionStatus.pending || r.status() == ExecutionStatus.running || ended == null) {
        continue;
      }
      cost = cost.add(r.cost());
      if (r.status() == ExecutionStatus.completed) {
        completed++;
        millis.add(Duration.between(r.createdAt(), ended).toMillis());
      } else {
        failed++;
      }
    }
    return new RunFigures(samples.runs().size(), completed, failed, cost, Latency.of(millis));
  }
}
