package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.ops.process.GridProcess;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The coordinator killed with SIGKILL while fifty three-step executions run, then started again on
 * the same database: every execution completes with the result its steps passed along, and no step
 * job was made twice.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WorkflowCoordinatorSigkillIT {
  private static final int EXECUTIONS = 50;
  /** Each step's result carries the execution's number on to the next one. */
  private static final String THREE_STEPS = """
      {'inputs': {'n': null},
       'steps': {'a': {'type': 'noop', 'payload': {'sleep_ms': 400, 'echo': '{{inputs.n}}'}},
                 'b': {'type': 'noop', 'payload': {'sleep_ms': 400, 'echo': '{{steps.a.result.echo}}'}},
                 'c': {'type': 'noop', 'payload': {'sleep_ms': 400, 'echo': '{{steps.b.result.echo}}'}}},
       'output': {'n': '{{steps.c.result.echo}}'}}""";

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void everyExecutionCompletesOnceAfterTheCoordinatorIsKilledMidWay() {
    Report report = new Report(grid.name());
    GridProcess first = grid.withFreshDatabase().startCoordinator();
    // One worker: the test is about the coordinator, and every JVM costs seconds on a small machine.
    GridProcess worker = grid.startWorker("A", 16, Duration.ofSeconds(5));
    WorkflowServiceBlockingStub client = WorkflowChecks.client(grid);
    String workflow = Workflows.create(client, "three-noops", THREE_STEPS);
    Map<String, Integer> numberOf = new HashMap<>();
    for (int n = 0; n < EXECUTIONS; n++) {
      numberOf.put(Workflows.execute(client, workflow, "{'n': " + n + "}"), n);
    }
    Set<UUID> executions = WorkflowChecks.ids(numberOf.keySet());

    // Some executions past their first step, the rest of the work still to do.
    await("executions past step a").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> grid.count(JobState.COMPLETED) >= EXECUTIONS / 2 && grid.count(JobState.RUNNING) > 0);
    long endedBefore = WorkflowChecks.ended(grid, executions);
    int stepJobsBefore = WorkflowChecks.jobIds(WorkflowChecks.stepJobs(grid)).size();
    report.fault("SIGKILL coordinator", grid.count(JobState.RUNNING), grid.count(JobState.QUEUED));
    first.kill();
    grid.startCoordinator();
    worker.awaitLog("\\] registered;", 2, Duration.ofSeconds(60));

    Map<UUID, ExecutionStatus> statuses = WorkflowChecks.awaitEnded(grid, executions, Duration.ofSeconds(45));
    Map<UUID, List<JobRecord>> stepJobs = WorkflowChecks.stepJobs(grid);
    Invariants.Verdict verdict = Invariants.check(grid, WorkflowChecks.jobIds(stepJobs), Duration.ofSeconds(10));
    report.note("executions=" + EXECUTIONS + " ended_before_kill=" + endedBefore + " step_jobs_before_kill="
        + stepJobsBefore + " step_jobs=" + verdict.acknowledged());
    report.finish(verdict);
    report.assertHeld();

    assertThat(statuses).as("execution statuses").hasSize(EXECUTIONS).allSatisfy((id, status) ->
        assertThat(status).as("execution %s", JobIds.format(id)).isEqualTo(ExecutionStatus.completed));
    assertThat(WorkflowChecks.duplicatesOrGaps(stepJobs, executions, Set.of("a#0", "b#0", "c#0")))
        .as("step jobs made twice or missing").isEmpty();
    assertThat(endedBefore).as("executions that had ended when the coordinator was killed").isLessThan(EXECUTIONS);
    List<String> wrongResults = new ArrayList<>();
    numberOf.forEach((id, n) -> {
      Execution e = Workflows.get(client, id);
      if (Workflows.parse(e.getFinalResultJson()).path("n").asInt(-1) != n) {
        wrongResults.add(id + ": " + e.getFinalResultJson() + ", expected n " + n);
      }
    });
    assertThat(wrongResults).as("results that did not pass the execution's number along").isEmpty();
  }
}
