package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.util.TimeoutMode;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.annotation.Delete;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Post;
import com.linecorp.armeria.server.annotation.Put;
import com.google.protobuf.util.Durations;
import java.time.Duration;
import java.util.function.Function;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.CompleteMinerJobRequest;
import net.aitbc.grid.v1.CompleteMinerJobResponse;
import net.aitbc.grid.v1.DeregisterMinerRequest;
import net.aitbc.grid.v1.DeregisterMinerResponse;
import net.aitbc.grid.v1.FailMinerJobRequest;
import net.aitbc.grid.v1.FailMinerJobResponse;
import net.aitbc.grid.v1.HeartbeatMinerRequest;
import net.aitbc.grid.v1.HeartbeatMinerResponse;
import net.aitbc.grid.v1.ListMinerJobsRequest;
import net.aitbc.grid.v1.ListMinerJobsResponse;
import net.aitbc.grid.v1.MinerServiceGrpc;
import net.aitbc.grid.v1.PollMinerJobRequest;
import net.aitbc.grid.v1.RegisterMinerRequest;
import net.aitbc.grid.v1.RegisterMinerResponse;
import net.aitbc.grid.v1.UpdateMinerCapabilitiesRequest;
import net.aitbc.grid.v1.UpdateMinerCapabilitiesResponse;

/**
 * The CLI's {@code miner} routes (contract §7; earnings are {@link PaymentRoutes}'). Each is one call
 * to the coordinator's MinerService with the caller's worker key and the miner's id from {@code
 * X-Miner-ID} (register, heartbeat, poll, result, fail) or the path (the others, where the CLI puts
 * it); nothing is kept here. A poll waits in the coordinator, holding no thread here either.
 */
final class MinerRoutes {
  private final CoordinatorClient coordinator;

  MinerRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /** {@code POST /v1/miners/register} with {@code {"capabilities": {...}, "concurrency"?, "region"?}}. */
  @Post("/v1/miners/register")
  public HttpResponse register(HttpRequest request) {
    return aggregated(request, body -> {
      String id = MinerRequests.minerId(body.headers());
      MinerRequests.Registration r = MinerRequests.registration(body.content());
      RegisterMinerRequest register = RegisterMinerRequest.newBuilder().setMinerId(id)
          .setCapabilities(r.capabilities()).setCapabilitiesJson(r.describedJson()).build();
      return Json.reply(Call.MINER, o -> miners(body.headers()).registerMiner(register, o), HttpStatus.OK,
          (RegisterMinerResponse resp) -> MinerJson.registered(id, resp));
    });
  }

  /** {@code POST /v1/miners/heartbeat} with {@code {"inflight","status","metadata"}}: renews the lease. */
  @Post("/v1/miners/heartbeat")
  public HttpResponse heartbeat(HttpRequest request) {
    return aggregated(request, body -> {
      String id = MinerRequests.minerId(body.headers());
      HeartbeatMinerRequest beat = MinerRequests.heartbeat(id, body.content());
      return Json.reply(Call.MINER, o -> miners(body.headers()).heartbeatMiner(beat, o), HttpStatus.OK,
          (HeartbeatMinerResponse resp) -> MinerJson.heartbeat(id, resp.getHeld()));
    });
  }

  /**
   * {@code POST /v1/miners/poll} with {@code {"max_wait_seconds": 5}}: 200 with the job as soon as
   * one is assigned, 204 when none came within the wait (which the coordinator caps below its lease).
   */
  @Post("/v1/miners/poll")
  public HttpResponse poll(ServiceRequestContext ctx, HttpRequest request) {
    return aggregated(request, body -> {
      String id = MinerRequests.minerId(body.headers());
      PollMinerJobRequest poll = MinerRequests.poll(id, body.content());
      Duration wait = Duration.ofNanos(Durations.toNanos(poll.getMaxWait()));
      // The wait comes on top of the usual time to answer, here and in the coordinator.
      ctx.setRequestTimeout(TimeoutMode.SET_FROM_NOW, coordinator.deadline().multipliedBy(2).plus(wait));
      MinerServiceGrpc.MinerServiceStub stub = coordinator.miners(ApiKey.of(body.headers()), wait);
      return HttpResponse.of(CoordinatorClient.<net.aitbc.grid.v1.PollMinerJobResponse>unary(
          o -> stub.pollMinerJob(poll, o)).handle((r, e) -> {
            if (e != null) {
              return HttpErrors.fromFailure(e, Call.MINER);
            }
            return r.hasJob() ? Json.response(HttpStatus.OK, MinerJson.assigned(r.getJob()))
                : HttpResponse.of(HttpStatus.NO_CONTENT);
          }));
    });
  }

