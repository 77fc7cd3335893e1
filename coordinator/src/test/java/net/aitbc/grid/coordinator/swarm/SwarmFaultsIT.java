package net.aitbc.grid.coordinator.swarm;

import static net.aitbc.grid.coordinator.testing.Swarms.ended;
import static net.aitbc.grid.coordinator.testing.Swarms.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Hold;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Reply;
import net.aitbc.grid.coordinator.testing.Swarms;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelTaskRequest;
import net.aitbc.grid.v1.CancelTaskResponse;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetTaskReceiptRequest;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.SwarmServiceGrpc.SwarmServiceBlockingStub;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What ends a swarm task early or moves its member jobs: its timeout (it ends with what it has), a
 * worker that went before taking its job (the job moves to another worker), and a cancel (its member
 * jobs are revoked). Each test has its own job type.
 */
class SwarmFaultsIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private final List<ScriptedWorker> workers = new ArrayList<>();
  private SwarmServiceBlockingStub swarm;

  @BeforeEach
  void client() {
    swarm = Swarms.client(grid, grid.clientKey("hugo"));
  }

  @AfterEach
  void stop() {
    workers.forEach(ScriptedWorker::close);
  }

  private ScriptedWorker worker(String id, String type, java.util.function.Function<Assignment, Reply> script) {
    ScriptedWorker w = ScriptedWorker.start(grid, id, 2, script, type).heartbeating();
    workers.add(w);
    return w;
  }

  private static Reply ok(Assignment a) {
    return new Complete("{\"ok\":true}", "{}");
  }

  @Test
  void theTimeoutEndsTheTaskWithWhatItCollected() {
    String type = "timeout-test";
    worker("t1", type, SwarmFaultsIT::ok);
    ScriptedWorker slow = worker("t2", type, a -> new Hold());
    String taskId = swarm.coordinate(CoordinateRequest.newBuilder().setTask(Workflows.json("{'type':'" + type + "'}"))
        .setCollaborators(2).setTimeout(Durations.fromSeconds(2)).build()).getTaskId();
    SwarmTask t = ended(swarm, taskId);

    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
    assertThat(t.getErrorMessage()).startsWith("timed out after 2 s; no consensus: the largest agreeing group holds "
        + "1 of 2 results").endsWith("1 without a result (t2)");
    assertThat(t.getDecision().getAgreeingWorkersList()).containsExactly("t1");
    assertThat(t.getDecision().getMissingWorkersList()).containsExactly("t2");
    assertThat(member(t, "t1").getResultSha256()).hasSize(64);
    // The unfinished member job is revoked from its worker.
    String held = member(t, "t2").getJobId();
    await().atMost(Duration.ofSeconds(10)).until(() -> slow.revoked().containsKey(held));
    assertThat(member(Swarms.get(swarm, taskId), "t2").getJobState()).isEqualTo(JobState.JOB_STATE_CANCELED);
  }

  @Test
  void aMemberJobWaitingForAWorkerThatWentIsMovedToAnother() {
    String type = "gone-test";
    for (String id : List.of("g1", "g2", "g3")) {
      worker(id, type, SwarmFaultsIT::ok);
    }
    // g0 ranks first (by id, all else equal) but takes nothing, then goes.
    TestWorker g0 = grid.worker("g0", type);
    String taskId;
    try {
      taskId = Swarms.coordinate(swarm, "{'type':'" + type + "'}", 3, "consensus");
      String id = taskId;
      await().atMost(Duration.ofSeconds(10)).until(() -> Swarms.get(swarm, id).getMembersList().stream()
          .anyMatch(m -> m.getWorkerId().equals("g0")));
    } finally {
      g0.kill();
    }
    SwarmTask t = ended(swarm, taskId);
    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    SwarmTaskMember gone = member(t, "g0");
    assertThat(gone.getJobState()).isEqualTo(JobState.JOB_STATE_CANCELED);
    assertThat(gone.getError()).isEqualTo("worker g0 has gone before taking the job");
    SwarmTaskMember instead = t.getMembersList().stream()
        .filter(m -> m.getSlot() == gone.getSlot() && m.getReplacement() == 1).findFirst().orElseThrow();
    assertThat(instead.getWorkerId()).isEqualTo("g3");
    assertThat(t.getDecision().getAgreeingWorkersList()).containsExactlyInAnyOrder("g1", "g2", "g3");
  }

  @Test
  void aCancelRevokesTheMemberJobsAndIssuesTheReceipt() {
    String type = "cancel-test";
    ScriptedWorker holder = worker("c1", type, a -> new Hold());
    String taskId = Swarms.coordinate(swarm, "{'type':'" + type + "'}", 1, "consensus");
    await().atMost(Duration.ofSeconds(10)).until(() -> !holder.assignments().isEmpty());

    CancelTaskResponse cancelled = swarm.cancelTask(CancelTaskRequest.newBuilder().setTaskId(taskId)
        .setReason("changed my mind").build());
    assertThat(cancelled.getChanged()).isTrue();
    assertThat(cancelled.getTask().getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    assertThat(cancelled.getTask().getErrorMessage()).isEqualTo("cancelled by client: changed my mind");
    String job = holder.assignments().getFirst().getJobId();
    await().atMost(Duration.ofSeconds(10)).until(() -> holder.revoked().containsKey(job));
    assertThat(swarm.cancelTask(CancelTaskRequest.newBuilder().setTaskId(taskId).build()).getChanged()).isFalse();
    assertThat(swarm.getTaskReceipt(GetTaskReceiptRequest.newBuilder().setTaskId(taskId).build()).getReceipt()
        .getStatus()).isEqualTo("cancelled");
  }
}
