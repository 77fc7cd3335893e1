package net.aitbc.grid.coordinator.workflow;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.coordinator.store.StepJobRow;
import net.aitbc.grid.coordinator.workflow.Planner.JobStatus;
import net.aitbc.grid.coordinator.workflow.Planner.JobView;

/** An execution's step jobs by step and item, as read, and as the planner sees them. */
final class StepRows {
  private final Map<String, Map<Integer, StepJobRow>> byStep = new HashMap<>();
  private final Map<String, Map<Integer, JobView>> views = new HashMap<>();

  StepRows(List<StepJobRow> rows) {
    for (StepJobRow r : rows) {
      StepKeys.parse(r.requestId()).ifPresent(k -> {
        byStep.computeIfAbsent(k.step(), s -> new HashMap<>()).put(k.item(), r);
        views.computeIfAbsent(k.step(), s -> new HashMap<>()).put(k.item(), view(r));
      });
    }
  }

  /** What the planner is told of one job: a failed, canceled or expired job failed, with its error. */
  private static JobView view(StepJobRow r) {
    return switch (r.state()) {
      case QUEUED, RUNNING -> new JobView(JobStatus.UNFINISHED, null, BigDecimal.ZERO);
      case COMPLETED -> new JobView(JobStatus.COMPLETED, null, r.price() == null ? BigDecimal.ZERO : r.price());
      case FAILED, CANCELED, EXPIRED -> new JobView(JobStatus.FAILED,
          r.error() == null ? "job " + r.state().getLiteral().toLowerCase(java.util.Locale.ROOT) : r.error(),
          BigDecimal.ZERO);
    };
  }

  Map<String, Map<Integer, JobView>> views() {
    return views;
  }

  /** One step's jobs by item. */
  Map<Integer, StepJobRow> of(String step) {
    return byStep.getOrDefault(step, Map.of());
  }
}
