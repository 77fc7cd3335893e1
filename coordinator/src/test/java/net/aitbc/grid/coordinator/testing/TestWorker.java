package net.aitbc.grid.coordinator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.ledger.Attestations;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Credit;
import net.aitbc.grid.v1.Heartbeat;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.v1.OutcomeAttestation;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Registered;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import org.jspecify.annotations.Nullable;

/**
 * Speaks the worker protocol by hand over a real gRPC stream, so that tests can play a worker
 * step by step: hold a job, report a stale attempt, stall, or vanish.
 */
public final class TestWorker implements AutoCloseable {
  private final ManagedChannel channel;
  private final BlockingQueue<ConnectResponse> received = new LinkedBlockingQueue<>();
  private final CompletableFuture<Status> closed = new CompletableFuture<>();
  private final StreamObserver<ConnectRequest> out;
  private Registered registered;
  private SigningKey key = keyFor("");
  private String workerId = "";

  private TestWorker(ManagedChannel channel, @Nullable String key) {
    this.channel = channel;
    WorkerServiceGrpc.WorkerServiceStub stub = WorkerServiceGrpc.newStub(channel);
    out = (key == null ? stub : GrpcClients.withKey(stub, key)).connect(new StreamObserver<>() {
      @Override
      public void onNext(ConnectResponse value) {
        received.add(value);
      }

      @Override
      public void onError(Throwable t) {
        closed.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        closed.complete(Status.OK);
      }
    });
  }

  /** Connects and registers with these job types and models; waits for Registered. */
  public static TestWorker connect(int port, String key, String workerId, List<String> types, List<String> models) {
    return connect(port, key, Register.newBuilder()
        .setWorkerId(workerId)
        .setVersion("test")
        .setCapabilities(WorkerCapabilities.newBuilder().addAllJobTypes(types).addAllModels(models).setConcurrency(1))
        .build());
  }

  /**
   * Connects and sends this Register (with the worker's own public key when it names none); waits
   * for Registered. Completions are then signed when the coordinator asks for it.
   */
  public static TestWorker connect(int port, String key, Register register) {
    return connect(GrpcClients.channel(port), key, register);
  }

  /**
   * Like {@link #connect(int, String, Register)} over {@code channel} (closed with the worker),
   * sending no key when {@code key} is null (a client certificate may stand for it).
   */
  public static TestWorker connect(ManagedChannel channel, @Nullable String key, Register register) {
    TestWorker w = new TestWorker(channel, key);
    w.workerId = register.getWorkerId();
    w.key = keyFor(register.getWorkerId());
    if (register.getPublicKey().isEmpty()) {
      register = register.toBuilder().setPublicKey(ByteString.copyFrom(w.key.verifyingKey().raw())).build();
    }
    w.send(ConnectRequest.newBuilder().setRegister(register).build());
    w.registered = w.next().getRegistered();
    assertThat(w.registered.getSessionId()).isNotEmpty();
    return w;
  }

  /** Opens a stream without registering, to test what the coordinator refuses. */
  public static TestWorker open(int port, String key) {
    return open(GrpcClients.channel(port), key);
  }

  /** Opens a stream over {@code channel} without registering, with no key when {@code key} is null. */
  public static TestWorker open(ManagedChannel channel, @Nullable String key) {
    return new TestWorker(channel, key);
  }

  /** What the coordinator answered to Register. */
  public Registered registered() {
    return registered;
  }

  /** Sends one message (tests call this from one thread). */
  public synchronized void send(ConnectRequest message) {
    out.onNext(message);
  }

  /** Grants credits. */
  public void credit(int count) {
    send(ConnectRequest.newBuilder().setCredit(Credit.newBuilder().setCount(count)).build());
  }

  /** Sends a heartbeat. */
  public void heartbeat() {
    send(ConnectRequest.newBuilder().setHeartbeat(Heartbeat.newBuilder()).build());
  }

  /** Reports a completion. */
  public void complete(String jobId, int attempt, String resultJson) {
    complete(jobId, attempt, resultJson, "{\"tokens\":3}");
  }

