package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executor;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.JobStore;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.store.StoredResult;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.CancelJobResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResponse;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListJobsRequest;
import net.aitbc.grid.v1.ListJobsResponse;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import org.jspecify.annotations.Nullable;

/** The client API: create, read, list, cancel and watch jobs. Callers see only their own jobs. */
public final class JobServiceImpl extends JobServiceGrpc.JobServiceImplBase {
  private static final int DEFAULT_PAGE = 20;
  private static final int MAX_PAGE = 1000;
  private static final Set<JobState> UNFINISHED = EnumSet.of(JobState.JOB_STATE_QUEUED, JobState.JOB_STATE_RUNNING);

  private final CoordinatorConfig config;
  private final JobStore jobs;
  private final Scheduler scheduler;
  private final SessionRegistry registry;
  private final JobEvents events;
  private final Executor blocking;
  private final JobIds ids = new JobIds();

  /** The service over these parts; {@code blocking} runs database reads for watchers. */
  public JobServiceImpl(CoordinatorConfig config, JobStore jobs, Scheduler scheduler, SessionRegistry registry,
      JobEvents events, Executor blocking) {
    this.config = requireNonNull(config, "config");
    this.jobs = requireNonNull(jobs, "jobs");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.registry = requireNonNull(registry, "registry");
    this.events = requireNonNull(events, "events");
    this.blocking = requireNonNull(blocking, "blocking");
  }

  @Override
  public void createJob(CreateJobRequest request, StreamObserver<CreateJobResponse> out) {
    Principal principal = AuthInterceptor.principal();
    try {
      var job = JobRequests.toNewJob(request, principal, ids.next(), config);
      scheduler.submit(principal, job).whenComplete((submitted, error) -> {
        if (error != null) {
          out.onError(GrpcErrors.toStatus(error));
        } else {
          out.onNext(CreateJobResponse.newBuilder()
              .setJob(submitted.job())
              .setExisting(submitted.existing())
              .build());
          out.onCompleted();
        }
      });
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
    }
  }

  @Override
  public void getJob(GetJobRequest request, StreamObserver<GetJobResponse> out) {
    answer(out, () -> {
      UUID id = parseId(request.getJobId());
      String client = AuthInterceptor.principal().clientId();
      return GetJobResponse.newBuilder().setJob(withWaitingFor(read(request.getJobId(), id, client, true))).build();
    });
  }

  @Override
  public void getJobResult(GetJobResultRequest request, StreamObserver<GetJobResultResponse> out) {
    answer(out, () -> {
      UUID id = parseId(request.getJobId());
      String client = AuthInterceptor.principal().clientId();
      StoredResult stored = jobs.findResult(id, client).orElseThrow(() -> jobNotFound(request.getJobId()));
      if (isDue(stored.job())) {
        scheduler.expireIfDue(id);
        stored = jobs.findResult(id, client).orElseThrow(() -> jobNotFound(request.getJobId()));
      }
      if (UNFINISHED.contains(stored.job().getState())) {
        throw Status.FAILED_PRECONDITION
            .withDescription("job " + stored.job().getJobId() + " is " + stateName(stored.job().getState())
                + ": it has no result yet")
            .asRuntimeException();
      }
      return GetJobResultResponse.newBuilder().setJob(stored.job()).setResultJson(stored.resultJson()).build();
    });
  }

