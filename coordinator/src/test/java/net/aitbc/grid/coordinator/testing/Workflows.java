package net.aitbc.grid.coordinator.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.EnumSet;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.GetExecutionRequest;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;

/** WorkflowService helpers for tests: definitions written with single quotes, executions awaited. */
public final class Workflows {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Workflows() {}

  /** A blocking WorkflowService client of {@code grid} with this key. */
  public static WorkflowServiceBlockingStub client(GridFixture grid, String key) {
    return GrpcClients.withKey(WorkflowServiceGrpc.newBlockingStub(grid.channel()), key);
  }

  /** JSON written with single quotes (for readable definitions in Java strings). */
  public static String json(String singleQuoted) {
    return singleQuoted.replace('\'', '"');
  }

  /** Parses JSON. */
  public static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }

  /** Creates a workflow from a single-quoted definition and returns its id. */
  public static String create(WorkflowServiceBlockingStub client, String name, String definition) {
    return client.createWorkflow(CreateWorkflowRequest.newBuilder().setName(name)
        .setDefinitionJson(json(definition)).build()).getWorkflow().getWorkflowId();
  }

  /** Starts an execution on single-quoted inputs and returns its id. */
  public static String execute(WorkflowServiceBlockingStub client, String workflowId, String inputs) {
    return client.executeWorkflow(ExecuteWorkflowRequest.newBuilder().setWorkflowId(workflowId)
        .setInputsJson(json(inputs)).build()).getExecution().getExecutionId();
  }

  /** The execution now. */
  public static Execution get(WorkflowServiceBlockingStub client, String executionId) {
    return client.getExecution(GetExecutionRequest.newBuilder().setExecutionId(executionId).build()).getExecution();
  }

  /** The execution once it has ended (within 30 s). */
  public static Execution ended(WorkflowServiceBlockingStub client, String executionId) {
    var ended = EnumSet.of(ExecutionStatus.EXECUTION_STATUS_COMPLETED, ExecutionStatus.EXECUTION_STATUS_FAILED,
        ExecutionStatus.EXECUTION_STATUS_CANCELLED);
    return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> get(client, executionId), e -> ended.contains(e.getStatus()));
  }
}
