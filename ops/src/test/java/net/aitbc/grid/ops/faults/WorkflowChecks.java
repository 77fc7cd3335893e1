package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.JOB;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What the workflow fault tests check in the database: executions ended, and each with exactly one
 * step job per step and item (request id {@code wf:<execution>:<step>#<item>}), none made twice.
 */
final class WorkflowChecks {
  private static final Set<ExecutionStatus> ENDED =
      Set.of(ExecutionStatus.completed, ExecutionStatus.failed, ExecutionStatus.cancelled);

  private WorkflowChecks() {}

  /** A WorkflowService client of the grid with its client key. */
  static WorkflowServiceBlockingStub client(Grid grid) {
    return GrpcClients.withKey(WorkflowServiceGrpc.newBlockingStub(grid.channel()), grid.clientKey());
  }

  /** The execution ids as the database stores them. */
  static Set<UUID> ids(Collection<String> executionIds) {
    return executionIds.stream().map(id -> JobIds.parse(id).orElseThrow(() -> new AssertionError("not an id: " + id)))
        .collect(Collectors.toSet());
  }

  /** Waits up to {@code atMost} for every execution to end; returns each one's status then. */
  static Map<UUID, ExecutionStatus> awaitEnded(Grid grid, Set<UUID> executions, Duration atMost) {
    try {
      await("every execution to end").atMost(atMost).pollInterval(Duration.ofMillis(200))
          .until(() -> statuses(grid, executions).values().stream().filter(ENDED::contains).count()
              == executions.size());
    } catch (ConditionTimeoutException e) {
      // The statuses below say which did not.
    }
    return statuses(grid, executions);
  }

  /** How many of these executions have ended now. */
  static long ended(Grid grid, Set<UUID> executions) {
    return statuses(grid, executions).values().stream().filter(ENDED::contains).count();
  }

  private static Map<UUID, ExecutionStatus> statuses(Grid grid, Set<UUID> executions) {
    return grid.query(db -> db.select(EXECUTION.EXECUTION_ID, EXECUTION.STATUS).from(EXECUTION)
        .where(EXECUTION.EXECUTION_ID.in(executions)).fetchMap(EXECUTION.EXECUTION_ID, EXECUTION.STATUS));
  }

  /** Every step job (a job that names an execution), by its execution. */
  static Map<UUID, List<JobRecord>> stepJobs(Grid grid) {
    Map<UUID, List<JobRecord>> out = new HashMap<>();
    grid.query(db -> db.selectFrom(JOB).where(JOB.EXECUTION_ID.isNotNull()).fetch())
        .forEach(j -> out.computeIfAbsent(j.getExecutionId(), k -> new ArrayList<>()).add(j));
    return out;
  }

  /**
   * What is wrong with the step jobs of these executions: a step job of another execution, a
   * request id not of its execution, one made twice, or a set of keys ({@code step#item}) other
   * than {@code keys}. Empty when each execution has exactly one job per key.
   */
  static List<String> duplicatesOrGaps(Map<UUID, List<JobRecord>> stepJobs, Set<UUID> executions, Set<String> keys) {
    List<String> problems = new ArrayList<>();
    stepJobs.keySet().stream().filter(e -> !executions.contains(e))
        .forEach(e -> problems.add("step jobs of an unknown execution " + JobIds.format(e)));
    for (UUID e : executions) {
      String prefix = "wf:" + JobIds.format(e) + ":";
      Map<String, Integer> perKey = new HashMap<>();
      for (JobRecord j : stepJobs.getOrDefault(e, List.of())) {
        String request = j.getRequestId();
        if (request == null || !request.startsWith(prefix)) {
          problems.add(JobIds.format(e) + ": job " + JobIds.format(j.getJobId()) + " has request id " + request);
          continue;
        }
        perKey.merge(request.substring(prefix.length()), 1, Integer::sum);
      }
      perKey.forEach((key, n) -> {
        if (n > 1) {
          problems.add(JobIds.format(e) + ": " + n + " jobs for " + key);
        }
      });
      if (!perKey.keySet().equals(keys)) {
        problems.add(JobIds.format(e) + ": step jobs " + new TreeSet<>(perKey.keySet()) + ", expected " + new TreeSet<>(keys));
      }
    }
    return problems;
  }

  /** The API ids of these jobs (for {@link Invariants#check}). */
  static Set<String> jobIds(Map<UUID, List<JobRecord>> stepJobs) {
    return stepJobs.values().stream().flatMap(List::stream).map(j -> JobIds.format(j.getJobId()))
        .collect(Collectors.toSet());
  }
}
