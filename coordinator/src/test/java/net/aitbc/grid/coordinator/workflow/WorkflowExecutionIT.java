package net.aitbc.grid.coordinator.workflow;

import static net.aitbc.grid.coordinator.testing.Workflows.create;
import static net.aitbc.grid.coordinator.testing.Workflows.ended;
import static net.aitbc.grid.coordinator.testing.Workflows.execute;
import static net.aitbc.grid.coordinator.testing.Workflows.get;
import static net.aitbc.grid.coordinator.testing.Workflows.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.ExecutionInvariants;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Fail;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Hold;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Reply;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelExecutionRequest;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.PaymentStatus;
import net.aitbc.grid.v1.StepStatus;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Executions over a real coordinator, PostgreSQL and hand-spoken workers: results passed along,
 * branches in parallel, for_each, budgets, cancel, retries and paid steps. Each test has its own
 * client and its own job type, so that no job of one test reaches another's worker. After each, every
 * ended execution has exactly one receipt (ExecutionInvariants).
 */
class WorkflowExecutionIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  /** Metrics whose receipt price is 10 × the default unit price 0.02 = 0.2. */
  static final String UNITS = "{\"units\":10,\"unit_type\":\"tokens\"}";

  private String key;
  private WorkflowServiceBlockingStub workflows;
  private JobServiceBlockingStub jobs;

  private void as(String client) {
    key = grid.clientKey(client);
    workflows = Workflows.client(grid, key);
    jobs = grid.clientWithKey(key);
  }

  /** Completes with {@code {"output": prompt + "!"}}. */
  static Reply echo(Assignment a) {
    String prompt = parse(a.getPayloadJson()).path("prompt").asText();
    return new Complete(JsonNodeFactory.instance.objectNode().put("output", prompt + "!").toString(), UNITS);
  }

  @AfterEach
  void everyEndedExecutionHasExactlyOneReceipt() {
    grid.query(dsl -> {
      ExecutionInvariants.check(dsl);
      return null;
    });
  }

  private JobState state(String jobId) {
    return jobs.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob().getState();
  }

  @Test
  void threeStepsPassTheirResultsAlong() {
    as("three");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-three", 4, WorkflowExecutionIT::echo, "t-three")) {
      String wf = create(workflows, "three", """
          {'inputs': {'text': null},
           'steps': {'draft': {'type': 't-three', 'payload': {'prompt': '{{inputs.text}}'}},
                     'refine': {'type': 't-three', 'payload': {'prompt': '{{steps.draft.result.output}}'}},
                     'final': {'type': 't-three', 'payload': {'prompt': 'again {{steps.refine.result.output}}'}}},
           'output': {'answer': '{{steps.final.result.output}}', 'first': '{{steps.draft.result}}'}}""");
      Execution e = ended(workflows, execute(workflows, wf, "{'text': 'hi'}"));

      assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      assertThat(parse(e.getFinalResultJson())).isEqualTo(parse(Workflows.json(
          "{'answer': 'again hi!!!', 'first': {'output': 'hi!'}}")));
      assertThat(w.assignments()).extracting(a -> parse(a.getPayloadJson()).get("prompt").asText())
          .containsExactly("hi", "hi!", "again hi!!");
      assertThat(e.getProgress()).isEqualTo(100);
      assertThat(e.getCurrentStep()).isEqualTo(3);
      assertThat(e.getTotalSteps()).isEqualTo(3);
      assertThat(e.getTotalCost()).isEqualTo("0.6");
      assertThat(e.getStepsList()).allSatisfy(s -> {
        assertThat(s.getStatus()).isEqualTo(StepStatus.STEP_STATUS_COMPLETED);
        assertThat(s.getCost()).isEqualTo("0.2");
        assertThat(s.getJobIdsList()).hasSize(1);
        assertThat(s.hasEndTime()).isTrue();
      });
      assertThat(e.getStepsList().get(1).getDependsOnList()).containsExactly("draft");
      assertThat(e.hasStartTime()).isTrue();
      assertThat(e.hasEndTime()).isTrue();
    }
  }

  @Test
  void independentStepsRunAtTheSameTime() {
    as("parallel");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-parallel", 4, a -> new Hold(), "t-par")) {
      String wf = create(workflows, "branches", """
          {'steps': {'left': {'type': 't-par', 'payload': {'prompt': 'l'}},
                     'right': {'type': 't-par', 'payload': {'prompt': 'r'}},
                     'join': {'type': 't-par',
                              'payload': {'prompt': '{{steps.left.result.output}}{{steps.right.result.output}}'}}}}""");
      String id = execute(workflows, wf, "{}");
      // Both branches are out at once, neither answered yet.
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 2);
      assertThat(w.assignments()).extracting(a -> parse(a.getPayloadJson()).get("prompt").asText())
          .containsExactlyInAnyOrder("l", "r");
      Execution running = await().atMost(Duration.ofSeconds(10)).until(() -> get(workflows, id),
          e -> e.getStepsList().stream().filter(s -> s.getStatus() == StepStatus.STEP_STATUS_RUNNING).count() == 2);
      assertThat(running.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_RUNNING);
      assertThat(running.getCurrentStepName()).isEqualTo("left");
      assertThat(running.getSteps(2).getStatus()).isEqualTo(StepStatus.STEP_STATUS_WAITING);
      for (Assignment a : List.copyOf(w.assignments())) {
        Complete c = (Complete) echo(a);
        w.worker().complete(a.getJobId(), a.getAttempt(), c.resultJson(), c.metricsJson());
      }
      w.worker().credit(2);
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 3);
      Assignment join = w.assignments().get(2);
      assertThat(parse(join.getPayloadJson()).get("prompt").asText()).isEqualTo("l!r!");
      w.worker().complete(join.getJobId(), join.getAttempt(), "{\"output\":\"done\"}", UNITS);
      Execution e = ended(workflows, id);
      assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      // Without an output template: the results of the steps nothing waits for.
      assertThat(parse(e.getFinalResultJson())).isEqualTo(parse("{\"join\":{\"output\":\"done\"}}"));
    }
  }

  @Test
  void forEachOverFiftyItemsCollectsTheResultsInItemOrder() {
    as("fanout");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-fanout", 17, a -> {
      JsonNode p = parse(a.getPayloadJson());
      return new Complete("{\"square\":" + p.get("n").asInt() * p.get("n").asInt() + ",\"at\":" + p.get("i").asInt()
          + "}", "{}");
    }, "t-fan")) {
      String wf = create(workflows, "squares", """
          {'inputs': {'numbers': null},
           'steps': {'square': {'type': 't-fan', 'for_each': '{{inputs.numbers}}',
                                'payload': {'n': '{{item}}', 'i': '{{index}}'}}},
           'output': {'squares': '{{steps.square.result}}'}}""");
      String numbers = java.util.stream.IntStream.range(0, 50).map(i -> 49 - i).mapToObj(Integer::toString)
          .collect(Collectors.joining(",", "[", "]"));
      Execution e = ended(workflows, execute(workflows, wf, "{'numbers': " + numbers + "}"));

      assertThat(e.getStatus()).as(e.getErrorMessage()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      JsonNode squares = parse(e.getFinalResultJson()).get("squares");
      assertThat(squares).hasSize(50);
      for (int i = 0; i < 50; i++) {
        assertThat(squares.get(i).get("at").asInt()).isEqualTo(i);
        assertThat(squares.get(i).get("square").asInt()).isEqualTo((49 - i) * (49 - i));
      }
      assertThat(e.getSteps(0).getItems()).isEqualTo(50);
      assertThat(e.getSteps(0).getItemsCompleted()).isEqualTo(50);
      assertThat(e.getSteps(0).getJobIdsList()).hasSize(50).doesNotHaveDuplicates();
      assertThat(w.assignments()).hasSize(50);
    }
  }

  @Test
  void theTimeBudgetFailsTheExecutionAndCancelsItsRunningSteps() {
    as("slow");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-slow", 2, a -> new Hold(), "t-slow")) {
      String wf = create(workflows, "slow", "{'steps': {'wait': {'type': 't-slow', 'payload': {}}}}");
      String id = workflows.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(wf)
          .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(2)).build()).getExecution()
          .getExecutionId();
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 1);
      Execution e = ended(workflows, id);

      assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
      assertThat(e.getErrorMessage()).startsWith("timeout of 2 s exceeded after ");
      assertThat(e.getSteps(0).getStatus()).isEqualTo(StepStatus.STEP_STATUS_CANCELLED);
      String job = w.assignments().getFirst().getJobId();
      await().atMost(Duration.ofSeconds(10)).until(() -> state(job) != JobState.JOB_STATE_RUNNING);
      assertThat(state(job)).isIn(JobState.JOB_STATE_CANCELED, JobState.JOB_STATE_EXPIRED);
    }
  }

  @Test
  void theCostBudgetFailsTheExecutionSayingByHowMuchAndCancelsTheRest() {
    as("spender");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-spend", 5,
        a -> parse(a.getPayloadJson()).get("i").asInt() < 3 ? new Complete("{}", UNITS) : new Hold(), "t-spend")) {
      String wf = workflows
          .createWorkflow(CreateWorkflowRequest.newBuilder().setName("spend").setMaxCostBudget("0.5")
              .setDefinitionJson(Workflows.json("{'steps': {'each': {'type': 't-spend', 'for_each': '{{inputs.xs}}', "
                  + "'payload': {'i': '{{index}}'}}}, 'inputs': {'xs': [1, 2, 3, 4, 5]}}")).build())
          .getWorkflow().getWorkflowId();
      // The three completions may be seen one by one (0.2, 0.4, 0.6) or together: 0.6 is over either way.
      Execution e = ended(workflows, execute(workflows, wf, "{}"));

      assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
      assertThat(e.getErrorMessage()).isEqualTo("cost budget 0.5 exceeded: spent 0.6 (0.1 over)");
      assertThat(e.getTotalCost()).isEqualTo("0.6");
      Set<String> held = w.assignments().stream().filter(a -> parse(a.getPayloadJson()).get("i").asInt() >= 3)
          .map(Assignment::getJobId).collect(Collectors.toSet());
      assertThat(held).hasSize(2);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        assertThat(held).allSatisfy(j -> assertThat(state(j)).isEqualTo(JobState.JOB_STATE_CANCELED));
        assertThat(w.revoked()).containsKeys(held.toArray(String[]::new));
      });
      assertThat(w.revoked().get(held.iterator().next())).contains("failed: cost budget 0.5 exceeded");
    }
  }

  @Test
  void cancellingAnExecutionCancelsItsUnfinishedStepJobs() {
    as("canceller");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-cancel", 2, a -> new Hold(), "t-cancel")) {
      String wf = create(workflows, "cancel me", """
          {'steps': {'first': {'type': 't-cancel', 'payload': {}},
                     'second': {'type': 't-cancel', 'payload': {}, 'depends_on': ['first']}}}""");
      String id = execute(workflows, wf, "{}");
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 1);
      var answer = workflows.cancelExecution(CancelExecutionRequest.newBuilder().setExecutionId(id)
          .setReason("changed my mind").build());

      assertThat(answer.getChanged()).isTrue();
      assertThat(answer.getExecution().getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_CANCELLED);
      assertThat(answer.getExecution().getErrorMessage()).isEqualTo("cancelled by client: changed my mind");
      assertThat(answer.getExecution().getStepsList()).extracting(s -> s.getStatus())
          .containsOnly(StepStatus.STEP_STATUS_CANCELLED);
      String job = w.assignments().getFirst().getJobId();
      await().atMost(Duration.ofSeconds(10)).until(() -> state(job) == JobState.JOB_STATE_CANCELED);
      await().atMost(Duration.ofSeconds(10)).until(() -> w.revoked().containsKey(job));
      // Cancelled is final: a second cancel changes nothing, and the second step never starts.
      assertThat(workflows.cancelExecution(CancelExecutionRequest.newBuilder().setExecutionId(id).build())
          .getChanged()).isFalse();
      assertThat(get(workflows, id).getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_CANCELLED);
      assertThat(w.assignments()).hasSize(1);
    }
  }

  @Test
  void aFailingStepIsTriedAsOftenAsItsRetriesSayThenFailsTheExecution() {
    as("flaky");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-flaky", 2, a -> new Fail("model crashed", true),
        "t-flaky")) {
      String wf = create(workflows, "flaky", """
          {'steps': {'try': {'type': 't-flaky', 'payload': {}, 'retries': 2},
                     'after': {'type': 't-flaky', 'payload': {}, 'depends_on': 'try'}}}""");
      Execution e = ended(workflows, execute(workflows, wf, "{}"));

      assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
      assertThat(e.getErrorMessage()).isEqualTo("step try failed: model crashed (gave up after 3 attempts)");
      assertThat(w.assignments()).extracting(Assignment::getAttempt).containsExactly(1, 2, 3);
      assertThat(e.getSteps(0).getStatus()).isEqualTo(StepStatus.STEP_STATUS_FAILED);
      assertThat(e.getSteps(1).getStatus()).isEqualTo(StepStatus.STEP_STATUS_CANCELLED);
    }
  }

  @Test
  void aPaidStepEscrowsLikeAnyJobAndItsWorkerIsPaid() {
    as("payer");
    grid.query(dsl -> {
      PaymentInvariants.check(dsl);
      return null;
    });
    GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()),
        grid.coordinator().createKey(Role.ADMIN, "ops"))
        .deposit(DepositRequest.newBuilder().setClientId("payer").setAmount("10").build());
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-paid", 2, WorkflowExecutionIT::echo, "t-paid")) {
      String wf = create(workflows, "paid", """
          {'steps': {'a': {'type': 't-paid', 'payload': {'prompt': 'x'}, 'payment_amount': '1.5'},
                     'b': {'type': 't-paid', 'payload': {'prompt': '{{steps.a.result.output}}'},
                           'payment_amount': 20}}}""");
      Execution e = ended(workflows, execute(workflows, wf, "{}"));

      // The second step's 20 is more than the 8.5 left: its job is refused for good, and the step fails.
      assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
      assertThat(e.getErrorMessage()).startsWith("step b failed: ").containsIgnoringCase("balance");
      assertThat(e.getSteps(1).getStatus()).isEqualTo(StepStatus.STEP_STATUS_FAILED);
      assertThat(w.assignments()).hasSize(1);
      var payment = jobs.getJob(GetJobRequest.newBuilder().setJobId(w.assignments().getFirst().getJobId()).build())
          .getJob().getPaymentStatus();
      assertThat(payment).isEqualTo(PaymentStatus.PAYMENT_STATUS_RELEASED);
    }
    grid.query(dsl -> {
      PaymentInvariants.check(dsl);
      return null;
    });
  }
}
