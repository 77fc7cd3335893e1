package net.aitbc.grid.coordinator.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.EnumSet;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetTaskRequest;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.SwarmServiceGrpc.SwarmServiceBlockingStub;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;

/** SwarmService helpers for tests: clients, tasks started and awaited. */
public final class Swarms {
  private Swarms() {}

  /** A blocking SwarmService client of {@code grid} with this key. */
  public static SwarmServiceBlockingStub client(GridFixture grid, String key) {
    return GrpcClients.withKey(SwarmServiceGrpc.newBlockingStub(grid.channel()), key);
  }

  /** Starts a task (task text single-quoted) and returns its id. */
  public static String coordinate(SwarmServiceBlockingStub client, String task, int collaborators, String strategy) {
    return client.coordinate(CoordinateRequest.newBuilder().setTask(Workflows.json(task))
        .setCollaborators(collaborators).setStrategy(strategy).build()).getTaskId();
  }

  /** The task now. */
  public static SwarmTask get(SwarmServiceBlockingStub client, String taskId) {
    return client.getTask(GetTaskRequest.newBuilder().setTaskId(taskId).build()).getTask();
  }

  /** The task once it has ended (within 30 s). */
  public static SwarmTask ended(SwarmServiceBlockingStub client, String taskId) {
    var ended = EnumSet.of(ExecutionStatus.EXECUTION_STATUS_COMPLETED, ExecutionStatus.EXECUTION_STATUS_FAILED,
        ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> get(client, taskId), t -> ended.contains(t.getStatus()));
  }

  /** The task's member job of this worker. */
  public static SwarmTaskMember member(SwarmTask task, String workerId) {
    return task.getMembersList().stream().filter(m -> m.getWorkerId().equals(workerId)).findFirst()
        .orElseThrow(() -> new AssertionError(workerId + " is no member of " + task));
  }
}
