package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.Recorded;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker stream. Inbound messages are requested a window at a time and each outcome's slot is
 * given back only after it is committed, so a fast worker cannot outrun the database.
 */
public final class WorkerServiceImpl extends WorkerServiceGrpc.WorkerServiceImplBase {
  private static final Logger logger = LoggerFactory.getLogger(WorkerServiceImpl.class);
  /** Inbound messages in flight per stream. */
  private static final int WINDOW = 256;
  /** Handled messages are asked for again in chunks of this many: each request() wakes the transport. */
  private static final int REQUEST_CHUNK = 32;
  private static final int MAX_RESULT_CHARS = 8 << 20;

  private final Scheduler scheduler;

  /** The service over this scheduler. */
  public WorkerServiceImpl(Scheduler scheduler) {
    this.scheduler = requireNonNull(scheduler, "scheduler");
  }

  @Override
  public StreamObserver<ConnectRequest> connect(StreamObserver<ConnectResponse> responseObserver) {
    var out = (ServerCallStreamObserver<ConnectResponse>) responseObserver;
    Stream stream = new Stream(AuthInterceptor.principal(), out);
    out.disableAutoRequest();
    out.setOnReadyHandler(stream::onReady);
    out.setOnCancelHandler(() -> stream.lost("stream cancelled"));
    out.request(WINDOW);
    return stream;
  }

  private final class Stream implements StreamObserver<ConnectRequest> {
    private final Principal principal;
    private final ServerCallStreamObserver<ConnectResponse> out;
    private volatile @Nullable WorkerSession session;
    private boolean warnedBadId;
    private final AtomicInteger unrequested = new AtomicInteger();

    Stream(Principal principal, ServerCallStreamObserver<ConnectResponse> out) {
      this.principal = principal;
      this.out = out;
    }

    /**
     * One inbound message is done with (an outcome: committed): ask for more, a chunk at a time, so
     * at least WINDOW - REQUEST_CHUNK messages may always be in flight.
     */
    private void handled() {
      if (unrequested.incrementAndGet() >= REQUEST_CHUNK) {
        // Another thread may have taken the count between the two calls; request(0) is illegal.
        int n = unrequested.getAndSet(0);
        if (n > 0) {
          out.request(n);
        }
      }
    }

    void onReady() {
      WorkerSession s = session;
      if (s != null) {
        s.onReady();
      }
    }

    @Override
    public void onNext(ConnectRequest message) {
      try {
        handle(message);
      } catch (RuntimeException e) {
        // A message this code cannot handle must end the session cleanly, so its jobs are taken back now.
        logger.error("[{}] cannot handle a {} message", session == null ? "-" : session.id(), message.getMessageCase(),
            e);
        refuse(Status.INTERNAL, "the coordinator could not handle a " + message.getMessageCase() + " message");
      }
    }

    private void handle(ConnectRequest message) {
      WorkerSession s = session;
      if (s == null) {
        if (message.getMessageCase() != ConnectRequest.MessageCase.REGISTER) {
          refuse("the first message must be Register, not " + message.getMessageCase());
          return;
        }
        register(message.getRegister());
        handled();
        return;
      }
      s.touch();
      switch (message.getMessageCase()) {
        case HEARTBEAT -> handled();
        case CREDIT -> {
          if (message.getCredit().getCount() < 0) {
            refuse("credit count must not be negative");
            return;
          }
          scheduler.grant(s, message.getCredit().getCount());
          handled();
        }
        case PROGRESS -> {
          jobId(message.getProgress().getJobId()).ifPresent(id -> scheduler.progress(s, id, message.getProgress()));
          handled();
        }
        case COMPLETED -> report(s, completed(s, message.getCompleted()));
        case FAILED -> report(s, failed(s, message.getFailed()));
        case DRAINING -> {
          scheduler.draining(s);
          handled();
        }
        case REGISTER -> refuse("Register may only be sent once per stream");
        case MESSAGE_NOT_SET -> refuse("empty message");
      }
    }

    private void register(Register r) {
      String problem = registerProblem(r);
      if (problem != null) {
        refuse(problem);
        return;
      }
      try {
        session = scheduler.open(r, principal, out);
      } catch (RuntimeException e) {
        out.onError(GrpcErrors.toStatus(e));
      }
    }

    private @Nullable Outcome completed(WorkerSession s, JobCompleted c) {
      UUID id = jobId(c.getJobId()).orElse(null);
      if (id == null) {
        return null;
      }
      try {
        JsonChecks.object(c.getResultJson(), "result_json", MAX_RESULT_CHARS);
      } catch (JsonChecks.Invalid e) {
        // A worker that cannot produce a valid result has failed the attempt; say why.
        return new Outcome.Failed(id, c.getAttempt(), s.id(), "worker returned an invalid result: " + e.getMessage(),
            false, s.workerId());
      }
      return new Outcome.Completed(id, c.getAttempt(), s.id(), c.getResultJson(), c.getMetricsJson());
    }

