package net.aitbc.grid.coordinator.workflow;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.StepJobRow;
import net.aitbc.grid.coordinator.store.StepSnapshot;
import net.aitbc.grid.coordinator.workflow.Decider.Failed;
import net.aitbc.grid.coordinator.workflow.Planner.Plan;
import net.aitbc.grid.coordinator.workflow.Planner.StepView;
import org.jspecify.annotations.Nullable;

/** The steps as readers see them: the plan's views with their jobs and times. */
final class StepSnapshots {
  private StepSnapshots() {}

  /**
   * Every step of {@code plan}; {@code started} holds the jobs submitted just now (step → item →
   * job), {@code failed} a step failed outside the plan, or null.
   */
  static List<StepSnapshot> of(Plan plan, StepRows jobs, Map<String, Map<Integer, UUID>> started,
      OffsetDateTime now, @Nullable Failed failed) {
    List<StepSnapshot> out = new ArrayList<>(plan.steps().size());
    for (StepView v : plan.steps()) {
      String name = v.step().name();
      Map<Integer, StepJobRow> mine = jobs.of(name);
      Map<Integer, UUID> fresh = started.getOrDefault(name, Map.of());
      List<UUID> ids = new ArrayList<>();
      OffsetDateTime start = fresh.isEmpty() ? null : now;
      OffsetDateTime end = null;
      for (int i = 0; i < v.items(); i++) {
        StepJobRow row = mine.get(i);
        if (row != null) {
          ids.add(row.jobId());
          start = start == null || row.createdAt().isBefore(start) ? row.createdAt() : start;
          end = row.finishedAt() != null && (end == null || row.finishedAt().isAfter(end)) ? row.finishedAt() : end;
        } else if (fresh.containsKey(i)) {
          ids.add(fresh.get(i));
        }
      }
      StepSnapshot.Status status = switch (v.status()) {
        case WAITING -> StepSnapshot.Status.WAITING;
        case RUNNING -> StepSnapshot.Status.RUNNING;
        case COMPLETED -> StepSnapshot.Status.COMPLETED;
        case FAILED -> StepSnapshot.Status.FAILED;
      };
      String error = v.error();
      if (failed != null && failed.step().equals(name)) {
        status = StepSnapshot.Status.FAILED;
        error = failed.error();
      }
      boolean over = status == StepSnapshot.Status.COMPLETED || status == StepSnapshot.Status.FAILED;
      out.add(new StepSnapshot(name, status, ids, v.items(), v.completed(), v.cost(), error, start,
          over ? (end == null ? now : end) : null, v.step().dependsOn()));
    }
    return out;
  }
}