  /**
   * {@code POST /v1/miners/{job_id}/result} with {@code {"result": {...}, "metrics": {...}}}: 200
   * {@code {"status":"ok","receipt"}}; 409 with the reason unless this miner holds the job's current
   * attempt (another miner's job, an attempt taken back, a canceled or expired job).
   */
  @Post("/v1/miners/{job_id}/result")
  public HttpResponse result(@Param("job_id") String jobId, HttpRequest request) {
    return aggregated(request, body -> {
      CompleteMinerJobRequest complete = MinerRequests.complete(MinerRequests.minerId(body.headers()), jobId,
          body.content());
      return Json.reply(Call.MINER, o -> miners(body.headers()).completeMinerJob(complete, o), HttpStatus.OK,
          (CompleteMinerJobResponse resp) -> MinerJson.completed(resp));
    });
  }

  /**
   * {@code POST /v1/miners/{job_id}/fail} with {@code {"error_code","error_message","metrics",
   * "retryable"?}}: the job fails, or with {@code "retryable": true} goes back to the queue while it
   * has attempts left; fenced as the result is.
   */
  @Post("/v1/miners/{job_id}/fail")
  public HttpResponse fail(@Param("job_id") String jobId, HttpRequest request) {
    return aggregated(request, body -> {
      FailMinerJobRequest fail = MinerRequests.fail(MinerRequests.minerId(body.headers()), jobId, body.content());
      return Json.reply(Call.MINER, o -> miners(body.headers()).failMinerJob(fail, o), HttpStatus.OK,
          (FailMinerJobResponse resp) -> MinerJson.failed(resp));
    });
  }

  /**
   * {@code POST /v1/miners/{miner_id}/jobs?limit=&type=&status=&min_reward=&offset=} (GET as well):
   * the jobs handed to this miner of the caller's, most recent first.
   */
  @Post("/v1/miners/{miner_id}/jobs")
  @Get("/v1/miners/{miner_id}/jobs")
  public HttpResponse jobs(@Param("miner_id") String minerId, QueryParams query, RequestHeaders headers) {
    String id;
    ListMinerJobsRequest list;
    try {
      id = MinerRequests.minerId(minerId, headers, query);
      list = MinerRequests.jobs(id, query);
    } catch (ApiError e) {
      return HttpErrors.fromFailure(e, Call.MINER);
    }
    return Json.reply(Call.MINER, o -> miners(headers).listMinerJobs(list, o), HttpStatus.OK,
        (ListMinerJobsResponse resp) -> MinerJson.jobs(id, list, resp));
  }

  /** {@code PUT /v1/miners/{miner_id}/capabilities} with {@code {"capabilities": {...}}}. */
  @Put("/v1/miners/{miner_id}/capabilities")
  public HttpResponse capabilities(@Param("miner_id") String minerId, HttpRequest request) {
    return aggregated(request, body -> {
      String id = MinerRequests.minerId(minerId, body.headers(), null);
      MinerRequests.Registration r = MinerRequests.registration(body.content());
      UpdateMinerCapabilitiesRequest update = UpdateMinerCapabilitiesRequest.newBuilder().setMinerId(id)
          .setCapabilities(r.capabilities()).setCapabilitiesJson(r.describedJson()).build();
      return Json.reply(Call.MINER, o -> miners(body.headers()).updateMinerCapabilities(update, o), HttpStatus.OK,
          (UpdateMinerCapabilitiesResponse resp) -> MinerJson.updated(id, resp));
    });
  }

  /** {@code DELETE /v1/miners/{miner_id}}: ends its sessions (their jobs go back to the queue). */
  @Delete("/v1/miners/{miner_id}")
  public HttpResponse deregister(@Param("miner_id") String minerId, QueryParams query, RequestHeaders headers) {
    String id;
    try {
      id = MinerRequests.minerId(minerId, headers, query);
    } catch (ApiError e) {
      return HttpErrors.fromFailure(e, Call.MINER);
    }
    DeregisterMinerRequest deregister = DeregisterMinerRequest.newBuilder().setMinerId(id).build();
    return Json.reply(Call.MINER, o -> miners(headers).deregisterMiner(deregister, o), HttpStatus.OK,
        (DeregisterMinerResponse resp) -> MinerJson.deregistered(id, resp.getJobsReturned()));
  }

  /** The body, then {@code route}; the bridge's own refusals of it answered as JSON. */
  private static HttpResponse aggregated(HttpRequest request,
      Function<com.linecorp.armeria.common.AggregatedHttpRequest, HttpResponse> route) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      try {
        return route.apply(body);
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.MINER);
      }
    }));
  }

  private MinerServiceGrpc.MinerServiceStub miners(RequestHeaders headers) {
    return coordinator.miners(ApiKey.of(headers), Duration.ZERO);
  }
}
