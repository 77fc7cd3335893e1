package net.aitbc.grid.coordinator.workflow;

import static net.aitbc.grid.coordinator.testing.Workflows.json;
import static net.aitbc.grid.coordinator.testing.Workflows.parse;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.NETWORK_RUN_EXECUTION;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.Networks;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CoordinationStrategy;
import net.aitbc.grid.v1.NetworkRun;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/**
 * What a coordinator restart keeps of network runs: everything. A run stopped mid-way finishes on the
 * next coordinator with no agent's execution made twice, and an execution that ended while no
 * coordinator ran wakes its run at the next start.
 */
class NetworkRestartIT {
  private static Coordinator start(TestDatabase db) {
    return Coordinator.start(TestConfigs.builder(db.url()).shutdownGrace(Duration.ofMillis(500)).build());
  }

  @Test
  void aRunStoppedMidWayFinishesAfterARestartWithNoExecutionMadeTwice() {
    try (TestDatabase db = TestDatabase.create()) {
      String key;
      String workerKey;
      String network;
      String runId;
      List<String> agents;
      try (Coordinator before = start(db)) {
        key = before.createKey(Role.CLIENT, "c");
        workerKey = before.createKey(Role.WORKER, "owner");
        try (TestWorker w = worker(before, workerKey)) {
          agents = call(before, key, stub -> List.of("a", "b", "c").stream().map(name -> Workflows.create(stub, name,
              "{'inputs': {'task': null, 'previous': {}}, 'steps': {'s': {'type': 't-net-restart', 'payload': "
                  + "{'prompt': '" + name + " after {{inputs.previous}}'}}}, "
                  + "'output': {'output': '{{steps.s.result.output}}'}}")).toList());
          network = call(before, key, stub -> Networks.create(stub, "chain",
              CoordinationStrategy.COORDINATION_STRATEGY_CENTRALIZED, agents.toArray(String[]::new)));
          runId = call(before, key, stub -> Networks.execute(stub, network, "'go'"));
          Assignment a = assignment(w);
          assertThat(parse(a.getPayloadJson()).get("prompt").asText()).isEqualTo("a after {}");
          w.complete(a.getJobId(), a.getAttempt(), "{\"output\":\"A\"}");
          w.credit(1);
          // Agent b's step is running on this worker when the coordinator stops.
          Assignment b = assignment(w);
          assertThat(parse(b.getPayloadJson()).get("prompt").asText()).isEqualTo("b after {\"output\":\"A\"}");
        }
      }
      try (Coordinator after = start(db); TestWorker w = worker(after, workerKey)) {
        Assignment b = assignment(w);
        assertThat(parse(b.getPayloadJson()).get("prompt").asText()).isEqualTo("b after {\"output\":\"A\"}");
        w.complete(b.getJobId(), b.getAttempt(), "{\"output\":\"B\"}");
        w.credit(1);
        Assignment c = assignment(w);
        assertThat(parse(c.getPayloadJson()).get("prompt").asText()).isEqualTo("c after {\"output\":\"B\"}");
        w.complete(c.getJobId(), c.getAttempt(), "{\"output\":\"C\"}");
        NetworkRun run = call(after, key, stub -> Networks.ended(stub, network, runId));

        assertThat(run.getStatus()).isEqualTo(net.aitbc.grid.v1.ExecutionStatus.EXECUTION_STATUS_COMPLETED);
        assertThat(parse(run.getResultJson())).isEqualTo(parse(json("{'" + agents.get(0) + "': {'output': 'A'}, '"
            + agents.get(1) + "': {'output': 'B'}, '" + agents.get(2) + "': {'output': 'C'}}")));
        UUID id = JobIds.parse(runId).orElseThrow();
        List<UUID> executions = query(db, dsl -> dsl.select(NETWORK_RUN_EXECUTION.EXECUTION_ID)
            .from(NETWORK_RUN_EXECUTION).where(NETWORK_RUN_EXECUTION.RUN_ID.eq(id)).fetch(r -> r.value1()));
        assertThat(executions).hasSize(3);
        // The client has no other execution: none was made twice, not even one left unlinked.
        int all = query(db, dsl -> dsl.fetchCount(EXECUTION, EXECUTION.CLIENT_ID.eq("c")));
        assertThat(all).isEqualTo(3);
        List<String> requests = query(db, dsl -> dsl.select(JOB.REQUEST_ID).from(JOB)
            .where(JOB.EXECUTION_ID.in(executions)).fetch(r -> r.value1()));
        assertThat(requests).hasSize(3).doesNotHaveDuplicates();
      }
    }
  }

  @Test
  void anExecutionThatEndedWhileNoCoordinatorRanWakesItsRunAtTheNextStart() {
    try (TestDatabase db = TestDatabase.create()) {
      String key;
      String network;
      String runId;
      try (Coordinator before = start(db)) {
        key = before.createKey(Role.CLIENT, "c");
        String wf = call(before, key, stub -> Workflows.create(stub, "waits",
            "{'steps': {'s': {'type': 'noop', 'payload': {}}}}"));
        network = call(before, key, stub -> Networks.create(stub, "one",
            CoordinationStrategy.COORDINATION_STRATEGY_DECENTRALIZED, wf));
        runId = call(before, key, stub -> Networks.execute(stub, network, "1"));
        // No worker runs noop here: the agent's execution waits for its step job.
        await().atMost(Duration.ofSeconds(10))
            .until(() -> call(before, key, stub -> Networks.run(stub, network, runId)).getExecutionsCount() == 1);
      }
      // As another coordinator would while this one is down: the agent's execution is cancelled.
      UUID id = JobIds.parse(runId).orElseThrow();
      int cancelled = query(db, dsl -> dsl.update(EXECUTION).set(EXECUTION.STATUS, ExecutionStatus.cancelled)
          .set(EXECUTION.ERROR_MESSAGE, "cancelled elsewhere")
          .where(EXECUTION.EXECUTION_ID.in(dsl.select(NETWORK_RUN_EXECUTION.EXECUTION_ID).from(NETWORK_RUN_EXECUTION)
              .where(NETWORK_RUN_EXECUTION.RUN_ID.eq(id))))
          .execute());
      assertThat(cancelled).isEqualTo(1);

      try (Coordinator after = start(db)) {
        NetworkRun run = call(after, key, stub -> Networks.ended(stub, network, runId));
        assertThat(run.getStatus()).isEqualTo(net.aitbc.grid.v1.ExecutionStatus.EXECUTION_STATUS_FAILED);
        assertThat(run.getErrorMessage()).endsWith("cancelled: cancelled elsewhere");
      }
    }
  }

  private static TestWorker worker(Coordinator coordinator, String workerKey) {
    TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, "w-net-restart", List.of("t-net-restart"),
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
