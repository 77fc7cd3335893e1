package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.sse.ServerSentEvent;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.annotation.Delete;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Path;
import com.linecorp.armeria.server.annotation.Post;
import io.grpc.stub.ClientResponseObserver;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.CancelJobResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResponse;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.ListJobsRequest;
import net.aitbc.grid.v1.ListJobsResponse;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import org.jspecify.annotations.Nullable;

/**
 * The CLI's job routes under {@code /v1/jobs}. Each is one gRPC call (or stream) to the
 * coordinator's JobService, made with the caller's API key; nothing here blocks or keeps state.
 */
final class JobRoutes {
  private final CoordinatorClient coordinator;

  JobRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /**
   * {@code POST /v1/jobs}: 201 with the JobView. The body is read as bytes whatever its Content-Type:
   * given an AggregatedHttpRequest, Armeria would parse a multipart/form-data body itself and answer
   * a malformed one with a 500.
   */
  @Post("/v1/jobs")
  public HttpResponse submit(HttpRequest request) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      CreateJobRequest create;
      try {
        create = JobRequests.create(body.content(), body.headers().get("idempotency-key"));
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.SUBMIT);
      }
      return Json.reply(Call.SUBMIT, o -> jobs(body.headers()).createJob(create, o), HttpStatus.CREATED,
          (CreateJobResponse r) -> JobJson.view(r.getJob()));
    }));
  }

  /**
   * {@code GET /v1/jobs} (the CLI's) and {@code GET /v1/jobs/history} (the roadmap's): a page of the
   * caller's jobs, newest first, with their results when {@code include_results=true}. The exact
   * path wins over {@code /v1/jobs/{job_id}} in Armeria's router, so history is never read as an id.
   */
  @Get
  @Path("/v1/jobs")
  @Path("/v1/jobs/history")
  public HttpResponse list(QueryParams query, RequestHeaders headers) {
    ListJobsRequest list = JobRequests.list(query);
    return Json.reply(Call.LIST, o -> jobs(headers).listJobs(list, o), HttpStatus.OK,
        (ListJobsResponse r) -> JobJson.page(r, list.getIncludeResults()));
  }

  /**
   * {@code GET /v1/jobs/{job_id}}: the JobView with what the job waits for and its metrics. Here and
   * below the id goes to the coordinator as written: a malformed one comes back as 404.
   */
  @Get("/v1/jobs/{job_id}")
  public HttpResponse status(@Param("job_id") String jobId, RequestHeaders headers) {
    GetJobRequest get = GetJobRequest.newBuilder().setJobId(jobId).build();
    return Json.reply(Call.READ, o -> jobs(headers).getJob(get, o), HttpStatus.OK,
        (GetJobResponse r) -> JobJson.detailedView(r.getJob()));
  }

  /** {@code GET /v1/jobs/{job_id}/result}: 425 until the job has ended, then its result or error. */
  @Get("/v1/jobs/{job_id}/result")
  public HttpResponse result(@Param("job_id") String jobId, RequestHeaders headers) {
    GetJobResultRequest get = GetJobResultRequest.newBuilder().setJobId(jobId).build();
    return Json.reply(Call.RESULT, o -> jobs(headers).getJobResult(get, o), HttpStatus.OK, JobJson::result);
  }

  /**
   * {@code POST /v1/jobs/{job_id}/cancel} (the CLI's) and {@code DELETE /v1/jobs/{job_id}} (the
   * roadmap's): the canceled job.
   */
  @Post("/v1/jobs/{job_id}/cancel")
  @Delete("/v1/jobs/{job_id}")
  public HttpResponse cancel(@Param("job_id") String jobId, RequestHeaders headers) {
    CancelJobRequest cancel = CancelJobRequest.newBuilder().setJobId(jobId).build();
    return Json.reply(Call.CANCEL, o -> jobs(headers).cancelJob(cancel, o), HttpStatus.OK,
        (CancelJobResponse r) -> JobJson.view(r.getJob()));
  }

  /** {@code GET /v1/jobs/{job_id}/events}: server-sent {@code job} and {@code progress} events until the job ends. */
  @Get("/v1/jobs/{job_id}/events")
  public HttpResponse events(ServiceRequestContext ctx, @Param("job_id") String jobId, RequestHeaders headers) {
    WatchJobRequest watch = WatchJobRequest.newBuilder().setJobId(jobId).build();
    JobServiceGrpc.JobServiceStub stub = coordinator.stream(ApiKey.of(headers));
    return EventStream.open(ctx, Call.WATCH, JobRoutes::event,
        (ClientResponseObserver<WatchJobRequest, WatchJobResponse> o) -> stub.watchJob(watch, o));
  }

  /** A {@code job} event (a JobDetail) or a {@code progress} event. */
  private static @Nullable ServerSentEvent event(WatchJobResponse message) {
    return switch (message.getEventCase()) {
      case JOB -> EventStream.event("job", Json.text(JobJson.detailedView(message.getJob())));
      case PROGRESS -> EventStream.event("progress", Json.text(JobJson.progress(message.getProgress())));
      case EVENT_NOT_SET -> null;
    };
  }

  private JobServiceGrpc.JobServiceStub jobs(RequestHeaders headers) {
    return coordinator.jobs(ApiKey.of(headers));
  }
}
