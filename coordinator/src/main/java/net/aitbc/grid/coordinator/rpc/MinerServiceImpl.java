package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;

import com.google.protobuf.util.Durations;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.miner.MinerRefused;
import net.aitbc.grid.coordinator.miner.Miners;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.Countersigned;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.v1.CompleteMinerJobRequest;
import net.aitbc.grid.v1.CompleteMinerJobResponse;
import net.aitbc.grid.v1.DeregisterMinerRequest;
import net.aitbc.grid.v1.DeregisterMinerResponse;
import net.aitbc.grid.v1.FailMinerJobRequest;
import net.aitbc.grid.v1.FailMinerJobResponse;
import net.aitbc.grid.v1.HeartbeatMinerRequest;
import net.aitbc.grid.v1.HeartbeatMinerResponse;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListMinerJobsRequest;
import net.aitbc.grid.v1.ListMinerJobsResponse;
import net.aitbc.grid.v1.MinerServiceGrpc;
import net.aitbc.grid.v1.PollMinerJobRequest;
import net.aitbc.grid.v1.PollMinerJobResponse;
import net.aitbc.grid.v1.RegisterMinerRequest;
import net.aitbc.grid.v1.RegisterMinerResponse;
import net.aitbc.grid.v1.UpdateMinerCapabilitiesRequest;
import net.aitbc.grid.v1.UpdateMinerCapabilitiesResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MinerService: REST miners' calls, each checked here (the bridge only translates) and done by
 * {@link Miners}. Every call takes a token from its key's call rate, as other services' reads do. A
 * poll holds no thread while it waits; outcomes are answered once committed.
 */
public final class MinerServiceImpl extends MinerServiceGrpc.MinerServiceImplBase {
  private static final Logger logger = LoggerFactory.getLogger(MinerServiceImpl.class);
  private static final int DEFAULT_PAGE = 10;
  private static final int MAX_PAGE = 100;

  private final CoordinatorConfig config;
  private final Miners miners;
  private final Scheduler scheduler;
  private final ReceiptStore receipts;
  private final @Nullable Ledger ledger;
  private final Executor executor;

  /** The service over these miners; receipts are read with {@code executor}, never a committer's thread. */
  public MinerServiceImpl(CoordinatorConfig config, Miners miners, Scheduler scheduler, ReceiptStore receipts,
      @Nullable Ledger ledger, Executor executor) {
    this.config = requireNonNull(config, "config");
    this.miners = requireNonNull(miners, "miners");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.receipts = requireNonNull(receipts, "receipts");
    this.ledger = ledger;
    this.executor = requireNonNull(executor, "executor");
  }

  /** A registered miner's spec, rebuilt from what was stored when it registered. */
  public static net.aitbc.grid.coordinator.miner.MinerSpec revive(String capabilitiesJson, String describedJson) {
    return MinerProtos.revive(capabilitiesJson, describedJson);
  }

  @Override
  public void registerMiner(RegisterMinerRequest request, StreamObserver<RegisterMinerResponse> out) {
    answer(out, () -> {
      Principal owner = caller();
      String id = MinerProtos.minerId(request.getMinerId());
      Miners.Registration r = miners.register(owner, id,
          MinerProtos.spec(id, request.getCapabilities(), request.getCapabilitiesJson()));
      return RegisterMinerResponse.newBuilder()
          .setSessionToken(JobIds.format(r.sessionId()))
          .setHeartbeatInterval(duration(config.heartbeatInterval()))
          .setLeaseDuration(duration(config.leaseDuration()))
          .setMaxPollWait(duration(miners.maxPollWait()))
          .setConcurrency(Math.max(1, request.getCapabilities().getConcurrency()))
          .setChanged(r.changed())
          .build();
    });
  }

  @Override
  public void heartbeatMiner(HeartbeatMinerRequest request, StreamObserver<HeartbeatMinerResponse> out) {
    answer(out, () -> {
      Principal owner = caller();
      String id = MinerProtos.minerId(request.getMinerId());
      try {
        JsonChecks.checkText(request.getStatus(), "status", 64);
      } catch (JsonChecks.Invalid e) {
        throw invalid(e.getMessage());
      }
      return HeartbeatMinerResponse.newBuilder().setHeld(miners.heartbeat(owner, id)).build();
    });
  }

  @Override
  public void updateMinerCapabilities(UpdateMinerCapabilitiesRequest request,
      StreamObserver<UpdateMinerCapabilitiesResponse> out) {
    answer(out, () -> {
      Principal owner = caller();
      String id = MinerProtos.minerId(request.getMinerId());
      var spec = MinerProtos.spec(id, request.getCapabilities(), request.getCapabilitiesJson());
      Miners.Registration r = miners.update(owner, id, spec);
      return UpdateMinerCapabilitiesResponse.newBuilder()
          .setSessionToken(JobIds.format(r.sessionId()))
          .setCapabilitiesJson(spec.describedJson())
          .build();
    });
  }

