package net.aitbc.grid.ops.bench;

import com.google.protobuf.ByteString;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.aitbc.grid.ledger.Attestations.Attestation;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Credit;
import net.aitbc.grid.v1.Draining;
import net.aitbc.grid.v1.Heartbeat;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.OutcomeAttestation;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import net.aitbc.grid.worker.session.OutcomeSigner;
import org.jspecify.annotations.Nullable;

/**
 * A worker stream spoken by hand, for no-op jobs: Register, Credit, a Heartbeat every interval,
 * and a JobCompleted the moment an Assignment arrives. Every completion goes through the
 * coordinator's normal outcome path and is acknowledged only once committed. Credits are granted
 * back in batches as outcomes are acknowledged, so the worker never holds more than it granted.
 *
 * <p>One writer per stream: every outbound message goes through {@link #send}, which queues under
 * a lock and writes only while the transport is ready (the request observer is not thread-safe).
 * The inbound callbacks run on the channel's event loop, which gRPC serializes per call; no thread
 * is made per stream, so thousands of them fit in one process.
 *
 * <p>When the coordinator asks for signed outcomes, each completion waits for the worker's
 * {@link OutcomeSigner} (a key made in memory at start), which signs on its own executor, never on
 * the event loop; at the rates the benchmark drives, one signature covers a large batch.
 */
final class BenchWorker implements ClientResponseObserver<ConnectRequest, ConnectResponse> {
  private static final String RESULT = "{}";

  private final String workerId;
  private final int credits;
  private final int regrantBatch;
  private final Tracker tracker;
  private final ScheduledExecutorService timer;
  private final CompletableFuture<Duration> registered = new CompletableFuture<>();
  private final CompletableFuture<Status> ended = new CompletableFuture<>();
  private final AtomicInteger held = new AtomicInteger();
  private final OutcomeSigner signer;
  private volatile boolean signOutcomes;

  private final Object writeLock = new Object();
  private final ArrayDeque<ConnectRequest> outbound = new ArrayDeque<>();
  private @Nullable ClientCallStreamObserver<ConnectRequest> requests;
  private boolean halfClosePending;
  private boolean halfClosed;
  /** Completions being signed: the stream half-closes only once they have been queued. */
  private int signing;

  private volatile boolean stopping;
  private volatile @Nullable ScheduledFuture<?> heartbeat;
  /** Only touched by inbound callbacks, which gRPC never runs concurrently for one call. */
  private int acknowledgedSinceGrant;

  private BenchWorker(String workerId, int credits, int regrantBatch, Tracker tracker, ScheduledExecutorService timer,
      OutcomeSigner signer) {
    this.workerId = workerId;
    this.signer = signer;
    this.credits = credits;
    this.regrantBatch = Math.max(1, Math.min(regrantBatch, credits));
    this.tracker = tracker;
    this.timer = timer;
  }

