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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Revocations;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.JobStore;
import net.aitbc.grid.coordinator.store.PaymentStore;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredJob;
import net.aitbc.grid.coordinator.store.StoredReceipt;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.CancelJobResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResponse;
import net.aitbc.grid.v1.GetJobReceiptRequest;
import net.aitbc.grid.v1.GetJobReceiptResponse;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListJobsRequest;
import net.aitbc.grid.v1.ListJobsResponse;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import net.aitbc.grid.db.enums.PaymentStatus;
import org.jspecify.annotations.Nullable;

/**
 * The client API: create, read, list, cancel and watch jobs. Callers see only their own jobs, and
 * every call counts against its key's rate.
 */
public final class JobServiceImpl extends JobServiceGrpc.JobServiceImplBase {
  private static final int DEFAULT_PAGE = 20;
  private static final int MAX_PAGE = 1000;

  private final CoordinatorConfig config;
  private final JobStore jobs;
  private final Scheduler scheduler;
  private final SessionRegistry registry;
  private final JobEvents events;
  private final Revocations revocations;
  private final Executor blocking;
  private final ReceiptStore receipts;
  private final @Nullable Ledger ledger;
  private final PaymentStore payments;
  private final JobIds ids = new JobIds();

  /**
   * The service over these parts; {@code blocking} runs database reads for watchers; completed
   * jobs have receipts when there is a {@code ledger}; {@code payments} says where each job's payment stands.
   */
  public JobServiceImpl(CoordinatorConfig config, JobStore jobs, Scheduler scheduler, SessionRegistry registry,
      JobEvents events, Revocations revocations, Executor blocking, ReceiptStore receipts, @Nullable Ledger ledger,
      PaymentStore payments) {
    this.config = requireNonNull(config, "config");
    this.jobs = requireNonNull(jobs, "jobs");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.registry = requireNonNull(registry, "registry");
    this.events = requireNonNull(events, "events");
    this.revocations = requireNonNull(revocations, "revocations");
    this.blocking = requireNonNull(blocking, "blocking");
    this.receipts = requireNonNull(receipts, "receipts");
    this.ledger = ledger;
    this.payments = requireNonNull(payments, "payments");
  }

  @Override
  public void createJob(CreateJobRequest request, StreamObserver<CreateJobResponse> out) {
    Principal principal = AuthInterceptor.principal();
    try {
      var job = JobRequests.toNewJob(request, principal, ids.next(), config);
      scheduler.submit(principal, job).thenCompose(submitted -> {
        StoredJob stored = submitted.job();
        CreateJobResponse.Builder b = CreateJobResponse.newBuilder().setExisting(submitted.existing());
        if (stored.paymentId() == null || !submitted.existing()) {
          // A new job's payment, if any, was escrowed as it was stored: nothing to read.
          Job proto = JobProtos.job(stored);
          return CompletableFuture.completedFuture(b.setJob(stored.paymentId() == null ? proto : proto.toBuilder()
              .setPaymentStatus(net.aitbc.grid.v1.PaymentStatus.PAYMENT_STATUS_ESCROWED).build()).build());
        }
        // A retry of a paid job: where its payment stands now is read off the committer's thread.
        return CompletableFuture.supplyAsync(() -> b.setJob(proto(stored)).build(), blocking);
      }).whenComplete((response, error) -> {
        if (error != null) {
          out.onError(GrpcErrors.toStatus(error));
        } else {
          out.onNext(response);
          out.onCompleted();
        }
      });
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
    }
  }

  @Override
  public void getJob(GetJobRequest request, StreamObserver<GetJobResponse> out) {
    GrpcErrors.answer(out, () -> {
      UUID id = parseId(request.getJobId());
      String client = clientId();
      StoredJob job = read(request.getJobId(), () -> jobs.findWithAttempts(id, client));
      return GetJobResponse.newBuilder().setJob(withWaitingFor(job)).build();
    });
  }

