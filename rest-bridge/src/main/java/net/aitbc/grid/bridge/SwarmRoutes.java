package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.AggregatedHttpRequest;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Path;
import com.linecorp.armeria.server.annotation.Post;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.CancelTaskRequest;
import net.aitbc.grid.v1.CancelTaskResponse;
import net.aitbc.grid.v1.ComputeConsensusResponse;
import net.aitbc.grid.v1.CoordinateResponse;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.GetTaskReceiptRequest;
import net.aitbc.grid.v1.GetTaskReceiptResponse;
import net.aitbc.grid.v1.GetTaskRequest;
import net.aitbc.grid.v1.GetTaskResponse;
import net.aitbc.grid.v1.JoinResponse;
import net.aitbc.grid.v1.LeaveRequest;
import net.aitbc.grid.v1.LeaveResponse;
import net.aitbc.grid.v1.ListSwarmsRequest;
import net.aitbc.grid.v1.ListSwarmsResponse;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.SwarmTask;

/**
 * Swarms over REST (contract §9, the CLI's {@code swarm} commands), served under both {@link
 * #PREFIXES}: the CLI's {@code /swarm} and the roadmap's {@code /v1/swarm}. Each route is one call to
 * the coordinator's SwarmService with the caller's key (the task status with {@code include_results}
 * adds a JobService call per completed member). Any key joins, leaves and lists swarms; tasks are a
 * client's own, and another client's answers 404 as an unknown one does. The CLI accepts exactly 201
 * from join and exactly 202 from coordinate, so those are answered whether or not the call made
 * something new ({@code existing} in the body says which).
 */
final class SwarmRoutes {
  /** Where the routes are served; the paths below are relative to each. */
  static final List<String> PREFIXES = List.of("/swarm", "/v1/swarm");

  private final CoordinatorClient coordinator;

  SwarmRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /**
   * {@code POST /join} ({@code swarm join}) with {@code {"role","capability","priority","region"?}}:
   * 201 with {@code swarm_id}; 422 naming the field at fault.
   */
  @Post("/join")
  public HttpResponse join(HttpRequest request) {
    return withBody(request, Call.SWARM, body -> {
      var join = SwarmRequests.join(body.content());
      return Json.reply(Call.SWARM, o -> swarms(body.headers()).join(join, o), HttpStatus.CREATED,
          (JoinResponse r) -> SwarmJson.joined(r));
    });
  }

  /**
   * {@code POST /coordinate} ({@code swarm coordinate}) with {@code {"task","collaborators","strategy",
   * "timeout_seconds"}}: 202 with {@code task_id}. 409 at once, saying how many workers can run it,
   * when fewer connected workers can than the task needs; 422 naming the field at fault.
   */
  @Post("/coordinate")
  public HttpResponse coordinate(HttpRequest request) {
    return withBody(request, Call.SWARM, body -> {
      var coordinate = SwarmRequests.coordinate(body.content(), body.headers().get("idempotency-key"));
      return Json.reply(Call.SWARM, o -> swarms(body.headers()).coordinate(coordinate, o), HttpStatus.ACCEPTED,
          (CoordinateResponse r) -> SwarmJson.coordinated(r));
    });
  }

  /** {@code GET /list?limit=&offset=&swarm_id=&status=&capability=} ({@code swarm list}): swarms by name, with members. */
  @Get("/list")
  public HttpResponse list(QueryParams query, RequestHeaders headers) {
    ListSwarmsRequest list = SwarmRequests.list(query);
    return Json.reply(Call.SWARM, o -> swarms(headers).listSwarms(list, o), HttpStatus.OK,
        (ListSwarmsResponse r) -> SwarmJson.list(r));
  }

  /** {@code POST /{swarm_id}/leave} ({@code swarm leave}), by the swarm's id or name: 200; 404 when not a member. */
  @Post("/{swarm_id}/leave")
  public HttpResponse leave(@Param("swarm_id") String swarmId, RequestHeaders headers) {
    LeaveRequest leave = LeaveRequest.newBuilder().setSwarmId(swarmId).build();
    return Json.reply(Call.SWARM, o -> swarms(headers).leave(leave, o), HttpStatus.OK,
        (LeaveResponse r) -> SwarmJson.left(r));
  }

