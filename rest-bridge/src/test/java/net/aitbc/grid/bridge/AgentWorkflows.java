package net.aitbc.grid.bridge;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.function.Function;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetExecutionRequest;
import net.aitbc.grid.v1.VerificationLevel;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;

/** Workflows created and executed over the coordinator's gRPC, for tests of the agent routes that read them. */
final class AgentWorkflows {
  private AgentWorkflows() {}

  /** Creates a workflow from a single-quoted definition, starts it and returns the execution's id. */
  static String execute(Grid grid, String key, String definition, VerificationLevel level) {
    return call(grid, key, stub -> stub.executeWorkflow(ExecuteWorkflowRequest.newBuilder()
        .setWorkflowId(stub.createWorkflow(CreateWorkflowRequest.newBuilder().setName("agent")
            .setDefinitionJson(definition.replace('\'', '"')).setVerificationLevel(level).build())
            .getWorkflow().getWorkflowId())
        .build()).getExecution().getExecutionId());
  }

  /** The execution once it has ended (within 20 s). */
  static Execution ended(Grid grid, String key, String executionId) {
    return await().atMost(Duration.ofSeconds(20)).until(() -> call(grid, key, stub -> stub.getExecution(
        GetExecutionRequest.newBuilder().setExecutionId(executionId).build()).getExecution()),
        e -> e.getStatus() == ExecutionStatus.EXECUTION_STATUS_COMPLETED
            || e.getStatus() == ExecutionStatus.EXECUTION_STATUS_FAILED
            || e.getStatus() == ExecutionStatus.EXECUTION_STATUS_CANCELLED);
  }

  private static <T> T call(Grid grid, String key, Function<WorkflowServiceBlockingStub, T> call) {
    ManagedChannel channel = GrpcClients.channel(grid.coordinator.grpcPort());
    try {
      return call.apply(GrpcClients.withKey(WorkflowServiceGrpc.newBlockingStub(channel), key));
    } finally {
      channel.shutdownNow();
    }
  }
}
