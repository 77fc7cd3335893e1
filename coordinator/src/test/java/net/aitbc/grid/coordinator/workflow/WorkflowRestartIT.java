package net.aitbc.grid.coordinator.workflow;

import static net.aitbc.grid.coordinator.testing.Workflows.json;
import static net.aitbc.grid.coordinator.testing.Workflows.parse;
import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.sql.Connection;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.ExecutionInvariants;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.GetExecutionRequest;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/**
 * What a coordinator restart keeps of executions: everything. An execution stopped mid-way finishes
 * on the next coordinator with no step job made twice, and a step job that ended while no
 * coordinator ran wakes its execution at the next start.
 */
class WorkflowRestartIT {
  private static final String THREE_STEPS = """
      {'steps': {'a': {'type': 't-restart', 'payload': {'prompt': 'a'}},
                 'b': {'type': 't-restart', 'payload': {'prompt': '{{steps.a.result.output}}b'}},
                 'c': {'type': 't-restart', 'payload': {'prompt': '{{steps.b.result.output}}c'}}},
       'output': {'last': '{{steps.c.result.output}}'}}""";

  private static Coordinator start(TestDatabase db) {
    return Coordinator.start(TestConfigs.builder(db.url()).shutdownGrace(Duration.ofMillis(500)).build());
  }

  @Test
  void anExecutionStoppedMidWayFinishesAfterARestartWithNoStepJobMadeTwice() {
    try (TestDatabase db = TestDatabase.create()) {
      String key;
      String workerKey;
      String executionId;
      String firstJob;
      try (Coordinator before = start(db)) {
        key = before.createKey(Role.CLIENT, "c");
        workerKey = before.createKey(Role.WORKER, "owner");
        try (TestWorker w = worker(before, workerKey)) {
          executionId = call(before, key, stub -> {
            String wf = stub.createWorkflow(CreateWorkflowRequest.newBuilder().setName("three")
                .setDefinitionJson(json(THREE_STEPS)).build()).getWorkflow().getWorkflowId();
            return stub.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(wf).build()).getExecution()
                .getExecutionId();
          });
          Assignment a = assignment(w);
          firstJob = a.getJobId();
          w.complete(a.getJobId(), a.getAttempt(), "{\"output\":\"A\"}");
          w.credit(1);
          // Step b is running on this worker when the coordinator stops.
          Assignment b = assignment(w);
          assertThat(parse(b.getPayloadJson()).get("prompt").asText()).isEqualTo("Ab");
        }
      }
      try (Coordinator after = start(db); TestWorker w = worker(after, workerKey)) {
        Assignment b = assignment(w);
        assertThat(parse(b.getPayloadJson()).get("prompt").asText()).isEqualTo("Ab");
        w.complete(b.getJobId(), b.getAttempt(), "{\"output\":\"B\"}");
        w.credit(1);
        Assignment c = assignment(w);
        assertThat(parse(c.getPayloadJson()).get("prompt").asText()).isEqualTo("Bc");
        w.complete(c.getJobId(), c.getAttempt(), "{\"output\":\"C\"}");
        Execution e = ended(after, key, executionId);

        assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
        assertThat(parse(e.getFinalResultJson()).get("last").asText()).isEqualTo("C");
        assertThat(e.getSteps(0).getJobIds(0)).isEqualTo(firstJob);
        List<String> requests = query(db, dsl -> dsl.select(JOB.REQUEST_ID).from(JOB)
            .where(JOB.EXECUTION_ID.eq(JobIds.parse(executionId).orElseThrow())).fetch(r -> r.value1()));
        assertThat(requests).hasSize(3).doesNotHaveDuplicates();
        query(db, dsl -> {
          ExecutionInvariants.check(dsl);
          return null;
        });
      }
    }
  }

  @Test
  void aStepJobThatEndedWhileNoCoordinatorRanWakesItsExecutionAtTheNextStart() {
    try (TestDatabase db = TestDatabase.create()) {
      String key;
      String executionId;
      try (Coordinator before = start(db)) {
        key = before.createKey(Role.CLIENT, "c");
        executionId = call(before, key, stub -> {
          String wf = stub.createWorkflow(CreateWorkflowRequest.newBuilder().setName("three")
              .setDefinitionJson(json(THREE_STEPS.replace("t-restart", "noop"))).build())
              .getWorkflow().getWorkflowId();
          return stub.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(wf).build()).getExecution()
              .getExecutionId();
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> call(before, key, stub -> stub.getExecution(
            GetExecutionRequest.newBuilder().setExecutionId(executionId).build()).getExecution().getStatus())
            == ExecutionStatus.EXECUTION_STATUS_RUNNING);
      }
      // As another coordinator would while this one is down: step a's queued job is canceled.
      UUID id = JobIds.parse(executionId).orElseThrow();
      int canceled = query(db, dsl -> dsl.update(JOB).set(JOB.STATE, JobState.CANCELED)
          .set(JOB.ERROR, "canceled elsewhere").where(JOB.EXECUTION_ID.eq(id)).execute());
      assertThat(canceled).isEqualTo(1);

      try (Coordinator after = start(db)) {
        Execution e = ended(after, key, executionId);
        assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
        assertThat(e.getErrorMessage()).isEqualTo("step a failed: canceled elsewhere");
        query(db, dsl -> {
          ExecutionInvariants.check(dsl);
          return null;
        });
      }
    }
  }

  private static TestWorker worker(Coordinator coordinator, String workerKey) {
    TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, "w-restart", List.of("t-restart"), List.of());
    w.credit(1);
    return w;
  }

  /** The next assignment, past acks of earlier completions. */
  private static Assignment assignment(TestWorker w) {
    while (true) {
      ConnectResponse m = w.next(Duration.ofSeconds(15));
      if (m.hasAssignment()) {
        return m.getAssignment();
      }
    }
  }

  private static Execution ended(Coordinator coordinator, String key, String executionId) {
    var ended = EnumSet.of(ExecutionStatus.EXECUTION_STATUS_COMPLETED, ExecutionStatus.EXECUTION_STATUS_FAILED,
        ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    return await().atMost(Duration.ofSeconds(20)).until(() -> call(coordinator, key, stub -> stub.getExecution(
        GetExecutionRequest.newBuilder().setExecutionId(executionId).build()).getExecution()),
        e -> ended.contains(e.getStatus()));
  }

  private static <T> T call(Coordinator coordinator, String key, Function<WorkflowServiceBlockingStub, T> call) {
    ManagedChannel channel = GrpcClients.channel(coordinator.grpcPort());
    try {
      return call.apply(GrpcClients.withKey(WorkflowServiceGrpc.newBlockingStub(channel), key));
    } finally {
      channel.shutdownNow();
    }
  }

  private static <T> T query(TestDatabase db, Function<DSLContext, T> query) {
    try (Connection c = db.connect()) {
      return query.apply(DSL.using(c, SQLDialect.POSTGRES));
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