  /**
   * Opens a stream on {@code channel} (whose stub must carry a worker key) and registers for
   * {@code noop} jobs with its key; {@code credits} is what it grants once registered and keeps
   * outstanding; outcomes are signed, when asked, on {@code signing}.
   */
  static BenchWorker open(WorkerServiceGrpc.WorkerServiceStub stub, String workerId, int credits, int regrantBatch,
      Tracker tracker, ScheduledExecutorService timer, Executor signing) {
    // The same key for the same id in every phase, as a real worker keeps its key: the coordinator
    // pins a worker id's key at its first registration.
    SigningKey key = SigningKey.fromSeed(CanonicalJson.sha256(("bench-worker:" + workerId)
        .getBytes(StandardCharsets.UTF_8)));
    BenchWorker w = new BenchWorker(workerId, credits, regrantBatch, tracker, timer,
        new OutcomeSigner(key, workerId, signing));
    stub.connect(w);
    w.send(ConnectRequest.newBuilder().setRegister(Register.newBuilder()
        .setWorkerId(workerId)
        .setVersion("bench")
        .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes("noop").setConcurrency(credits))
        .setPublicKey(ByteString.copyFrom(key.verifyingKey().raw())))
        .build());
    return w;
  }

  /** A stub for {@link #open} over this channel with this worker key. */
  static WorkerServiceGrpc.WorkerServiceStub stub(Channel channel, String workerKey) {
    return Grpc.withKey(WorkerServiceGrpc.newStub(channel), workerKey);
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<ConnectRequest> requestStream) {
    requests = requestStream;
    requestStream.setOnReadyHandler(this::flush);
  }

  @Override
  public void onNext(ConnectResponse message) {
    long now = System.nanoTime();
    switch (message.getMessageCase()) {
      case REGISTERED -> {
        com.google.protobuf.Duration d = message.getRegistered().getHeartbeatInterval();
        Duration every = Duration.ofSeconds(d.getSeconds(), d.getNanos());
        // The first beat lands anywhere in the interval, so that thousands of workers do not beat in step.
        scheduleHeartbeat(every, (long) (ThreadLocalRandom.current().nextDouble() * every.toNanos()));
        // Before the credits, so before any assignment.
        signOutcomes = message.getRegistered().getSignOutcomes();
        send(credit(credits));
        registered.complete(every);
      }
      case ASSIGNMENT -> {
        Assignment a = message.getAssignment();
        held.incrementAndGet();
        tracker.assigned(a.getJobId(), now);
        JobCompleted completed = JobCompleted.newBuilder()
            .setJobId(a.getJobId()).setAttempt(a.getAttempt()).setResultJson(RESULT).setMetricsJson(RESULT).build();
        if (signOutcomes) {
          sendSigned(completed);
        } else {
          send(ConnectRequest.newBuilder().setCompleted(completed).build());
        }
      }
      case OUTCOME_ACK -> {
        OutcomeAck ack = message.getOutcomeAck();
        held.decrementAndGet();
        tracker.acknowledged(ack.getJobId(), ack.getAccepted(), ack.getReason(), now);
        regrant();
      }
      case REVOCATION -> {
        // The job was canceled or expired: the worker reports nothing for it and grants its credit back.
        held.decrementAndGet();
        tracker.revoked();
        regrant();
      }
      case DRAIN -> stopping = true;
      case MESSAGE_NOT_SET -> {
        // Nothing to do for a message from a newer protocol.
      }
    }
  }

  /** Queues {@code completed} once its batch is signed, on the signer's thread. */
  private void sendSigned(JobCompleted completed) {
    synchronized (writeLock) {
      if (halfClosed || halfClosePending) {
        return;
      }
      signing++;
    }
    signer.sign(completed.getJobId(), completed.getAttempt(), completed.getResultJson(), completed.getMetricsJson())
        .whenComplete((attestation, error) -> {
          synchronized (writeLock) {
            signing--;
            // Only when the executor refused: the benchmark is over, the stream half-closes without it.
            if (attestation != null && !halfClosed) {
              outbound.add(ConnectRequest.newBuilder()
                  .setCompleted(completed.toBuilder().setAttestation(proto(attestation))).build());
            }
            flushLocked();
          }
        });
  }

  private static OutcomeAttestation proto(Attestation a) {
    OutcomeAttestation.Builder b = OutcomeAttestation.newBuilder()
        .setIndex(a.index()).setSize(a.size()).setSignature(ByteString.copyFrom(a.signature()));
    a.proof().forEach(hash -> b.addProof(ByteString.copyFrom(hash)));
    return b.build();
  }

  private void regrant() {
    acknowledgedSinceGrant++;
    if (!stopping && acknowledgedSinceGrant >= regrantBatch) {
      send(credit(acknowledgedSinceGrant));
      acknowledgedSinceGrant = 0;
    }
  }

  private static ConnectRequest credit(int count) {
    return ConnectRequest.newBuilder().setCredit(Credit.newBuilder().setCount(count)).build();
  }

  private void scheduleHeartbeat(Duration every, long delayNanos) {
    if (stopping) {
      return;
    }
    heartbeat = timer.schedule(() -> {
      send(ConnectRequest.newBuilder().setHeartbeat(Heartbeat.newBuilder().setRunning(Math.max(0, held.get()))).build());
      // Jitter: each beat comes 90-100% of the interval after the last, never later than asked.
      scheduleHeartbeat(every, (long) (every.toNanos() * (0.9 + 0.1 * ThreadLocalRandom.current().nextDouble())));
    }, delayNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void onError(Throwable t) {
    end(Status.fromThrowable(t));
  }

  @Override
  public void onCompleted() {
    end(Status.OK);
  }

  private void end(Status status) {
    stopping = true;
    ScheduledFuture<?> h = heartbeat;
    if (h != null) {
      h.cancel(false);
    }
    synchronized (writeLock) {
      halfClosed = true;
      outbound.clear();
    }
    registered.completeExceptionally(status.asRuntimeException());
    ended.complete(status);
  }

  /** Queues a message and writes what the transport takes now; the rest goes out on onReady. */
  private void send(ConnectRequest message) {
    synchronized (writeLock) {
      if (halfClosed || halfClosePending) {
        return;
      }
      outbound.add(message);
      flushLocked();
    }
  }

  private void flush() {
    synchronized (writeLock) {
      flushLocked();
    }
  }

  private void flushLocked() {
    ClientCallStreamObserver<ConnectRequest> out = requests;
    if (out == null || halfClosed) {
      return;
    }
    while (!outbound.isEmpty() && out.isReady()) {
      out.onNext(outbound.poll());
    }
    if (outbound.isEmpty() && signing == 0 && halfClosePending) {
      halfClosed = true;
      out.onCompleted();
    }
  }

  /**
   * Stops taking work: sends Draining (the coordinator voids its credits), then half-closes once
   * everything queued is written; the coordinator answers every outcome before ending the call.
   */
  CompletableFuture<Status> stop() {
    stopping = true;
    ScheduledFuture<?> h = heartbeat;
    if (h != null) {
      h.cancel(false);
    }
    synchronized (writeLock) {
      if (!halfClosed && !halfClosePending) {
        outbound.add(ConnectRequest.newBuilder().setDraining(Draining.newBuilder().setReason("benchmark phase over"))
            .build());
        halfClosePending = true;
        flushLocked();
      }
    }
    return ended;
  }

  /** Completes with the heartbeat interval once Registered arrives; fails if the stream ends first. */
  CompletableFuture<Duration> registered() {
    return registered;
  }

  /** Completes with the stream's final status. */
  CompletableFuture<Status> ended() {
    return ended;
  }

  /** Whether the stream ended while the worker still wanted it. */
  boolean endedUnexpectedly() {
    return ended.isDone() && !halfClosePending;
  }

  /** Signatures made so far, one per batch. */
  long signatures() {
    return signer.signatures();
  }

  /** Outcomes signed so far. */
  long signedOutcomes() {
    return signer.signed();
  }

  /** The id it registered under. */
  String workerId() {
    return workerId;
  }
}
