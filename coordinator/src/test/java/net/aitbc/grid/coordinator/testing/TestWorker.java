package net.aitbc.grid.coordinator.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Credit;
import net.aitbc.grid.v1.Heartbeat;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Registered;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.v1.WorkerServiceGrpc;

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

  private TestWorker(int port, String key) {
    channel = GrpcClients.channel(port);
    out = GrpcClients.withKey(WorkerServiceGrpc.newStub(channel), key).connect(new StreamObserver<>() {
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

  /** Connects and sends this Register; waits for Registered. */
  public static TestWorker connect(int port, String key, Register register) {
    TestWorker w = new TestWorker(port, key);
    w.send(ConnectRequest.newBuilder().setRegister(register).build());
    w.registered = w.next().getRegistered();
    assertThat(w.registered.getSessionId()).isNotEmpty();
    return w;
  }

  /** Opens a stream without registering, to test what the coordinator refuses. */
  public static TestWorker open(int port, String key) {
    return new TestWorker(port, key);
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
    send(ConnectRequest.newBuilder().setCompleted(JobCompleted.newBuilder()
        .setJobId(jobId).setAttempt(attempt).setResultJson(resultJson).setMetricsJson("{\"tokens\":3}")).build());
  }

  /** Reports a completion with these metrics. */
  public void complete(String jobId, int attempt, String resultJson, String metricsJson) {
    send(ConnectRequest.newBuilder().setCompleted(JobCompleted.newBuilder()
        .setJobId(jobId).setAttempt(attempt).setResultJson(resultJson).setMetricsJson(metricsJson)).build());
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