  /** Reports a completion with these metrics, signed when the coordinator asks for signatures. */
  public void complete(String jobId, int attempt, String resultJson, String metricsJson) {
    JobCompleted.Builder c = JobCompleted.newBuilder()
        .setJobId(jobId).setAttempt(attempt).setResultJson(resultJson).setMetricsJson(metricsJson);
    if (registered != null && registered.getSignOutcomes()) {
      try {
        c.setAttestation(attestation(key, workerId, jobId, attempt, resultJson, metricsJson));
      } catch (IllegalArgumentException notJson) {
        // What is not JSON cannot be signed: sent as is, for tests of what the coordinator refuses.
      }
    }
    send(ConnectRequest.newBuilder().setCompleted(c).build());
  }

  /**
   * The signing key of test workers with this id: the same for every connection, as a real worker's
   * key file is, so that a reconnecting worker matches the key pinned to its id.
   */
  public static SigningKey keyFor(String workerId) {
    return SigningKey.fromSeed(CanonicalJson.sha256(("test-worker:" + workerId).getBytes(StandardCharsets.UTF_8)));
  }

  /** This worker's signing key (pinned to its worker id at registration). */
  public SigningKey key() {
    return key;
  }

  /** A batch of one: the attestation {@code key} makes of this completion. */
  public static OutcomeAttestation attestation(SigningKey key, String workerId, String jobId, int attempt,
      String resultJson, String metricsJson) {
    ObjectNode statement = Attestations.statement(workerId, jobId, attempt, CanonicalJson.parse(resultJson),
        CanonicalJson.parse(metricsJson.isBlank() ? "{}" : metricsJson));
    Attestations.Attestation a = Attestations.signBatch(key, workerId, List.of(statement)).getFirst();
    OutcomeAttestation.Builder b = OutcomeAttestation.newBuilder().setIndex(a.index()).setSize(a.size())
        .setSignature(ByteString.copyFrom(a.signature()));
    a.proof().forEach(h -> b.addProof(ByteString.copyFrom(h)));
    return b.build();
  }

  /** Reports progress output. */
  public void progress(String jobId, int attempt, String output) {
    send(ConnectRequest.newBuilder().setProgress(net.aitbc.grid.v1.JobProgress.newBuilder()
        .setJobId(jobId).setAttempt(attempt).setPercent(-1).setOutput(output)).build());
  }

  /** Reports a failure. */
  public void fail(String jobId, int attempt, String error, boolean retryable) {
    send(ConnectRequest.newBuilder().setFailed(JobFailed.newBuilder()
        .setJobId(jobId).setAttempt(attempt).setError(error).setRetryable(retryable)).build());
  }

  /** The next message from the coordinator, within 10 s. */
  public ConnectResponse next() {
    return next(Duration.ofSeconds(10));
  }

  /** The next message from the coordinator within {@code timeout}. */
  public ConnectResponse next(Duration timeout) {
    try {
      ConnectResponse r = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (r == null) {
        throw new AssertionError("no message from the coordinator within " + timeout
            + (closed.isDone() ? "; stream closed with " + closed.join() : ""));
      }
      return r;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next message within {@code timeout}, or null when none came. */
  public ConnectResponse poll(Duration timeout) {
    try {
      return received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The next message, which must be an Assignment. */
  public Assignment nextAssignment() {
    ConnectResponse r = next();
    assertThat(r.getMessageCase()).isEqualTo(ConnectResponse.MessageCase.ASSIGNMENT);
    return r.getAssignment();
  }

  /** Whatever arrives within {@code window}, waiting all of it. */
  public List<ConnectResponse> drainReceivedWithin(Duration window) {
    try {
      Thread.sleep(window.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return drainReceived();
  }

  /** Whatever arrived and was not taken yet. */
  public List<ConnectResponse> drainReceived() {
    List<ConnectResponse> all = new java.util.ArrayList<>();
    received.drainTo(all);
    return all;
  }

  /** Completes when the coordinator ends the stream. */
  public CompletableFuture<Status> closed() {
    return closed;
  }

  /** Closes the stream cleanly, as a worker that finished would. */
  public void finish() {
    out.onCompleted();
  }

  /** Drops the connection without a word, as a killed worker would. */
  public void kill() {
    channel.shutdownNow();
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