  @Override
  public void pollMinerJob(PollMinerJobRequest request, StreamObserver<PollMinerJobResponse> out) {
    var call = (ServerCallStreamObserver<PollMinerJobResponse>) out;
    Principal owner;
    String id;
    Miners.Poll poll;
    try {
      owner = caller();
      id = MinerProtos.minerId(request.getMinerId());
      Duration wait = Duration.ZERO;
      if (request.hasMaxWait()) {
        if (!Durations.isValid(request.getMaxWait()) || Durations.isNegative(request.getMaxWait())) {
          throw invalid("max_wait must be a duration of 0 or more, not " + Durations.toString(request.getMaxWait()));
        }
        wait = Duration.ofSeconds(request.getMaxWait().getSeconds(), request.getMaxWait().getNanos());
      }
      poll = miners.poll(owner, id, wait);
    } catch (RuntimeException e) {
      out.onError(status(e));
      return;
    }
    // A caller that goes away stops the wait; a job that found no one to take it goes to the next poll.
    call.setOnCancelHandler(poll.cancel());
    poll.answer().whenComplete((job, error) -> {
      if (error != null) {
        respond(out, null, error);
        return;
      }
      if (call.isCancelled()) {
        job.ifPresent(j -> miners.putBack(owner, id, j));
        return;
      }
      PollMinerJobResponse.Builder b = PollMinerJobResponse.newBuilder();
      job.ifPresent(j -> b.setJob(MinerProtos.job(j)));
      respond(out, b.build(), null);
    });
  }

  @Override
  public void completeMinerJob(CompleteMinerJobRequest request, StreamObserver<CompleteMinerJobResponse> out) {
    report(out, () -> {
      Principal owner = caller();
      String id = MinerProtos.minerId(request.getMinerId());
      UUID jobId = jobId(request.getJobId());
      String result = request.getResultJson();
      String metrics = request.getMetricsJson().isBlank() ? "{}" : request.getMetricsJson();
      try {
        JsonChecks.object(result, "result", WorkerMessages.MAX_RESULT_CHARS);
        JsonChecks.object(metrics, "metrics", WorkerMessages.MAX_METRICS_CHARS);
      } catch (JsonChecks.Invalid e) {
        throw invalid(e.getMessage());
      }
      return miners.report(owner, id, jobId, attempt(request.getAttempt()), true,
          (session, attempt) -> completion(session, jobId, attempt, result, metrics));
    }, (reported, receipt) -> {
      CompleteMinerJobResponse.Builder b = CompleteMinerJobResponse.newBuilder()
          .setJobId(request.getJobId()).setAttempt(reported.attempt());
      if (receipt != null) {
        b.setReceiptJson(receipt);
      }
      return b.build();
    }, true, request.getJobId());
  }

  private Outcome completion(WorkerSession session, UUID jobId, int attempt, String result, String metrics) {
    if (!config.issuesReceipts()) {
      return new Outcome.Completed(jobId, attempt, session.id(), result, metrics);
    }
    String canonical;
    try {
      canonical = CanonicalJson.canonicalize(result);
    } catch (IllegalArgumentException e) {
      throw invalid("result cannot be signed into a receipt: " + e.getMessage());
    }
    return new Outcome.Completed(jobId, attempt, session.id(), result, metrics, Countersigned.unattested(canonical,
        MinerProtos.unitPrice(session.offer().price(), config.ledger().defaultUnitPrice())));
  }

  @Override
  public void failMinerJob(FailMinerJobRequest request, StreamObserver<FailMinerJobResponse> out) {
    report(out, () -> {
      Principal owner = caller();
      String id = MinerProtos.minerId(request.getMinerId());
      UUID jobId = jobId(request.getJobId());
      if (!request.getMetricsJson().isBlank()) {
        try {
          JsonChecks.object(request.getMetricsJson(), "metrics", WorkerMessages.MAX_METRICS_CHARS);
        } catch (JsonChecks.Invalid e) {
          throw invalid(e.getMessage());
        }
      }
      String code = request.getErrorCode().strip();
      String message = request.getErrorMessage().strip();
      String error = code.isEmpty() ? message : message.isEmpty() ? code : code + ": " + message;
      String stored = WorkerMessages.storable(error.isEmpty() ? "miner " + id + " failed the job without saying why"
          : error);
      return miners.report(owner, id, jobId, attempt(request.getAttempt()), false,
          (session, attempt) -> new Outcome.Failed(jobId, attempt, session.id(), stored, request.getRetryable(), id));
    }, (reported, unused) -> FailMinerJobResponse.newBuilder()
        .setJobId(request.getJobId())
        .setAttempt(reported.attempt())
        .setState(reported.recorded().state() == null ? JobState.JOB_STATE_UNSPECIFIED
            : JobProtos.state(reported.recorded().state()))
        .build(), false, request.getJobId());
  }

