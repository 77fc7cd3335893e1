package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.common.sse.ServerSentEvent;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Path;
import com.linecorp.armeria.server.annotation.Post;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.CancelExecutionRequest;
import net.aitbc.grid.v1.CancelExecutionResponse;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.CreateWorkflowResponse;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowResponse;
import net.aitbc.grid.v1.GetExecutionRequest;
import net.aitbc.grid.v1.GetExecutionResponse;
import net.aitbc.grid.v1.GetWorkflowRequest;
import net.aitbc.grid.v1.GetWorkflowResponse;
import net.aitbc.grid.v1.ListExecutionsRequest;
import net.aitbc.grid.v1.ListExecutionsResponse;
import net.aitbc.grid.v1.ListWorkflowsRequest;
import net.aitbc.grid.v1.ListWorkflowsResponse;
import net.aitbc.grid.v1.WatchExecutionRequest;
import net.aitbc.grid.v1.WatchExecutionResponse;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import org.jspecify.annotations.Nullable;

/**
 * Agent workflows over REST (contract §8), served under both {@link #PREFIXES}: the CLI's {@code
 * /api/v1/agents} and the roadmap's {@code /v1/agents}. Each route is one call to the coordinator's
 * WorkflowService with the caller's key; the coordinator shows a client only its own workflows (and
 * public ones) and its own executions, so another client's answers 404 here as an unknown one does.
 */
final class AgentRoutes {
  /** Where the routes are served; the paths below are relative to each. */
  static final List<String> PREFIXES = List.of("/api/v1/agents", "/v1/agents");
  /** A list's next page starts here; absent on the last page. */
  static final String NEXT_OFFSET = "x-next-offset";

  private final CoordinatorClient coordinator;

  AgentRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /**
   * {@code POST /workflows} ({@code agent create}): 201 with the workflow, whose {@code id} the CLI
   * reads; 200 with the same workflow when its {@code workflow_id} (the CLI's idempotency key) made
   * one before. 422 naming the step and field at fault.
   */
  @Post("/workflows")
  public HttpResponse create(HttpRequest request) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      CreateWorkflowRequest create;
      try {
        create = AgentRequests.create(body.content());
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.AGENT_CREATE);
      }
      return reply(Call.AGENT_CREATE, o -> workflows(body.headers()).createWorkflow(create, o),
          (CreateWorkflowResponse r) -> Json.response(r.getExisting() ? HttpStatus.OK : HttpStatus.CREATED,
              AgentJson.workflow(r.getWorkflow())));
    }));
  }

  /**
   * {@code GET /workflows} ({@code agent list}): a JSON list of the caller's workflows (and, on
   * request, public ones), newest first; {@code X-Next-Offset} says where the next page starts.
   */
  @Get("/workflows")
  public HttpResponse listWorkflows(QueryParams query, RequestHeaders headers) {
    ListWorkflowsRequest list = AgentRequests.workflows(query);
    return reply(Call.AGENT_LIST, o -> workflows(headers).listWorkflows(list, o), (ListWorkflowsResponse r) -> {
      ArrayNode items = Json.MAPPER.createArrayNode();
      r.getWorkflowsList().forEach(w -> items.add(AgentJson.workflow(w)));
      return page(items, r.hasNextOffset() ? r.getNextOffset() : null);
    });
  }

  /** {@code GET /workflows/{id}}: one workflow of the caller's, or a public one. */
  @Get("/workflows/{workflow_id}")
  public HttpResponse workflow(@Param("workflow_id") String workflowId, RequestHeaders headers) {
    GetWorkflowRequest get = GetWorkflowRequest.newBuilder().setWorkflowId(workflowId).build();
    return reply(Call.WORKFLOW, o -> workflows(headers).getWorkflow(get, o),
        (GetWorkflowResponse r) -> Json.response(HttpStatus.OK, AgentJson.workflow(r.getWorkflow())));
  }

  /**
   * {@code POST /workflows/{id}/execute} ({@code agent execute}): 202 with the execution, whose
   * {@code id} the CLI reads; 200 when the {@code Idempotency-Key} started it before.
   */
  @Post("/workflows/{workflow_id}/execute")
  public HttpResponse execute(@Param("workflow_id") String workflowId, HttpRequest request) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      ExecuteWorkflowRequest execute;
      try {
        execute = AgentRequests.execute(body.content(), workflowId, body.headers().get("idempotency-key"));
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.AGENT_EXECUTE);
      }
      return reply(Call.AGENT_EXECUTE, o -> workflows(body.headers()).executeWorkflow(execute, o),
          (ExecuteWorkflowResponse r) -> Json.response(r.getExisting() ? HttpStatus.OK : HttpStatus.ACCEPTED,
              AgentJson.execution(r.getExecution())));
    }));
  }

  /** {@code GET /executions}: a JSON list of the caller's executions, newest first, as {@link #listWorkflows}. */
  @Get("/executions")
  public HttpResponse listExecutions(QueryParams query, RequestHeaders headers) {
    ListExecutionsRequest list = AgentRequests.executions(query);
    return reply(Call.AGENT_LIST, o -> workflows(headers).listExecutions(list, o), (ListExecutionsResponse r) -> {
      ArrayNode items = Json.MAPPER.createArrayNode();
      r.getExecutionsList().forEach(e -> items.add(AgentJson.execution(e)));
      return page(items, r.hasNextOffset() ? r.getNextOffset() : null);
    });
  }

  /**
   * {@code GET /executions/{id}} ({@code agent status}; the upstream's {@code /status} too): the
   * execution with its lower-case {@code status}, {@code progress}, steps and {@code total_cost}.
   */
  @Get
  @Path("/executions/{execution_id}")
  @Path("/executions/{execution_id}/status")
  public HttpResponse execution(@Param("execution_id") String executionId, RequestHeaders headers) {
    GetExecutionRequest get = GetExecutionRequest.newBuilder().setExecutionId(executionId).build();
    return reply(Call.EXECUTION, o -> workflows(headers).getExecution(get, o),
        (GetExecutionResponse r) -> Json.response(HttpStatus.OK, AgentJson.execution(r.getExecution())));
  }

  /**
   * {@code POST /executions/{id}/cancel} with an optional {@code {"reason"}}: 200 with the execution,
   * cancelled with its unfinished step jobs; one that had ended is answered as it is.
   */
  @Post("/executions/{execution_id}/cancel")
  public HttpResponse cancel(@Param("execution_id") String executionId, HttpRequest request) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      String reason;
      try {
        reason = AgentRequests.cancelReason(body.content());
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.EXECUTION);
      }
      CancelExecutionRequest cancel = CancelExecutionRequest.newBuilder().setExecutionId(executionId)
          .setReason(reason).build();
      return reply(Call.EXECUTION, o -> workflows(body.headers()).cancelExecution(cancel, o),
          (CancelExecutionResponse r) -> Json.response(HttpStatus.OK, AgentJson.execution(r.getExecution())));
    }));
  }

  /**
   * {@code GET /executions/{id}/events} (or {@code /stream}): server-sent {@code execution} events
   * (first, then after every step transition) and {@code progress} events (a step job's streamed
   * output) until the execution ends.
   */
  @Get
  @Path("/executions/{execution_id}/events")
  @Path("/executions/{execution_id}/stream")
  public HttpResponse events(ServiceRequestContext ctx, @Param("execution_id") String executionId,
      RequestHeaders headers) {
    WatchExecutionRequest watch = WatchExecutionRequest.newBuilder().setExecutionId(executionId).build();
    WorkflowServiceGrpc.WorkflowServiceStub stub = coordinator.workflowStream(ApiKey.of(headers));
    return EventStream.open(ctx, Call.EXECUTION, (WatchExecutionResponse m) -> event(executionId, m),
        (ClientResponseObserver<WatchExecutionRequest, WatchExecutionResponse> o) -> stub.watchExecution(watch, o));
  }

  private static @Nullable ServerSentEvent event(String executionId, WatchExecutionResponse message) {
    return switch (message.getEventCase()) {
      case EXECUTION -> EventStream.event("execution", Json.text(AgentJson.execution(message.getExecution())));
      case PROGRESS -> EventStream.event("progress", Json.text(AgentJson.progress(executionId,
          message.getProgress())));
      case EVENT_NOT_SET -> null;
    };
  }

  /** One unary call, answered as {@code answer} says, or with the error it failed with. */
  private static <T> HttpResponse reply(Call call, Consumer<StreamObserver<T>> grpcCall,
      Function<T, HttpResponse> answer) {
    return HttpResponse.of(CoordinatorClient.unary(grpcCall).handle((r, e) ->
        e != null ? HttpErrors.fromFailure(e, call) : answer.apply(r)));
  }

  /** A list as the upstream answers one (a JSON array), with where the next page starts. */
  private static HttpResponse page(ArrayNode items, @Nullable Integer nextOffset) {
    ResponseHeadersBuilder headers = ResponseHeaders.builder(HttpStatus.OK).contentType(MediaType.JSON_UTF_8);
    if (nextOffset != null) {
      headers.set(NEXT_OFFSET, Integer.toString(nextOffset));
    }
    return HttpResponse.of(headers.build(), HttpData.wrap(Json.bytes(items)));
  }

  private WorkflowServiceGrpc.WorkflowServiceStub workflows(RequestHeaders headers) {
    return coordinator.workflows(ApiKey.of(headers));
  }
}
