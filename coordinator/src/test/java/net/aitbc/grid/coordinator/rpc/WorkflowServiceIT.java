package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.coordinator.testing.Workflows.create;
import static net.aitbc.grid.coordinator.testing.Workflows.ended;
import static net.aitbc.grid.coordinator.testing.Workflows.execute;
import static net.aitbc.grid.coordinator.testing.Workflows.json;
import static net.aitbc.grid.coordinator.testing.Workflows.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.store.NotificationListener;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Hold;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelExecutionRequest;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.GetExecutionReceiptRequest;
import net.aitbc.grid.v1.GetExecutionRequest;
import net.aitbc.grid.v1.GetWorkflowRequest;
import net.aitbc.grid.v1.ListExecutionsRequest;
import net.aitbc.grid.v1.ListWorkflowsRequest;
import net.aitbc.grid.v1.StepStatus;
import net.aitbc.grid.v1.VerificationLevel;
import net.aitbc.grid.v1.WatchExecutionRequest;
import net.aitbc.grid.v1.WatchExecutionResponse;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.jooq.Field;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** WorkflowService over real gRPC: who sees what, what is refused and how, idempotency, lists and watching. */
class WorkflowServiceIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static String aliceKey;
  private static WorkflowServiceBlockingStub alice;
  private static WorkflowServiceBlockingStub bob;

  @BeforeAll
  static void keys() {
    aliceKey = grid.clientKey("alice");
    alice = Workflows.client(grid, aliceKey);
    bob = Workflows.client(grid, grid.clientKey("bob"));
  }

  private static StatusRuntimeException refusal(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError("the call succeeded");
  }

  private static CreateWorkflowRequest.Builder workflow(String name, String definition) {
    return CreateWorkflowRequest.newBuilder().setName(name).setDefinitionJson(json(definition));
  }

  @Test
  void anotherClientsWorkflowsAndExecutionsAreNotFoundUnlessTheWorkflowIsPublic() {
    String secret = create(alice, "secret", "{}");
    String execution = execute(alice, secret, "{}");
    for (Runnable call : List.<Runnable>of(
        () -> bob.getWorkflow(GetWorkflowRequest.newBuilder().setWorkflowId(secret).build()),
        () -> bob.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(secret).build()),
        () -> bob.getExecution(GetExecutionRequest.newBuilder().setExecutionId(execution).build()),
        () -> bob.cancelExecution(CancelExecutionRequest.newBuilder().setExecutionId(execution).build()))) {
      assertThat(refusal(call).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }
    assertThat(bob.listExecutions(ListExecutionsRequest.getDefaultInstance()).getExecutionsList())
        .noneMatch(e -> e.getExecutionId().equals(execution));

    String shared = alice.createWorkflow(workflow("shared", "{'inputs': {'x': 1}}").setIsPublic(true).build())
        .getWorkflow().getWorkflowId();
    assertThat(bob.getWorkflow(GetWorkflowRequest.newBuilder().setWorkflowId(shared).build()).getWorkflow()
        .getClientId()).isEqualTo("alice");
    Execution bobs = ended(bob, execute(bob, shared, "{'x': 2}"));
    assertThat(bobs.getClientId()).isEqualTo("bob");
    assertThat(parse(bobs.getFinalResultJson())).isEqualTo(parse("{\"x\":2}"));
    assertThat(refusal(() -> alice.getExecution(GetExecutionRequest.newBuilder()
        .setExecutionId(bobs.getExecutionId()).build())).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void malformedDefinitionsAreInvalidArgumentsThatNameTheStepAndField() {
    String[][] cases = {
        {"{'steps': {'a': {'type': 'noop', 'depends_on': 'b'}, 'b': {'type': 'noop', 'depends_on': 'a'}}}",
            "steps.a.depends_on: the steps wait for each other in a cycle"},
        {"{'steps': {'a': {'type': 'no-such-type'}}}", "steps.a.type: no worker runs jobs of type 'no-such-type'"},
        {"{'steps': {'a': {'type': 'noop', 'payload': {'p': '{{steps.zz.result}}'}}}}",
            "steps.a.payload.p: {{steps.zz.result}}: there is no step named 'zz'"},
        {"{'steps': {'a': {'type': 'noop', 'payload': {'p': '{{inputs.nope}}'}}}}",
            "steps.a.payload.p: {{inputs.nope}}: there is no input named 'nope'"},
        {"{'steps': {'a': {'type': 'noop', 'retries': 99}}}", "steps.a.retries: must be a whole number from 0 to 10"},
        {"{'steps': {'a': {'type': 'noop', 'colour': 'red'}}}", "steps.a.colour: is not a step field"},
        {"{'steps': [1, 2", "definition: is not valid JSON"},
    };
    for (String[] c : cases) {
      StatusRuntimeException e = refusal(() -> alice.createWorkflow(workflow("bad", c[0]).build()));
      assertThat(e.getStatus().getCode()).as(c[0]).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(e.getStatus().getDescription()).as(c[0]).startsWith(c[1]);
    }
    assertThat(refusal(() -> alice.createWorkflow(workflow("", "{}").build())).getStatus().getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(refusal(() -> alice.createWorkflow(workflow("w", "{}").setMaxCostBudget("-1").build()))
        .getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void aStepTypeIsKnownWhileAWorkerOffersIt() {
    String definition = "{'steps': {'a': {'type': 't-offered'}}}";
    assertThat(refusal(() -> alice.createWorkflow(workflow("later", definition).build())).getStatus()
        .getDescription()).startsWith("steps.a.type: no worker runs jobs of type 't-offered'");
    try (var w = grid.worker("w-offer", "t-offered")) {
      assertThat(create(alice, "now", definition)).hasSize(32);
    }
  }

  @Test
  void executeChecksItsInputsAndTimeoutAgainstTheWorkflow() {
    String wf = alice.createWorkflow(workflow("needs text", "{'inputs': {'text': null}}")
        .setMaxExecutionTime(com.google.protobuf.Duration.newBuilder().setSeconds(60)).build())
        .getWorkflow().getWorkflowId();
    StatusRuntimeException missing = refusal(() -> execute(alice, wf, "{}"));
    assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(missing.getStatus().getDescription()).startsWith("inputs.text: is required");
    // A timeout longer than the workflow's max_execution_time is cut to it.
    var longer = alice.executeWorkflow(ExecuteWorkflowRequest.newBuilder()
        .setWorkflowId(wf).setInputsJson("{\"text\":\"t\"}")
        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(3600)).build()).getExecution();
    assertThat(longer.getDeadline().getSeconds() - longer.getCreateTime().getSeconds()).isBetween(59L, 61L);
    StatusRuntimeException zero = refusal(() -> alice.executeWorkflow(ExecuteWorkflowRequest.newBuilder()
        .setWorkflowId(wf).setInputsJson("{\"text\":\"t\"}")
        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(0).setNanos(-1)).build()));
    assertThat(zero.getStatus().getDescription()).startsWith("timeout must be at least 1 s");
    assertThat(refusal(() -> execute(alice, wf, "[1]")).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(refusal(() -> execute(alice, "nope", "{}")).getStatus().getCode())
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void aWorkflowWithoutStepsCompletesAtOnceWithItsInputs() {
    var created = alice.createWorkflow(CreateWorkflowRequest.newBuilder().setName("empty").build()).getWorkflow();
    assertThat(created.getStepCount()).isZero();
    assertThat(created.getVerificationLevel()).isEqualTo(VerificationLevel.VERIFICATION_LEVEL_BASIC);
    assertThat(created.getMaxExecutionTime().getSeconds()).isEqualTo(3600);
    var started = alice.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(created.getWorkflowId())
        .setInputsJson("{\"q\":[1,2]}").build()).getExecution();
    // Decided for in the transaction that stored it: the answer shows it completed.
    assertThat(started.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(started.getTotalCost()).isEqualTo("0");
    Execution e = ended(alice, started.getExecutionId());
    assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(parse(e.getFinalResultJson())).isEqualTo(parse("{\"q\":[1,2]}"));
    assertThat(e.getProgress()).isEqualTo(100);
  }

  @Test
  void createAndExecuteRetriedWithTheirRequestIdsMakeNothingTwice() {
    CreateWorkflowRequest create = workflow("once", "{}").setRequestId("wf-uuid-1").build();
    var first = alice.createWorkflow(create);
    var again = alice.createWorkflow(create);
    assertThat(again.getExisting()).isTrue();
    assertThat(again.getWorkflow().getWorkflowId()).isEqualTo(first.getWorkflow().getWorkflowId());
    ExecuteWorkflowRequest execute = ExecuteWorkflowRequest.newBuilder()
        .setWorkflowId(first.getWorkflow().getWorkflowId()).setRequestId("exec-1").build();
    String id = alice.executeWorkflow(execute).getExecution().getExecutionId();
    var retry = alice.executeWorkflow(execute);
    assertThat(retry.getExisting()).isTrue();
    assertThat(retry.getExecution().getExecutionId()).isEqualTo(id);
  }

  @Test
  void clientJobsMayNotUseTheRequestIdsReservedForSteps() {
    StatusRuntimeException e = refusal(() -> grid.clientWithKey(aliceKey).createJob(CreateJobRequest.newBuilder()
        .setPayloadJson("{\"type\":\"noop\"}").setRequestId("wf:mine").build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(e.getStatus().getDescription()).contains("reserved for the jobs of workflow steps");
  }

  @Test
  void workerKeysAreRefusedAndAReceiptIsAskedForByExecutionId() {
    var worker = Workflows.client(grid, grid.workerKey());
    assertThat(refusal(() -> worker.listWorkflows(ListWorkflowsRequest.getDefaultInstance())).getStatus().getCode())
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    StatusRuntimeException noId = refusal(() -> alice.getExecutionReceipt(
        GetExecutionReceiptRequest.getDefaultInstance()));
    assertThat(noId.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(noId.getStatus().getDescription()).isEqualTo("execution_id must be 32 hex characters, not ''");
  }

  @Test
  void listsFilterByTagLevelOwnerAndExecutionStatus() {
    var carol = Workflows.client(grid, grid.clientKey("carol"));
    String tagged = carol.createWorkflow(workflow("tagged", "{}").addTags("nlp")
        .setVerificationLevel(VerificationLevel.VERIFICATION_LEVEL_FULL).build()).getWorkflow().getWorkflowId();
    String plain = create(carol, "plain", "{}");
    String open = carol.createWorkflow(workflow("open", "{}").setIsPublic(true).build()).getWorkflow()
        .getWorkflowId();
    ended(carol, execute(carol, plain, "{}"));

    assertThat(ids(() -> carol.listWorkflows(ListWorkflowsRequest.getDefaultInstance()).getWorkflowsList()))
        .containsExactly(open, plain, tagged);
    assertThat(ids(() -> carol.listWorkflows(ListWorkflowsRequest.newBuilder().setTag("nlp").build())
        .getWorkflowsList())).containsExactly(tagged);
    assertThat(ids(() -> carol.listWorkflows(ListWorkflowsRequest.newBuilder()
        .setVerificationLevel(VerificationLevel.VERIFICATION_LEVEL_FULL).build()).getWorkflowsList()))
        .containsExactly(tagged);
    assertThat(ids(() -> carol.listWorkflows(ListWorkflowsRequest.newBuilder()
        .setStatus(ExecutionStatus.EXECUTION_STATUS_COMPLETED).build()).getWorkflowsList())).containsExactly(plain);
    assertThat(ids(() -> bob.listWorkflows(ListWorkflowsRequest.newBuilder().setIncludePublic(true).setOwner("carol")
        .build()).getWorkflowsList())).containsExactly(open);
    var page = carol.listWorkflows(ListWorkflowsRequest.newBuilder().setPageSize(2).build());
    assertThat(page.getWorkflowsCount()).isEqualTo(2);
    assertThat(page.getNextOffset()).isEqualTo(2);
  }

  private static List<String> ids(Supplier<List<net.aitbc.grid.v1.Workflow>> list) {
    return list.get().stream().map(net.aitbc.grid.v1.Workflow::getWorkflowId).toList();
  }

  @Test
  void watchingAnExecutionShowsItsStepTransitionsAndItsStepsStreamedOutput() {
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-watch", 2, a -> new Hold(), "t-watch")) {
      String wf = create(alice, "watched", """
          {'steps': {'one': {'type': 't-watch', 'payload': {}},
                     'two': {'type': 't-watch', 'payload': {}, 'depends_on': 'one'}}}""");
      String id = execute(alice, wf, "{}");
      List<WatchExecutionResponse> seen = new CopyOnWriteArrayList<>();
      CompletableFuture<Status> end = watch(id, seen);
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 1 && seen.stream().anyMatch(m ->
          m.hasExecution() && m.getExecution().getSteps(0).getStatus() == StepStatus.STEP_STATUS_RUNNING));
      Assignment one = w.assignments().getFirst();
      w.worker().progress(one.getJobId(), one.getAttempt(), "thinking…");
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream().anyMatch(WatchExecutionResponse::hasProgress));
      w.worker().complete(one.getJobId(), one.getAttempt(), "{}", "{}");
      w.worker().credit(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 2);
      Assignment two = w.assignments().get(1);
      w.worker().complete(two.getJobId(), two.getAttempt(), "{}", "{}");

      assertThat(end.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join().getCode()).isEqualTo(Status.Code.OK);
      var progress = seen.stream().filter(WatchExecutionResponse::hasProgress).findFirst().orElseThrow().getProgress();
      assertThat(progress.getStep()).isEqualTo("one");
      assertThat(progress.getJobId()).isEqualTo(one.getJobId());
      assertThat(progress.getProgress().getOutput()).isEqualTo("thinking…");
      List<Execution> states = seen.stream().filter(WatchExecutionResponse::hasExecution)
          .map(WatchExecutionResponse::getExecution).toList();
      assertThat(states.getLast().getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      assertThat(states).anyMatch(e -> e.getSteps(0).getStatus() == StepStatus.STEP_STATUS_COMPLETED
          && e.getSteps(1).getStatus() == StepStatus.STEP_STATUS_RUNNING);
      assertThat(states).extracting(Execution::getProgress).isSorted();
    }
  }

  /** Watches an execution with alice's key, adding what arrives to {@code seen}; completes with how it ended. */
  private static CompletableFuture<Status> watch(String executionId, List<WatchExecutionResponse> seen) {
    CompletableFuture<Status> end = new CompletableFuture<>();
    GrpcClients.withKey(WorkflowServiceGrpc.newStub(grid.channel()), aliceKey).watchExecution(
        WatchExecutionRequest.newBuilder().setExecutionId(executionId).build(), new StreamObserver<>() {
          @Override
          public void onNext(WatchExecutionResponse value) {
            seen.add(value);
          }

          @Override
          public void onError(Throwable t) {
            end.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            end.complete(Status.OK);
          }
        });
    return end;
  }

  @Test
  void watchersStillHearOfChangesAfterTheNotificationConnectionWasLost() {
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-lost", 2, a -> new Hold(), "t-lost")) {
      String wf = create(alice, "lost", """
          {'steps': {'one': {'type': 't-lost', 'payload': {}},
                     'two': {'type': 't-lost', 'payload': {}, 'depends_on': 'one'}}}""");
      String id = execute(alice, wf, "{}");
      List<WatchExecutionResponse> seen = new CopyOnWriteArrayList<>();
      watch(id, seen);
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 1 && seen.stream().anyMatch(m ->
          m.hasExecution() && m.getExecution().getSteps(0).getStatus() == StepStatus.STEP_STATUS_RUNNING));

      Table<?> activity = DSL.table(DSL.name("pg_stat_activity"));
      Field<Integer> pid = DSL.field(DSL.name("pid"), Integer.class);
      List<Boolean> terminated = grid.query(dsl -> dsl.select(DSL.function(DSL.name("pg_terminate_backend"),
              Boolean.class, pid)).from(activity)
          .where(DSL.field(DSL.name("application_name"), String.class).eq(NotificationListener.APPLICATION_NAME),
              DSL.field(DSL.name("datname"), String.class).eq(DSL.currentCatalog()))
          .fetch(r -> r.value1()));
      assertThat(terminated).containsExactly(true);

      Assignment one = w.assignments().getFirst();
      w.worker().complete(one.getJobId(), one.getAttempt(), "{}", "{}");
      // The change is announced while nobody listens: the watcher reads again once the listener is back.
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.stream().anyMatch(m -> m.hasExecution()
          && m.getExecution().getSteps(0).getStatus() == StepStatus.STEP_STATUS_COMPLETED));
      alice.cancelExecution(CancelExecutionRequest.newBuilder().setExecutionId(id).build());
    }
  }
}