  @Override
  public void getJobResult(GetJobResultRequest request, StreamObserver<GetJobResultResponse> out) {
    GrpcErrors.answer(out, () -> {
      UUID id = parseId(request.getJobId());
      String client = clientId();
      StoredJob job = read(request.getJobId(), () -> jobs.find(id, client));
      if (job.unfinished()) {
        throw Status.FAILED_PRECONDITION
            .withDescription("job " + JobIds.format(id) + " is " + job.state() + ": it has no result yet")
            .asRuntimeException();
      }
      GetJobResultResponse.Builder b = GetJobResultResponse.newBuilder().setJob(proto(job));
      if (job.resultJson() != null) {
        b.setResultJson(job.resultJson());
      }
      Ledger l = ledger;
      if (l != null && job.state() == net.aitbc.grid.db.enums.JobState.COMPLETED) {
        receipts.byJob(id, client).ifPresent(r -> b.setReceiptJson(l.signed(r)));
      }
      return b.build();
    });
  }

  @Override
  public void getJobReceipt(GetJobReceiptRequest request, StreamObserver<GetJobReceiptResponse> out) {
    GrpcErrors.answer(out, () -> {
      UUID id = parseId(request.getJobId());
      String client = clientId();
      Ledger l = ledger;
      StoredReceipt r = (l == null ? Optional.<StoredReceipt>empty() : receipts.byJob(id, client))
          .orElseThrow(() -> {
            read(request.getJobId(), () -> jobs.find(id, client));
            return notFound("receipt not available: job " + JobIds.format(id) + " has none"
                + (l == null ? " (this coordinator issues no receipts)" : " (it has not completed)"));
          });
      return GetJobReceiptResponse.newBuilder().setReceipt(LedgerProtos.receipt(r, l)).build();
    });
  }

  @Override
  public void listJobs(ListJobsRequest request, StreamObserver<ListJobsResponse> out) {
    GrpcErrors.answer(out, () -> {
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
      if (pageSize < 0 || pageSize > MAX_PAGE) {
        throw invalid("page_size must be between 1 and " + MAX_PAGE + ", not " + request.getPageSize()
            + " (unset: " + DEFAULT_PAGE + ")");
      }
      if (request.getSkip() < 0) {
        throw invalid("skip must not be negative, not " + request.getSkip());
      }
      long offset = (long) decodePageToken(request.getPageToken()) + request.getSkip();
      List<net.aitbc.grid.db.enums.JobState> states = new ArrayList<>();
      for (JobState s : request.getStatesList()) {
        if (s == JobState.JOB_STATE_UNSPECIFIED || s == JobState.UNRECOGNIZED) {
          throw invalid("states must name job states, not " + s);
        }
        states.add(net.aitbc.grid.db.enums.JobState.valueOf(JobProtos.stateName(s)));
      }
      String type = request.getType().isBlank() ? null : request.getType().trim().toLowerCase(Locale.ROOT);
      JobStore.ListFilter filter = new JobStore.ListFilter(states, type,
          time(request.hasCreateTimeFrom() ? request.getCreateTimeFrom() : null, "create_time_from"),
          time(request.hasCreateTimeTo() ? request.getCreateTimeTo() : null, "create_time_to"));
      List<StoredJob> page = jobs.list(clientId(), filter, offset, pageSize + 1, request.getIncludeResults());
      ListJobsResponse.Builder b = ListJobsResponse.newBuilder().setPageSize(pageSize).setOffset(offset);
      List<StoredJob> shown = page.subList(0, Math.min(pageSize, page.size()));
      Map<UUID, PaymentStatus> paid = paymentStatuses(shown);
      for (StoredJob j : shown) {
        Job job = withPaymentStatus(JobProtos.job(j), j, paid);
        b.addJobs(j.resultJson() == null ? job : job.toBuilder().setResultJson(j.resultJson()).build());
      }
      if (page.size() > pageSize && offset + pageSize <= Integer.MAX_VALUE) {
        b.setNextPageToken(encodePageToken((int) (offset + pageSize)));
      }
      return b.build();
    });
  }

