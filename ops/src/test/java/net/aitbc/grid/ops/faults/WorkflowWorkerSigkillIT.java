package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobAttemptRecord;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.ops.process.GridProcess;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker killed with SIGKILL while it runs the long middle step of executions: each of those
 * steps' jobs is tried again on the other worker (the same job, a later attempt), and every
 * execution completes with one job per step.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WorkflowWorkerSigkillIT {
  private static final int EXECUTIONS = 4;
  private static final String THREE_STEPS = """
      {'steps': {'a': {'type': 'noop', 'payload': {'sleep_ms': 100, 'echo': 'from a'}},
                 'b': {'type': 'noop', 'retries': 2, 'payload': {'sleep_ms': 4000, 'echo': '{{steps.a.result.echo}}, b'}},
                 'c': {'type': 'noop', 'payload': {'echo': '{{steps.b.result.echo}}, c'}}},
       'output': {'trail': '{{steps.c.result.echo}}'}}""";

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void stepJobsOfAKilledWorkerAreRetriedOnTheOtherAndTheExecutionsComplete() {
    Report report = new Report(grid.name());
    grid.withFreshDatabase().startCoordinator();
    List<GridProcess> workers = grid.startWorkers(4, Duration.ofSeconds(5), "A", "B");
    WorkflowServiceBlockingStub client = WorkflowChecks.client(grid);
    String workflow = Workflows.create(client, "long-middle", THREE_STEPS);
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < EXECUTIONS; i++) {
      ids.add(Workflows.execute(client, workflow, "{}"));
    }
    Set<UUID> executions = WorkflowChecks.ids(ids);

    // Every execution's step b running (each sleeps 4 s on its worker).
    await("every step b running").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> runningStepB().size() == EXECUTIONS);
    Map<String, String> bOnWorker = runningStepB();
    String victim = bOnWorker.values().stream().filter("A"::equals).count() * 2 >= EXECUTIONS ? "A" : "B";
    String survivor = victim.equals("A") ? "B" : "A";
    Set<String> heldByVictim = Set.copyOf(bOnWorker.entrySet().stream().filter(e -> e.getValue().equals(victim))
        .map(Map.Entry::getKey).toList());
    report.fault("SIGKILL worker " + victim + " running " + heldByVictim.size() + " step job(s)",
        grid.count(JobState.RUNNING), grid.count(JobState.QUEUED));
    workers.get(victim.equals("A") ? 0 : 1).kill();

    Map<UUID, ExecutionStatus> statuses = WorkflowChecks.awaitEnded(grid, executions, Duration.ofSeconds(40));
    Map<UUID, List<JobRecord>> stepJobs = WorkflowChecks.stepJobs(grid);
    Invariants.Verdict verdict = Invariants.check(grid, WorkflowChecks.jobIds(stepJobs), Duration.ofSeconds(5));
    report.note("step_b_jobs_retried=" + heldByVictim.size());
    report.finish(verdict);
    report.assertHeld();

    assertThat(statuses).hasSize(EXECUTIONS).allSatisfy((id, status) ->
        assertThat(status).as("execution %s", JobIds.format(id)).isEqualTo(ExecutionStatus.completed));
    assertThat(WorkflowChecks.duplicatesOrGaps(stepJobs, executions, Set.of("a#0", "b#0", "c#0")))
        .as("step jobs made twice or missing").isEmpty();
    assertThat(heldByVictim).as("step jobs the killed worker ran").isNotEmpty();
    for (String jobId : heldByVictim) {
      JobRecord job = verdict.jobs().get(jobId);
      assertThat(job.getState()).as("step b job %s", jobId).isEqualTo(JobState.COMPLETED);
      assertThat(job.getWorkerId()).as("step b job %s", jobId).isEqualTo(survivor);
      assertThat(job.getAttempt()).as("step b job %s", jobId).isEqualTo(2);
      List<JobAttemptRecord> history = verdict.attempts().getOrDefault(jobId, List.of());
      assertThat(history).as("attempt history of step b job %s", jobId)
          .singleElement().satisfies(a -> {
            assertThat(a.getAttempt()).isEqualTo(1);
            assertThat(a.getWorkerId()).isEqualTo(victim);
          });
    }
    for (String id : ids) {
      assertThat(Workflows.parse(Workflows.get(client, id).getFinalResultJson()).path("trail").asText())
          .as("execution %s", id).isEqualTo("from a, b, c");
    }
  }

  /** The running step b jobs now (by API id), with the worker running each. */
  private Map<String, String> runningStepB() {
    return grid.query(db -> db.select(JOB.JOB_ID, JOB.WORKER_ID).from(JOB)
        .where(JOB.STATE.eq(JobState.RUNNING), JOB.REQUEST_ID.endsWith(":b#0"))
        .fetchMap(r -> JobIds.format(r.value1()), r -> r.value2()));
  }
}
