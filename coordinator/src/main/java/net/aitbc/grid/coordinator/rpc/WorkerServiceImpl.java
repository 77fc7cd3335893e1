package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.math.BigDecimal;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Revocations;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.scheduler.Progress;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.WorkerLink;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.Recorded;
import net.aitbc.grid.coordinator.store.SwarmStore;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Registered;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker stream. Inbound messages are requested a window at a time, and each outcome's place in
 * the window is given back only after it is committed, so a fast worker cannot outrun the database;
 * the window is bounded in bytes as well as in messages.
 */
public final class WorkerServiceImpl extends WorkerServiceGrpc.WorkerServiceImplBase {
  private static final Logger logger = LoggerFactory.getLogger(WorkerServiceImpl.class);
  private static final JsonFormat.Printer CAPABILITIES =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  /** Inbound messages held or asked for per stream. */
  private static final int WINDOW = 256;
  /** Bytes of inbound messages held per stream before no more are asked for. */
  static final long MAX_INBOUND_BYTES = 64L << 20;

  private final CoordinatorConfig config;
  private final Scheduler scheduler;
  private final Revocations revocations;
  private final GridMetrics metrics;
  private final SwarmStore swarms;

  /** The service over this scheduler; workers join the swarms they name in {@code swarms}. */
  public WorkerServiceImpl(CoordinatorConfig config, Scheduler scheduler, Revocations revocations,
      GridMetrics metrics, SwarmStore swarms) {
    this.config = requireNonNull(config, "config");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.revocations = requireNonNull(revocations, "revocations");
    this.metrics = requireNonNull(metrics, "metrics");
    this.swarms = requireNonNull(swarms, "swarms");
  }

  @Override
  public StreamObserver<ConnectRequest> connect(StreamObserver<ConnectResponse> responseObserver) {
    var out = (ServerCallStreamObserver<ConnectResponse>) responseObserver;
    Stream stream = new Stream(AuthInterceptor.principal(), new StreamLink(out, metrics), out);
    out.disableAutoRequest();
    out.setOnReadyHandler(stream.link::onReady);
    out.setOnCancelHandler(() -> stream.lost("stream cancelled"));
    stream.window.start();
    return stream;
  }

  private final class Stream implements StreamObserver<ConnectRequest> {
    private final Principal principal;
    private final StreamLink link;
    private final ServerCallStreamObserver<ConnectResponse> out;
    private volatile @Nullable WorkerSession session;
    private @Nullable OutcomeSignatures signatures;
    private final InboundWindow window;
    private boolean warnedBadId;

    Stream(Principal principal, StreamLink link, ServerCallStreamObserver<ConnectResponse> out) {
      this.principal = principal;
      this.link = link;
      this.out = out;
      this.window = new InboundWindow(MAX_INBOUND_BYTES, WINDOW, out::request);
    }

    /** One inbound message of {@code bytes} is done with (an outcome: committed and answered). */
    private void handled(int bytes) {
      window.done(bytes);
    }

    @Override
    public void onNext(ConnectRequest message) {
      int bytes = message.getSerializedSize();
      window.arrived(bytes);
      metrics.streamMessage(true, message.getMessageCase().name());
      try {
        handle(message, bytes);
      } catch (RuntimeException e) {
        // A message this code cannot handle must end the session cleanly, so its jobs are taken back now.
        logger.error("[{}] cannot handle a {} message", session == null ? "-" : session.id(), message.getMessageCase(),
            e);
        refuse(Status.INTERNAL, "the coordinator could not handle a " + message.getMessageCase() + " message");
      }
    }

    private void handle(ConnectRequest message, int bytes) {
      WorkerSession s = session;
      if (s == null) {
        if (message.getMessageCase() != ConnectRequest.MessageCase.REGISTER) {
          refuse("the first message must be Register, not " + message.getMessageCase());
          return;
        }
        register(message.getRegister());
        handled(bytes);
        return;
      }
      s.touch();
      switch (message.getMessageCase()) {
        case HEARTBEAT -> handled(bytes);
        case CREDIT -> {
          if (message.getCredit().getCount() < 0) {
            refuse("credit count must not be negative");
            return;
          }
          scheduler.grant(s, message.getCredit().getCount());
          handled(bytes);
        }
        case PROGRESS -> {
          JobProgress p = message.getProgress();
          jobId(p.getJobId()).ifPresent(id ->
              scheduler.progress(s, new Progress(id, p.getAttempt(), p.getPercent(), p.getOutput())));
          handled(bytes);
        }
        case COMPLETED -> report(s, jobId(message.getCompleted().getJobId())
            .map(id -> countersigned(WorkerMessages.completed(id, s.id(), s.workerId(), message.getCompleted()),
                message.getCompleted()))
            .orElse(null), bytes);
        case FAILED -> report(s, jobId(message.getFailed().getJobId())
            .map(id -> WorkerMessages.failed(id, s.id(), s.workerId(), message.getFailed())).orElse(null), bytes);
        case DRAINING -> {
          scheduler.draining(s);
          handled(bytes);
        }
        case REGISTER -> refuse("Register may only be sent once per stream");
        case MESSAGE_NOT_SET -> refuse("empty message");
      }
    }

