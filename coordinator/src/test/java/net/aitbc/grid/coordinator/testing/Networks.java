package net.aitbc.grid.coordinator.testing;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import net.aitbc.grid.v1.CoordinationStrategy;
import net.aitbc.grid.v1.CreateNetworkRequest;
import net.aitbc.grid.v1.ExecuteNetworkRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetNetworkStatusRequest;
import net.aitbc.grid.v1.GetNetworkStatusResponse;
import net.aitbc.grid.v1.NetworkRun;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;

/** Network helpers for tests: networks created, runs started and awaited. */
public final class Networks {
  private Networks() {}

  /** Creates a network of these workflows and returns its id. */
  public static String create(WorkflowServiceBlockingStub client, String name, CoordinationStrategy strategy,
      String... workflowIds) {
    return client.createNetwork(CreateNetworkRequest.newBuilder().setName(name).setCoordinationStrategy(strategy)
        .addAllWorkflowIds(List.of(workflowIds)).build()).getNetwork().getNetworkId();
  }

  /** Runs a network on a single-quoted task and returns the run's id. */
  public static String execute(WorkflowServiceBlockingStub client, String networkId, String task) {
    return client.executeNetwork(ExecuteNetworkRequest.newBuilder().setNetworkId(networkId)
        .setTaskJson(Workflows.json(task)).build()).getRun().getRunId();
  }

  /** The network's status with every figure. */
  public static GetNetworkStatusResponse status(WorkflowServiceBlockingStub client, String networkId) {
    return client.getNetworkStatus(GetNetworkStatusRequest.newBuilder().setNetworkId(networkId).build());
  }

  /** A run as the network's status lists it now (one of its latest runs). */
  public static NetworkRun run(WorkflowServiceBlockingStub client, String networkId, String runId) {
    return status(client, networkId).getRunsList().stream().filter(r -> r.getRunId().equals(runId)).findFirst()
        .orElseThrow(() -> new AssertionError("run " + runId + " is not among the latest runs"));
  }

  /** The run once it has ended (within 30 s). */
  public static NetworkRun ended(WorkflowServiceBlockingStub client, String networkId, String runId) {
    var ended = EnumSet.of(ExecutionStatus.EXECUTION_STATUS_COMPLETED, ExecutionStatus.EXECUTION_STATUS_FAILED,
        ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> run(client, networkId, runId), r -> ended.contains(r.getStatus()));
  }
}