  @Override
  public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> out) {
    answer(out, () -> {
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
      if (pageSize < 0 || pageSize > MAX_PAGE) {
        throw invalid("page_size must be between 1 and " + MAX_PAGE + " (0 for " + DEFAULT_PAGE + "), not "
            + request.getPageSize());
      }
      if (request.getSkip() < 0) {
        throw invalid("skip must not be negative");
      }
      long offset = (long) decodePageToken(request.getPageToken()) + request.getSkip();
      List<net.aitbc.grid.db.enums.JobState> states = new ArrayList<>();
      for (JobState s : request.getStatesList()) {
        if (s == JobState.JOB_STATE_UNSPECIFIED || s == JobState.UNRECOGNIZED) {
          throw invalid("states must name job states, not " + s);
        }
        states.add(net.aitbc.grid.db.enums.JobState.valueOf(stateName(s)));
      }
      String type = request.getType().isBlank() ? null : request.getType().trim().toLowerCase(java.util.Locale.ROOT);
      List<Job> page = jobs.list(AuthInterceptor.principal().clientId(), states, type,
          time(request.hasCreateTimeFrom() ? request.getCreateTimeFrom() : null, "create_time_from"),
          time(request.hasCreateTimeTo() ? request.getCreateTimeTo() : null, "create_time_to"), offset,
          pageSize + 1, request.getIncludeResults());
      ListJobsResponse.Builder b = ListJobsResponse.newBuilder()
          .addAllJobs(page.subList(0, Math.min(pageSize, page.size())))
          .setPageSize(pageSize)
          .setOffset(offset);
      if (page.size() > pageSize && offset + pageSize <= Integer.MAX_VALUE) {
        b.setNextPageToken(encodePageToken((int) (offset + pageSize)));
      }
      return b.build();
    });
  }

  @Override
  public void cancelJob(CancelJobRequest request, StreamObserver<CancelJobResponse> out) {
    answer(out, () -> {
      UUID id = parseId(request.getJobId());
      String client = AuthInterceptor.principal().clientId();
      if (scheduler.cancel(id, client).isEmpty()) {
        Job job = jobs.find(id, client).orElseThrow(() -> jobNotFound(request.getJobId()));
        throw Status.FAILED_PRECONDITION
            .withDescription("job " + job.getJobId() + " is " + stateName(job.getState()) + " and cannot be canceled")
            .asRuntimeException();
      }
      return CancelJobResponse.newBuilder()
          .setJob(jobs.find(id, client).orElseThrow(() -> jobNotFound(request.getJobId())))
          .build();
    });
  }

  @Override
  public void watchJob(WatchJobRequest request, StreamObserver<WatchJobResponse> responseObserver) {
    var out = (ServerCallStreamObserver<WatchJobResponse>) responseObserver;
    UUID id;
    String client = AuthInterceptor.principal().clientId();
    try {
      id = parseId(request.getJobId());
      jobs.find(id, client).orElseThrow(() -> jobNotFound(request.getJobId()));
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    }
    JobWatch watch = new JobWatch(out, () -> withWaitingFor(read(request.getJobId(), id, client, false)), blocking);
    AutoCloseable subscription = events.subscribe(id, watch);
    watch.onEnd(subscription);
    watch.changed();
  }

  private Job read(String text, UUID id, String client, boolean withAttempts) {
    java.util.function.Supplier<Job> find = () -> (withAttempts ? jobs.findWithAttempts(id, client)
        : jobs.find(id, client)).orElseThrow(() -> jobNotFound(text));
    Job job = find.get();
    if (isDue(job)) {
      scheduler.expireIfDue(id);
      job = find.get();
    }
    return job;
  }

  /** As the CLI's server does: a job read after its TTL shows as EXPIRED at once, not at the next sweep. */
  private static boolean isDue(Job job) {
    return UNFINISHED.contains(job.getState()) && job.getExpireTime().getSeconds() < Instant.now().getEpochSecond();
  }

  private Job withWaitingFor(Job job) {
    if (job.getState() != JobState.JOB_STATE_QUEUED) {
      return job;
    }
    String model = job.getModel().isEmpty() ? null : job.getModel();
    return job.toBuilder()
        .setWaitingFor(registry.waitingFor(job.getType(), model, Requirements.of(job.getConstraints())))
        .build();
  }

  private static UUID parseId(String text) {
    return JobIds.parse(text).orElseThrow(() -> invalid("job_id must be 32 hex characters, not '"
        + GrpcErrors.abbreviate(text) + "'"));
  }

  private static RuntimeException jobNotFound(String id) {
    return notFound("job " + GrpcErrors.abbreviate(id) + " not found");
  }

  static String stateName(JobState s) {
    return s.name().substring("JOB_STATE_".length());
  }

  private static @Nullable OffsetDateTime time(@Nullable Timestamp t, String field) {
    if (t == null) {
      return null;
    }
    // Years 1 to 9999: what both java.time and PostgreSQL can hold.
    if (t.getSeconds() < -62_135_596_800L || t.getSeconds() > 253_402_300_799L || t.getNanos() < 0
        || t.getNanos() > 999_999_999) {
      throw invalid(field + " must be a time between the years 1 and 9999");
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).atOffset(ZoneOffset.UTC);
  }

  private static String encodePageToken(int offset) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(("o:" + offset).getBytes(StandardCharsets.UTF_8));
  }

  private static int decodePageToken(String token) {
    if (token.isEmpty()) {
      return 0;
    }
    try {
      String text = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      if (text.startsWith("o:")) {
        int offset = Integer.parseInt(text.substring(2));
        if (offset >= 0) {
          return offset;
        }
      }
    } catch (IllegalArgumentException e) {
      // Falls through to the error below.
    }
    throw invalid("page_token is not one this service issued");
  }

  private static <T> void answer(StreamObserver<T> out, java.util.function.Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }
}