  @Override
  public void cancelJob(CancelJobRequest request, StreamObserver<CancelJobResponse> out) {
    GrpcErrors.answer(out, () -> {
      UUID id = parseId(request.getJobId());
      String client = clientId();
      if (scheduler.cancel(id, client, "canceled by client").isEmpty()) {
        StoredJob job = jobs.find(id, client).orElseThrow(() -> jobNotFound(request.getJobId()));
        throw Status.FAILED_PRECONDITION
            .withDescription("job " + JobIds.format(id) + " is " + job.state() + " and cannot be canceled")
            .asRuntimeException();
      }
      return CancelJobResponse.newBuilder()
          .setJob(proto(jobs.find(id, client).orElseThrow(() -> jobNotFound(request.getJobId()))))
          .build();
    });
  }

  @Override
  public void watchJob(WatchJobRequest request, StreamObserver<WatchJobResponse> responseObserver) {
    var out = (ServerCallStreamObserver<WatchJobResponse>) responseObserver;
    Principal principal = AuthInterceptor.principal();
    UUID id;
    try {
      scheduler.admitCall(principal);
      id = parseId(request.getJobId());
      jobs.find(id, principal.clientId()).orElseThrow(() -> jobNotFound(request.getJobId()));
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    }
    String client = principal.clientId();
    JobWatch watch = new JobWatch(out,
        () -> withWaitingFor(read(request.getJobId(), () -> jobs.find(id, client))), blocking);
    watch.onEnd(events.subscribe(id, watch));
    watch.onEnd(revocations.watch(principal.keyId(), watch::keyRevoked));
    watch.changed();
  }

  /** Reads a job; one read after its TTL shows it EXPIRED at once, as the CLI's server does. */
  private StoredJob read(String text, Supplier<java.util.Optional<StoredJob>> find) {
    StoredJob job = find.get().orElseThrow(() -> jobNotFound(text));
    if (job.unfinished() && job.expiresAt().isBefore(OffsetDateTime.now(ZoneOffset.UTC))) {
      scheduler.expireIfDue(job.jobId());
      job = find.get().orElseThrow(() -> jobNotFound(text));
    }
    return job;
  }

  /** The job as a message, with its payment's status. */
  private Job proto(StoredJob job) {
    return withPaymentStatus(JobProtos.job(job), job, paymentStatuses(List.of(job)));
  }

  /** The statuses of these jobs' payments, in one read (none when no job is paid). */
  private Map<UUID, PaymentStatus> paymentStatuses(List<StoredJob> shown) {
    List<UUID> ids = shown.stream().map(StoredJob::paymentId).filter(Objects::nonNull).toList();
    return ids.isEmpty() ? Map.of() : payments.statuses(ids);
  }

  private static Job withPaymentStatus(Job proto, StoredJob job, Map<UUID, PaymentStatus> statuses) {
    PaymentStatus s = job.paymentId() == null ? null : statuses.get(job.paymentId());
    return s == null ? proto : proto.toBuilder().setPaymentStatus(PaymentProtos.status(s)).build();
  }

  private Job withWaitingFor(StoredJob job) {
    Job proto = proto(job);
    if (job.state() != net.aitbc.grid.db.enums.JobState.QUEUED) {
      return proto;
    }
    return proto.toBuilder().setWaitingFor(registry.waitingFor(job.type(), job.model(), job.requirements())).build();
  }

  /** The caller's client id, after taking a token from its key's call rate. */
  private String clientId() {
    Principal principal = AuthInterceptor.principal();
    scheduler.admitCall(principal);
    return principal.clientId();
  }

  private static UUID parseId(String text) {
    return JobIds.parse(text).orElseThrow(() -> invalid("job_id must be 32 hex characters, not '"
        + GrpcErrors.abbreviate(text) + "'"));
  }

  private static RuntimeException jobNotFound(String id) {
    // Another client's job reads the same: nothing here tells which.
    return notFound("job " + GrpcErrors.abbreviate(id) + " not found: it never existed, or it finished long enough"
        + " ago to be retired (its receipt and payment can still be read)");
  }

  /** A client's time, or a refusal naming {@code field} when no database could hold it. */
  static @Nullable OffsetDateTime time(@Nullable Timestamp t, String field) {
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

}