  @Override
  public void deregisterMiner(DeregisterMinerRequest request, StreamObserver<DeregisterMinerResponse> out) {
    answer(out, () -> {
      Principal owner = caller();
      String id = MinerProtos.minerId(request.getMinerId());
      return DeregisterMinerResponse.newBuilder().setJobsReturned(miners.deregister(owner, id)).build();
    });
  }

  @Override
  public void listMinerJobs(ListMinerJobsRequest request, StreamObserver<ListMinerJobsResponse> out) {
    answer(out, () -> {
      Principal owner = caller();
      String id = MinerProtos.minerId(request.getMinerId());
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
      if (pageSize < 1 || pageSize > MAX_PAGE) {
        throw invalid("page_size must be between 1 and " + MAX_PAGE + ", not " + request.getPageSize());
      }
      if (request.getSkip() < 0) {
        throw invalid("skip must not be negative, not " + request.getSkip());
      }
      List<net.aitbc.grid.db.enums.JobState> states = new ArrayList<>();
      for (JobState s : request.getStatesList()) {
        if (s == JobState.JOB_STATE_UNSPECIFIED || s == JobState.UNRECOGNIZED) {
          throw invalid("states must name job states, not " + s);
        }
        states.add(net.aitbc.grid.db.enums.JobState.valueOf(JobProtos.stateName(s)));
      }
      try {
        JsonChecks.checkText(request.getType(), "type", 64);
      } catch (JsonChecks.Invalid e) {
        throw invalid(e.getMessage());
      }
      BigDecimal minReward = MinerProtos.amount(request.getMinReward(), "min_reward");
      ListMinerJobsResponse.Builder b = ListMinerJobsResponse.newBuilder();
      miners.jobs(owner, id, states, request.getType().isBlank() ? null : request.getType(), minReward,
          request.getSkip(), pageSize).forEach(j -> b.addJobs(JobProtos.job(j)));
      return b.build();
    });
  }

  /** What an outcome call answers once recorded; not accepted is FAILED_PRECONDITION with the reason. */
  @FunctionalInterface
  private interface Answer<T> {
    T of(Miners.Reported reported, @Nullable String receiptJson);
  }

  private <T> void report(StreamObserver<T> out, Supplier<CompletableFuture<Miners.Reported>> call,
      Answer<T> answer, boolean withReceipt, String jobId) {
    CompletableFuture<Miners.Reported> recorded;
    try {
      recorded = call.get();
    } catch (RuntimeException e) {
      out.onError(status(e));
      return;
    }
    // Answered from a virtual thread: the receipt is read from the database, never on a committer.
    recorded.whenCompleteAsync((r, error) -> {
      if (error != null) {
        respond(out, null, error);
      } else if (!r.recorded().accepted()) {
        respond(out, null, Status.FAILED_PRECONDITION.withDescription(
            GrpcErrors.abbreviate(r.recorded().reason(), 1000)).asRuntimeException());
      } else {
        T body;
        try {
          body = answer.of(r, withReceipt ? receipt(jobId) : null);
        } catch (RuntimeException e) {
          respond(out, null, e);
          return;
        }
        respond(out, body, null);
      }
    }, executor);
  }

  private @Nullable String receipt(String jobId) {
    Ledger l = ledger;
    return l == null ? null : JobIds.parse(jobId).flatMap(id -> receipts.byJob(id, null)).map(l::signed).orElse(null);
  }

  private <T> void answer(StreamObserver<T> out, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      out.onError(status(e));
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }

  private static <T> void respond(StreamObserver<T> out, @Nullable T body, @Nullable Throwable error) {
    try {
      if (error != null) {
        out.onError(status(error));
      } else {
        out.onNext(body);
        out.onCompleted();
      }
    } catch (RuntimeException e) {
      // The caller went away meanwhile.
      logger.debug("miner call already closed: {}", e.toString());
    }
  }

  private static StatusRuntimeException status(Throwable t) {
    Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    if (cause instanceof MinerRefused r) {
      return (switch (r.kind()) {
        case NOT_REGISTERED, NO_SUCH_JOB -> Status.NOT_FOUND;
        case NOT_HELD -> Status.FAILED_PRECONDITION;
      }).withDescription(GrpcErrors.abbreviate(r.getMessage(), 1000)).asRuntimeException();
    }
    return GrpcErrors.toStatus(cause);
  }

  private Principal caller() {
    Principal p = AuthInterceptor.principal();
    scheduler.admitCall(p);
    return p;
  }

  private static UUID jobId(String text) {
    return JobIds.parse(text).orElseThrow(() -> invalid("job_id must be 32 hex characters, not '"
        + GrpcErrors.abbreviate(text) + "'"));
  }

  private static int attempt(int attempt) {
    if (attempt < 0) {
      throw invalid("attempt must not be negative, not " + attempt);
    }
    return attempt;
  }

  private static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }
}
