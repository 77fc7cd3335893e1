package net.aitbc.grid.coordinator.ledger;

import static net.aitbc.grid.coordinator.testing.Workflows.json;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.sql.Connection;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.EnumSet;
import java.util.List;
import java.util.function.Function;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.ExecutionInvariants;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.GetExecutionReceiptRequest;
import net.aitbc.grid.v1.GetExecutionRequest;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/**
 * Execution receipts across coordinator restarts: an execution stopped mid-way ends on the next
 * coordinator with one receipt, and a later one issues no other; one that ended without a signing
 * key has none, and says why.
 */
class ExecutionReceiptRestartIT {
  private static final VerifyingKey COORDINATOR = TestConfigs.SIGNING_KEY.verifyingKey();
  private static final String TWO_STEPS = """
      {'steps': {'a': {'type': 't-exr-restart', 'payload': {'prompt': 'a'}},
                 'b': {'type': 't-exr-restart', 'payload': {'prompt': '{{steps.a.result.output}}b'}}}}""";

  private static Coordinator start(TestDatabase db, Function<CoordinatorConfig.Builder, CoordinatorConfig.Builder> b) {
    return Coordinator.start(b.apply(TestConfigs.builder(db.url()).shutdownGrace(Duration.ofMillis(500))).build());
  }

  @Test
  void anExecutionStoppedMidWayGetsOneReceiptAndALaterCoordinatorIssuesNoOther() {
    try (TestDatabase db = TestDatabase.create()) {
      String key;
      String workerKey;
      String executionId;
      try (Coordinator before = start(db, b -> b)) {
        key = before.createKey(Role.CLIENT, "c");
        workerKey = before.createKey(Role.WORKER, "owner");
        try (TestWorker w = worker(before, workerKey)) {
          executionId = call(before, key, stub -> stub.executeWorkflow(ExecuteWorkflowRequest.newBuilder()
              .setWorkflowId(stub.createWorkflow(CreateWorkflowRequest.newBuilder().setName("two")
                  .setDefinitionJson(json(TWO_STEPS)).build()).getWorkflow().getWorkflowId())
              .build()).getExecution().getExecutionId());
          Assignment a = assignment(w);
          w.complete(a.getJobId(), a.getAttempt(), "{\"output\":\"A\"}");
          w.credit(1);
          assignment(w);
        }
      }
      String receiptJson;
      try (Coordinator after = start(db, b -> b); TestWorker w = worker(after, workerKey)) {
        Assignment b = assignment(w);
        w.complete(b.getJobId(), b.getAttempt(), "{\"output\":\"B\"}");
        Execution e = ended(after, key, executionId);
        assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
        receiptJson = receipt(after, key, executionId);
        ObjectNode receipt = (ObjectNode) CanonicalJson.parse(receiptJson);
        assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
        assertThat(receipt.get("receipt_id").asText()).isEqualTo(e.getReceiptId());
        assertThat(receipt.get("steps")).extracting(s -> s.get("step").asText() + ":" + s.get("state").asText())
            .containsExactly("a:COMPLETED", "b:COMPLETED");
        query(db, dsl -> {
          ExecutionInvariants.check(dsl);
          return null;
        });
      }
      // A wake-up left for it (as a step job's that ended late would leave) is handled by the next start.
      var id = JobIds.parse(executionId).orElseThrow();
      query(db, dsl -> dsl.insertInto(EXECUTION_WAKEUP, EXECUTION_WAKEUP.EXECUTION_ID, EXECUTION_WAKEUP.DUE_AT)
          .values(id, OffsetDateTime.now()).execute());
      try (Coordinator again = start(db, b -> b)) {
        await().atMost(Duration.ofSeconds(10)).until(() -> query(db, dsl -> dsl.fetchCount(EXECUTION_WAKEUP,
            EXECUTION_WAKEUP.EXECUTION_ID.eq(id))) == 0);
        assertThat(receipt(again, key, executionId)).isEqualTo(receiptJson);
        int receipts = query(db, dsl -> dsl.fetchCount(RECEIPT, RECEIPT.EXECUTION_ID.eq(id)));
        assertThat(receipts).isOne();
        query(db, dsl -> {
          ExecutionInvariants.check(dsl);
          return null;
        });
      }
    }
  }

  @Test
  void anExecutionThatEndedWithoutASigningKeyHasNoReceiptAndSaysWhy() {
    try (TestDatabase db = TestDatabase.create()) {
      String key;
      String executionId;
      try (Coordinator unsigned = start(db, b -> b.signingKey(null))) {
        key = unsigned.createKey(Role.CLIENT, "c");
        executionId = call(unsigned, key, stub -> stub.executeWorkflow(ExecuteWorkflowRequest.newBuilder()
            .setWorkflowId(stub.createWorkflow(CreateWorkflowRequest.newBuilder().setName("empty").build())
                .getWorkflow().getWorkflowId()).build()).getExecution().getExecutionId());
        Execution e = ended(unsigned, key, executionId);
        assertThat(e.getReceiptId()).isEmpty();
        assertThat(notFound(unsigned, key, executionId)).isEqualTo("execution " + executionId
            + " has no receipt: this coordinator issues no receipts (it has no signing key)");
      }
      try (Coordinator signed = start(db, b -> b)) {
        assertThat(notFound(signed, key, executionId)).isEqualTo("execution " + executionId
            + " has no receipt: it ended (completed) while the coordinator had no signing key");
      }
    }
  }

  private static String notFound(Coordinator coordinator, String key, String executionId) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
        () -> receipt(coordinator, key, executionId));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    return e.getStatus().getDescription();
  }

  private static String receipt(Coordinator coordinator, String key, String executionId) {
    return call(coordinator, key, stub -> stub.getExecutionReceipt(GetExecutionReceiptRequest.newBuilder()
        .setExecutionId(executionId).build()).getReceipt().getReceiptJson());
  }

  private static TestWorker worker(Coordinator coordinator, String workerKey) {
    TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, "w-exr-restart", List.of("t-exr-restart"),
        List.of());
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