    /** With receipts, a completion is recorded only with its worker's verified signature. */
    private Outcome countersigned(Outcome outcome, JobCompleted message) {
      OutcomeSignatures check = signatures;
      return check != null && outcome instanceof Outcome.Completed c ? check.check(c, message) : outcome;
    }

    private void register(Register r) {
      String problem = WorkerMessages.registerProblem(r);
      List<String> swarmNames = List.of();
      if (problem == null) {
        try {
          swarmNames = SwarmRequests.swarmNames(r);
        } catch (IllegalArgumentException e) {
          problem = e.getMessage();
        }
      }
      VerifyingKey key = null;
      if (problem == null && !r.getPublicKey().isEmpty()) {
        try {
          key = VerifyingKey.fromBytes(r.getPublicKey().toByteArray());
        } catch (IllegalArgumentException e) {
          problem = "public_key is not an Ed25519 public key: " + e.getMessage();
        }
      } else if (problem == null && config.issuesReceipts()) {
        problem = "public_key is required: this coordinator issues receipts, and workers sign their outcomes";
      }
      if (problem != null) {
        refuse(problem);
        return;
      }
      WorkerSession s;
      try {
        s = scheduler.open(r.getWorkerId(), principal, JobProtos.offer(r.getCapabilities()),
            r.getCapabilities().getConcurrency(), CAPABILITIES.print(r.getCapabilities()),
            key == null ? null : key.raw(), link);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("capabilities always print", e);
      } catch (RuntimeException e) {
        out.onError(GrpcErrors.toStatus(e));
        return;
      }
      try {
        // After open: only a worker whose key matches the one pinned to its id changes its memberships.
        swarms.registered(s.workerId(), principal.clientId(), swarmNames, s.offer().jobTypes());
      } catch (RuntimeException e) {
        link.end(GrpcErrors.toStatus(e).getStatus());
        scheduler.closed(s, "its swarm memberships could not be recorded");
        return;
      }
      if (config.issuesReceipts() && key != null) {
        double price = r.getCapabilities().getPrice();
        signatures = new OutcomeSignatures(s.workerId(), key,
            price > 0 ? BigDecimal.valueOf(price) : config.ledger().defaultUnitPrice());
      }
      session = s;
      link.send(ConnectResponse.newBuilder()
          .setRegistered(Registered.newBuilder()
              .setSessionId(s.id().toString())
              .setHeartbeatInterval(duration(config.heartbeatInterval()))
              .setLeaseDuration(duration(config.leaseDuration()))
              .setMaxHeld(s.maxHeld())
              .setSignOutcomes(signatures != null))
          .build());
      // A client certificate has no key in the database to revoke: its CA and lifetime bound it.
      AutoCloseable revocation = principal.fromCertificate() ? () -> { } : revocations.watch(principal.keyId(), () -> {
        s.end(WorkerLink.Ending.KEY_REVOKED, "the worker's api key was revoked");
        scheduler.closed(s, "api key revoked");
      });
      // However the stream ends (here, by the worker, by the sweeper), the key is no longer watched for it.
      link.onClose(() -> {
        try {
          revocation.close();
        } catch (Exception e) {
          logger.debug("[{}] unwatching the key failed: {}", s.id(), e.toString());
        }
      });
    }

    private void report(WorkerSession s, @Nullable Outcome outcome, int bytes) {
      if (outcome == null) {
        handled(bytes);
        return;
      }
      s.track(scheduler.report(s, outcome).handle((recorded, error) -> {
        link.send(ConnectResponse.newBuilder().setOutcomeAck(ack(outcome, recorded, error)).build());
        handled(bytes);
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
      link.end(code.withDescription(GrpcErrors.abbreviate(why, 1000)));
      if (s != null) {
        scheduler.closed(s, "protocol error: " + why);
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
          link.end(Status.OK);
          scheduler.closed(s, "worker closed the stream");
        });
      } else {
        link.end(Status.OK);
      }
    }

    void lost(String why) {
      link.markClosed();
      WorkerSession s = session;
      if (s != null) {
        scheduler.closed(s, why);
      }
    }
  }

  private static com.google.protobuf.Duration duration(java.time.Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }
}
