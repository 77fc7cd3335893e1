package net.aitbc.grid.coordinator.swarm;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.Swarms;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.SwarmServiceGrpc.SwarmServiceBlockingStub;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;

/**
 * What a coordinator restart keeps of swarm tasks: everything is in PostgreSQL. Member jobs that
 * ended while no coordinator ran (their attempts taken back at shutdown) wake their task at the next
 * start, which makes them again on other workers, with no member job made twice.
 */
class SwarmRestartIT {
  private static Coordinator start(TestDatabase db) {
    return Coordinator.start(TestConfigs.builder(db.url()).shutdownGrace(Duration.ofMillis(300)).build());
  }

  @Test
  void aTaskStoppedMidWayFinishesAfterARestartOnOtherWorkers() {
    try (TestDatabase db = TestDatabase.create()) {
      String key;
      String workerKey;
      String taskId;
      Coordinator before = start(db);
      key = before.createKey(Role.CLIENT, "c");
      workerKey = before.createKey(Role.WORKER, "owner");
      try (TestWorker a = worker(before, workerKey, "before-1"); TestWorker b = worker(before, workerKey, "before-2")) {
        taskId = call(before, key, s -> Swarms.coordinate(s, "{'type':'t-restart','n':1}", 2, "consensus"));
        // Both hold their member jobs when the coordinator stops (their attempts are taken back then).
        assignment(a);
        assignment(b);
        before.close();
      }
      try (Coordinator after = start(db); TestWorker x = worker(after, workerKey, "after-1");
          TestWorker y = worker(after, workerKey, "after-2")) {
        for (TestWorker w : List.of(x, y)) {
          Assignment m = assignment(w);
          w.complete(m.getJobId(), m.getAttempt(), "{\"ok\":true}");
        }
        SwarmTask t = await().atMost(Duration.ofSeconds(20)).until(() -> call(after, key,
            s -> Swarms.get(s, taskId)), r -> r.getStatus() == ExecutionStatus.EXECUTION_STATUS_COMPLETED);
        assertThat(t.getDecision().getAgreeingWorkersList()).containsExactlyInAnyOrder("after-1", "after-2");
        assertThat(t.getMembersList()).filteredOn(m -> m.getReplacement() == 0)
            .extracting(SwarmTaskMember::getJobState).containsOnly(JobState.JOB_STATE_FAILED);
        assertThat(t.getMembersList()).extracting(SwarmTaskMember::getReplacedWorkerId)
            .contains("before-1", "before-2");
        List<String> requests = query(db, dsl -> dsl.select(JOB.REQUEST_ID).from(JOB)
            .where(JOB.SWARM_TASK_ID.eq(JobIds.parse(taskId).orElseThrow())).fetch(r -> r.value1()));
        assertThat(requests).hasSize(4).doesNotHaveDuplicates();
      }
    }
  }

  private static TestWorker worker(Coordinator coordinator, String workerKey, String id) {
    TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, id, List.of("t-restart"), List.of());
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

  private static <T> T call(Coordinator coordinator, String key, Function<SwarmServiceBlockingStub, T> call) {
    ManagedChannel channel = GrpcClients.channel(coordinator.grpcPort());
    try {
      return call.apply(GrpcClients.withKey(SwarmServiceGrpc.newBlockingStub(channel), key));
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
