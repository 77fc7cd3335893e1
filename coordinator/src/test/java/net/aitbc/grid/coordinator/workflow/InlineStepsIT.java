package net.aitbc.grid.coordinator.workflow;

import static net.aitbc.grid.coordinator.testing.Workflows.create;
import static net.aitbc.grid.coordinator.testing.Workflows.ended;
import static net.aitbc.grid.coordinator.testing.Workflows.json;
import static net.aitbc.grid.coordinator.testing.Workflows.parse;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.coordinator.testing.ExecutionInvariants;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowResponse;
import net.aitbc.grid.v1.StepStatus;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Executions decided for where they are woken, over a real coordinator with a pool of only two
 * database connections: an execution's start and its first step's job commit together, a step's
 * outcome and its next step's job too (the worker hears of it right after the outcome's ack, with no
 * engine pass between), the last step's outcome ends the execution, a key revoked since fails it
 * there, and a burst of starts waits for the pool instead of being refused.
 */
class InlineStepsIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.dbPoolSize(2));

  @AfterEach
  void everyEndedExecutionHasExactlyOneReceipt() {
    grid.query(dsl -> {
      ExecutionInvariants.check(dsl);
      return null;
    });
  }

  @Test
  void eachStepsJobCommitsWithTheWriteThatMadeItDue() {
    WorkflowServiceBlockingStub workflows = Workflows.client(grid, grid.clientKey("inline"));
    try (TestWorker w = grid.worker("w-inline", "t-inline")) {
      w.credit(4);
      String wf = create(workflows, "chain", """
          {'steps': {'a': {'type': 't-inline', 'payload': {'n': 1}},
                     'b': {'type': 't-inline', 'depends_on': ['a'], 'payload': {'prev': '{{steps.a.result.v}}'}}}}""");
      // The first: its first step's job learns the client's place in fair-share order (an engine pass).
      String first = Workflows.execute(workflows, wf, "{}");
      for (int i = 0; i < 2; i++) {
        Assignment s = w.nextAssignment();
        w.complete(s.getJobId(), s.getAttempt(), "{\"v\":" + i + "}");
        ackOf(w, s);
      }
      assertThat(ended(workflows, first).getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);

      Execution started = workflows.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(wf)
          .setInputsJson("{}").build()).getExecution();
      // Its first step's job was stored with it: the answer already shows it running.
      assertThat(started.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_RUNNING);
      assertThat(started.getSteps(0).getStatus()).isEqualTo(StepStatus.STEP_STATUS_RUNNING);
      assertThat(started.getSteps(0).getJobIdsList()).hasSize(1);
      UUID id = JobIds.parse(started.getExecutionId()).orElseThrow();
      assertThat(wakeups(id)).isZero();

      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(started.getSteps(0).getJobIds(0));
      w.complete(a.getJobId(), a.getAttempt(), "{\"v\":7}");
      ackOf(w, a);
      // Committed with the outcome the ack confirms: b's job is there, and nothing is left to the engine.
      var b = grid.query(dsl -> dsl.select(JOB.JOB_ID, JOB.PAYLOAD, JOB.STATE).from(JOB)
          .where(JOB.EXECUTION_ID.eq(id), JOB.REQUEST_ID.endsWith(":b#0")).fetchSingle());
      assertThat(parse(b.value2().data()).get("prev").asInt()).isEqualTo(7);
      assertThat(wakeups(id)).isZero();
      Assignment next = w.nextAssignment();
      assertThat(next.getJobId()).isEqualTo(JobIds.format(b.value1()));

      w.complete(next.getJobId(), next.getAttempt(), "{\"v\":8}");
      ackOf(w, next);
      // The last outcome ended it in the same transaction; with no step job left to cancel, no wake-up.
      net.aitbc.grid.db.enums.ExecutionStatus stored = grid.query(dsl -> dsl.select(EXECUTION.STATUS).from(EXECUTION)
          .where(EXECUTION.EXECUTION_ID.eq(id)).fetchSingle().value1());
      assertThat(stored).isEqualTo(net.aitbc.grid.db.enums.ExecutionStatus.completed);
      assertThat(wakeups(id)).isZero();
      Execution e = ended(workflows, started.getExecutionId());
      assertThat(parse(e.getFinalResultJson())).isEqualTo(parse(json("{'b': {'v': 8}}")));
      int completed = grid.query(dsl -> dsl.fetchCount(JOB, JOB.EXECUTION_ID.eq(id), JOB.STATE.eq(JobState.COMPLETED)));
      assertThat(completed).isEqualTo(2);
    }
  }

  @Test
  void aStepWhoseStarterWasRevokedSinceFailsTheExecution() {
    String key = grid.clientKey("revoked");
    WorkflowServiceBlockingStub workflows = Workflows.client(grid, key);
    try (TestWorker w = grid.worker("w-revoked", "t-revoked")) {
      w.credit(2);
      String wf = create(workflows, "chain", """
          {'steps': {'a': {'type': 't-revoked', 'payload': {}},
                     'b': {'type': 't-revoked', 'depends_on': ['a'], 'payload': {}}}}""");
      String id = Workflows.execute(workflows, wf, "{}");
      Assignment a = w.nextAssignment();
      boolean revoked = grid.query(dsl -> new KeyStore(dsl).revoke(ApiKeys.id(key)));
      assertThat(revoked).isTrue();
      w.complete(a.getJobId(), a.getAttempt(), "{}");
      ackOf(w, a);
      // The key is read with the execution's lock: b is never made, and the execution fails saying why.
      UUID executionId = JobIds.parse(id).orElseThrow();
      var stored = grid.query(dsl -> dsl.select(EXECUTION.STATUS, EXECUTION.ERROR_MESSAGE).from(EXECUTION)
          .where(EXECUTION.EXECUTION_ID.eq(executionId)).fetchSingle());
      assertThat(stored.value1()).isEqualTo(net.aitbc.grid.db.enums.ExecutionStatus.failed);
      assertThat(stored.value2()).isEqualTo("the api key that started it (" + ApiKeys.id(key) + ") was revoked");
      int jobs = grid.query(dsl -> dsl.fetchCount(JOB, JOB.EXECUTION_ID.eq(executionId)));
      assertThat(jobs).isEqualTo(1);
    }
  }

  @Test
  void aBurstOfStartsWaitsForThePoolInsteadOfBeingRefused() throws InterruptedException {
    String key = grid.clientKey("burst");
    String wf = create(Workflows.client(grid, key), "empty", "{}");
    var stub = GrpcClients.withKey(WorkflowServiceGrpc.newStub(grid.channel()), key);
    int n = 400;
    CountDownLatch answered = new CountDownLatch(n);
    List<String> ids = Collections.synchronizedList(new ArrayList<>());
    List<Status> refusals = Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < n; i++) {
      stub.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(wf).setRequestId("burst-" + i).build(),
          new StreamObserver<>() {
            @Override
            public void onNext(ExecuteWorkflowResponse r) {
              ids.add(r.getExecution().getExecutionId());
            }

            @Override
            public void onError(Throwable t) {
              refusals.add(Status.fromThrowable(t));
              answered.countDown();
            }

            @Override
            public void onCompleted() {
              answered.countDown();
            }
          });
    }
    assertThat(answered.await(60, TimeUnit.SECONDS)).isTrue();
    assertThat(refusals).isEmpty();
    assertThat(ids).hasSize(n).doesNotHaveDuplicates();
    // A workflow without steps completes as it is started.
    int completed = grid.query(dsl -> dsl.fetchCount(EXECUTION, EXECUTION.CLIENT_ID.eq("burst"),
        EXECUTION.STATUS.eq(net.aitbc.grid.db.enums.ExecutionStatus.completed)));
    assertThat(completed).isEqualTo(n);
  }

  private static int wakeups(UUID executionId) {
    return grid.query(dsl -> dsl.fetchCount(EXECUTION_WAKEUP, EXECUTION_WAKEUP.EXECUTION_ID.eq(executionId)));
  }

  /** Waits for the ack of {@code a}'s outcome; nothing else comes first. */
  private static void ackOf(TestWorker w, Assignment a) {
    ConnectResponse r = w.next();
    assertThat(r.getMessageCase()).isEqualTo(ConnectResponse.MessageCase.OUTCOME_ACK);
    assertThat(r.getOutcomeAck().getJobId()).isEqualTo(a.getJobId());
    assertThat(r.getOutcomeAck().getAccepted()).isTrue();
  }
}
