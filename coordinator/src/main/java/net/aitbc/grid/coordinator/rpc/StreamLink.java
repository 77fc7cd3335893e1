package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.WorkerLink;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Drain;
import net.aitbc.grid.v1.Revocation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's gRPC stream as a {@link WorkerLink}, and its single writer: messages wait in a queue
 * that drains while the transport is ready. The queue stays small because the worker only gets
 * what it asked for (at most its held jobs' assignments, plus acknowledgements of what it sent).
 */
final class StreamLink implements WorkerLink {
  private static final Logger logger = LoggerFactory.getLogger(StreamLink.class);

  private final ServerCallStreamObserver<ConnectResponse> out;
  private final GridMetrics metrics;
  private final ArrayDeque<ConnectResponse> outbound = new ArrayDeque<>();
  private boolean closed;
  private Runnable onClose = () -> {};

  StreamLink(ServerCallStreamObserver<ConnectResponse> out, GridMetrics metrics) {
    this.out = requireNonNull(out, "out");
    this.metrics = requireNonNull(metrics, "metrics");
  }

  @Override
  public void assign(List<ClaimedJob> jobs, OffsetDateTime leaseExpiresAt) {
    Timestamp lease = timestamp(leaseExpiresAt);
    synchronized (this) {
      for (ClaimedJob job : jobs) {
        Assignment.Builder a = Assignment.newBuilder()
            .setJobId(JobIds.format(job.jobId()))
            .setAttempt(job.attempt())
            .setLeaseExpireTime(lease)
            .setType(job.type())
            .setPayloadJson(job.payloadJson())
            .setExpireTime(timestamp(job.expiresAt()))
            .setDeadlineTime(timestamp(job.deadline()));
        if (job.model() != null) {
          a.setModel(job.model());
        }
        queue(ConnectResponse.newBuilder().setAssignment(a).build());
      }
      flushLocked();
    }
  }

  @Override
  public void revoke(UUID jobId, int attempt, String reason) {
    send(ConnectResponse.newBuilder()
        .setRevocation(Revocation.newBuilder().setJobId(JobIds.format(jobId)).setAttempt(attempt).setReason(reason))
        .build());
  }

  @Override
  public void drain(String reason) {
    send(ConnectResponse.newBuilder().setDrain(Drain.newBuilder().setReason(reason)).build());
  }

  /** Queues a message and writes what the transport takes; false once the stream is closed. */
  synchronized boolean send(ConnectResponse message) {
    if (closed) {
      return false;
    }
    queue(message);
    flushLocked();
    return true;
  }

  private void queue(ConnectResponse message) {
    if (!closed) {
      outbound.add(message);
    }
  }

  /** Called when the transport can take more: writes what is queued. */
  synchronized void onReady() {
    flushLocked();
  }

  private void flushLocked() {
    while (!closed && !outbound.isEmpty() && out.isReady()) {
      ConnectResponse m = outbound.poll();
      metrics.streamMessage(false, m.getMessageCase().name());
      out.onNext(m);
    }
  }

  /** Runs {@code action} once when the stream closes, from either side (at once if it has). */
  void onClose(Runnable action) {
    synchronized (this) {
      if (!closed) {
        this.onClose = action;
        return;
      }
    }
    action.run();
  }

  /** Marks the stream closed by the peer; true the first time. */
  boolean markClosed() {
    synchronized (this) {
      if (closed) {
        return false;
      }
      closed = true;
      outbound.clear();
    }
    onClose.run();
    return true;
  }

  @Override
  public synchronized boolean ended() {
    return closed;
  }

  @Override
  public void end(Ending why, String detail) {
    end(switch (why) {
      case DONE -> Status.OK;
      case SILENT, SHUTDOWN -> Status.UNAVAILABLE.withDescription(detail);
      case KEY_REVOKED -> Status.UNAUTHENTICATED.withDescription(detail);
    });
  }

  /** Ends the stream from this side: OK completes it, anything else fails it. */
  void end(Status status) {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      outbound.clear();
      try {
        if (status.isOk()) {
          out.onCompleted();
        } else {
          out.onError(status.asRuntimeException());
        }
      } catch (RuntimeException e) {
        logger.debug("stream already gone: {}", e.toString());
      }
    }
    onClose.run();
  }

  private static Timestamp timestamp(OffsetDateTime t) {
    return Timestamp.newBuilder().setSeconds(t.toEpochSecond()).setNanos(t.getNano()).build();
  }
}