    private @Nullable Outcome failed(WorkerSession s, JobFailed f) {
      return jobId(f.getJobId())
          .map(id -> (Outcome) new Outcome.Failed(id, f.getAttempt(), s.id(),
              f.getError().isBlank() ? "failed without a message" : truncate(f.getError()), f.getRetryable(),
              s.workerId()))
          .orElse(null);
    }

    private void report(WorkerSession s, @Nullable Outcome outcome) {
      if (outcome == null) {
        handled();
        return;
      }
      s.track(scheduler.report(s, outcome).handle((recorded, error) -> {
        s.send(ConnectResponse.newBuilder().setOutcomeAck(ack(outcome, recorded, error)).build());
        handled();
        return null;
      }));
    }

    private OutcomeAck ack(Outcome o, @Nullable Recorded recorded, @Nullable Throwable error) {
      OutcomeAck.Builder ack = OutcomeAck.newBuilder().setJobId(JobIds.format(o.jobId())).setAttempt(o.attempt());
      if (error != null) {
        return ack.setAccepted(false).setReason("not recorded: " + GrpcErrors.toStatus(error).getStatus().getDescription())
            .build();
      }
      return ack.setAccepted(recorded.accepted()).setReason(recorded.reason()).build();
    }

    private Optional<UUID> jobId(String text) {
      Optional<UUID> id = JobIds.parse(text);
      if (id.isEmpty() && !warnedBadId) {
        warnedBadId = true;
        logger.warn("[{}] ignoring messages for job ids that are not 32 hex characters, such as '{}'",
            session == null ? "-" : session.id(), GrpcErrors.abbreviate(text));
      }
      return id;
    }

    private void refuse(String why) {
      refuse(Status.INVALID_ARGUMENT, why);
    }

    private void refuse(Status code, String why) {
      WorkerSession s = session;
      Status status = code.withDescription(GrpcErrors.abbreviate(why, 1000));
      if (s != null) {
        s.end(status);
        scheduler.closed(s, "protocol error: " + why);
      } else {
        out.onError(status.asRuntimeException());
      }
    }

    @Override
    public void onError(Throwable t) {
      lost(Status.fromThrowable(t).getCode() == Status.Code.CANCELLED ? "stream cancelled" : t.toString());
    }

    @Override
    public void onCompleted() {
      WorkerSession s = session;
      if (s != null) {
        // A worker half-closes after its last outcome: answer each before ending the call.
        s.settled().whenComplete((r, e) -> {
          s.end(Status.OK);
          scheduler.closed(s, "worker closed the stream");
        });
      } else {
        out.onCompleted();
      }
    }

    void lost(String why) {
      WorkerSession s = session;
      if (s != null) {
        scheduler.closed(s, why);
      }
    }
  }

  /** What is wrong with a Register message, or null; checked before anything is stored. */
  private static @Nullable String registerProblem(Register r) {
    WorkerCapabilities c = r.getCapabilities();
    if (r.getWorkerId().isBlank()) {
      return "worker_id must not be empty";
    }
    if (c.getJobTypesCount() == 0 || c.getJobTypesCount() > 100) {
      return "capabilities.job_types must name 1 to 100 job types";
    }
    if (c.getModelsCount() > 10_000 || c.getGpusCount() > 256 || c.getBackendsCount() > 100) {
      return "capabilities name too many models, GPUs or backends";
    }
    try {
      JsonChecks.checkText(r.getWorkerId(), "worker_id", 200);
      JsonChecks.checkText(r.getVersion(), "version", 100);
      JsonChecks.checkText(c.getRegion(), "capabilities.region", 100);
      JsonChecks.checkText(c.getCuda(), "capabilities.cuda", 20);
      for (String t : c.getJobTypesList()) {
        JsonChecks.checkText(t, "capabilities.job_types", 64);
      }
      for (String m : c.getModelsList()) {
        JsonChecks.checkText(m, "capabilities.models", 200);
      }
      for (String b : c.getBackendsList()) {
        JsonChecks.checkText(b, "capabilities.backends", 64);
      }
      for (var g : c.getGpusList()) {
        JsonChecks.checkText(g.getModel(), "capabilities.gpus.model", 200);
      }
    } catch (JsonChecks.Invalid e) {
      return e.getMessage();
    }
    if (c.getConcurrency() < 0 || !Double.isFinite(c.getPrice()) || c.getPrice() < 0) {
      return "capabilities.concurrency and price must not be negative";
    }
    return null;
  }

  private static String truncate(String s) {
    return s.length() <= 4000 ? s : s.substring(0, 4000) + "…";
  }
}