  /**
   * {@code GET /tasks/{task_id}/status} ({@code swarm status}; also {@code /tasks/{task_id}}): the task
   * now, with every member's result hash and vote; {@code include_results=true} adds each completed
   * member's result.
   */
  @Get
  @Path("/tasks/{task_id}/status")
  @Path("/tasks/{task_id}")
  public HttpResponse status(@Param("task_id") String taskId, QueryParams query, RequestHeaders headers) {
    boolean withResults = JobRequests.flag(query, "include_results");
    GetTaskRequest get = GetTaskRequest.newBuilder().setTaskId(taskId).build();
    String key = ApiKey.of(headers);
    CompletableFuture<TaskAndResults> answer = CoordinatorClient.<GetTaskResponse>unary(
            o -> coordinator.swarms(key).getTask(get, o))
        .thenCompose(r -> withResults ? results(key, r.getTask())
            : CompletableFuture.completedFuture(new TaskAndResults(r.getTask(), Map.of())));
    return Json.reply(Call.SWARM_TASK, answer, HttpStatus.OK, a -> SwarmJson.task(a.task(), a.results()));
  }

  /**
   * {@code POST /tasks/{task_id}/consensus} ({@code swarm consensus}) with {@code {"consensus_threshold"}}:
   * the recorded results compared again at that threshold: {@code consensus_reached}, the groups and
   * the chosen result. Nothing is recorded. 409 for a task of another strategy.
   */
  @Post("/tasks/{task_id}/consensus")
  public HttpResponse consensus(@Param("task_id") String taskId, HttpRequest request) {
    return withBody(request, Call.SWARM_TASK, body -> {
      var compute = SwarmRequests.consensus(taskId, body.content());
      return Json.reply(Call.SWARM_TASK, o -> swarms(body.headers()).computeConsensus(compute, o), HttpStatus.OK,
          (ComputeConsensusResponse r) -> SwarmJson.consensus(r));
    });
  }

  /**
   * {@code POST /tasks/{task_id}/cancel} with an optional {@code {"reason"}}: 200 with the task,
   * cancelled with its unfinished member jobs; one that had ended is answered as it is.
   */
  @Post("/tasks/{task_id}/cancel")
  public HttpResponse cancel(@Param("task_id") String taskId, HttpRequest request) {
    return withBody(request, Call.SWARM_TASK, body -> {
      CancelTaskRequest cancel = CancelTaskRequest.newBuilder().setTaskId(taskId)
          .setReason(AgentRequests.cancelReason(body.content())).build();
      return Json.reply(Call.SWARM_TASK, o -> swarms(body.headers()).cancelTask(cancel, o), HttpStatus.OK,
          (CancelTaskResponse r) -> SwarmJson.task(r.getTask(), Map.of()).put("changed", r.getChanged()));
    });
  }

  /**
   * {@code GET /tasks/{task_id}/receipt}: the ended task's signed receipt (naming each member job's
   * receipt and the decision), as {@code /v1/jobs/{id}/receipt} answers a job's; 404 saying why while
   * it runs or when the coordinator issues none.
   */
  @Get("/tasks/{task_id}/receipt")
  public HttpResponse receipt(@Param("task_id") String taskId, RequestHeaders headers) {
    GetTaskReceiptRequest get = GetTaskReceiptRequest.newBuilder().setTaskId(taskId).build();
    return Json.reply(Call.SWARM_TASK, o -> swarms(headers).getTaskReceipt(get, o), HttpStatus.OK,
        (GetTaskReceiptResponse r) -> LedgerJson.signed(r.getReceipt()));
  }

  /** A task and its completed members' results by job id. */
  private record TaskAndResults(SwarmTask task, Map<String, String> results) {}

  /** Reads every completed member's result (the member jobs are the caller's own). */
  private CompletableFuture<TaskAndResults> results(String key, SwarmTask task) {
    List<String> jobs = SwarmJson.completedJobs(task);
    Map<String, String> results = new HashMap<>();
    CompletableFuture<?>[] reads = new CompletableFuture<?>[jobs.size()];
    for (int i = 0; i < jobs.size(); i++) {
      GetJobResultRequest get = GetJobResultRequest.newBuilder().setJobId(jobs.get(i)).build();
      reads[i] = CoordinatorClient.<GetJobResultResponse>unary(o -> coordinator.jobs(key).getJobResult(get, o))
          .thenAccept(r -> {
            synchronized (results) {
              results.put(r.getJob().getJobId(), r.getResultJson());
            }
          });
    }
    return CompletableFuture.allOf(reads).thenApply(v -> {
      synchronized (results) {
        return new TaskAndResults(task, Map.copyOf(results));
      }
    });
  }

  private static HttpResponse withBody(HttpRequest request, Call call,
      Function<AggregatedHttpRequest, HttpResponse> answer) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      try {
        return answer.apply(body);
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, call);
      }
    }));
  }

  private SwarmServiceGrpc.SwarmServiceStub swarms(RequestHeaders headers) {
    return coordinator.swarms(ApiKey.of(headers));
  }
}
