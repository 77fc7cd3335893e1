package net.aitbc.grid.worker.session;

import com.google.protobuf.Duration;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Registered;
import net.aitbc.grid.v1.Revocation;
import net.aitbc.grid.v1.WorkerServiceGrpc;

/**
 * A coordinator played by hand over a real gRPC server on a free port: it answers Register with
 * Registered (carrying {@code max_held} and {@code sign_outcomes}), records every message the
 * worker sends, and sends what the test tells it to.
 */
final class FakeCoordinator implements AutoCloseable {

  private final int maxHeld;
  private final boolean signOutcomes;
  private final Server server;
  private final List<ConnectRequest> received = new CopyOnWriteArrayList<>();
  private volatile StreamObserver<ConnectResponse> stream;

  /** Starts a coordinator that answers Registered with {@code maxHeld} (0: not set). */
  FakeCoordinator(int maxHeld) throws IOException {
    this(maxHeld, false);
  }

  /** Like {@link #FakeCoordinator(int)}, asking for signed outcomes when {@code signOutcomes}. */
  FakeCoordinator(int maxHeld, boolean signOutcomes) throws IOException {
    this.maxHeld = maxHeld;
    this.signOutcomes = signOutcomes;
    this.server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(new Service())
            .build()
            .start();
  }

  /** The port it listens on. */
  int port() {
    return server.getPort();
  }

  /** Everything the worker sent, in order. */
  List<ConnectRequest> received() {
    return received;
  }

  /** The sum of the credits the worker granted. */
  int credits() {
    return received.stream()
        .filter(ConnectRequest::hasCredit)
        .mapToInt(m -> m.getCredit().getCount())
        .sum();
  }

  /** The Register messages received, one per stream. */
  List<Register> registers() {
    return received.stream()
        .filter(ConnectRequest::hasRegister)
        .map(ConnectRequest::getRegister)
        .toList();
  }

  /** The completions the worker reported. */
  List<JobCompleted> completions() {
    return received.stream()
        .filter(ConnectRequest::hasCompleted)
        .map(ConnectRequest::getCompleted)
        .toList();
  }

  /** Completions and failures the worker reported. */
  long outcomes() {
    return received.stream().filter(m -> m.hasCompleted() || m.hasFailed()).count();
  }

  /** Sends a noop job that sleeps {@code sleepMs}. */
  void assign(String jobId, long sleepMs) {
    send(
        ConnectResponse.newBuilder()
            .setAssignment(
                Assignment.newBuilder()
                    .setJobId(jobId)
                    .setAttempt(1)
                    .setType("noop")
                    .setPayloadJson("{\"sleep_ms\":" + sleepMs + "}"))
            .build());
  }

  /** Revokes attempt 1 of {@code jobId}. */
  void revoke(String jobId) {
    send(
        ConnectResponse.newBuilder()
            .setRevocation(
                Revocation.newBuilder().setJobId(jobId).setAttempt(1).setReason("canceled"))
            .build());
  }

  private synchronized void send(ConnectResponse message) {
    stream.onNext(message);
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private final class Service extends WorkerServiceGrpc.WorkerServiceImplBase {
    @Override
    public StreamObserver<ConnectRequest> connect(StreamObserver<ConnectResponse> responses) {
      stream = responses;
      return new StreamObserver<>() {
        @Override
        public void onNext(ConnectRequest message) {
          received.add(message);
          if (message.hasRegister()) {
            send(
                ConnectResponse.newBuilder()
                    .setRegistered(
                        Registered.newBuilder()
                            .setSessionId("s1")
                            .setHeartbeatInterval(Duration.newBuilder().setSeconds(10))
                            .setLeaseDuration(Duration.newBuilder().setSeconds(30))
                            .setMaxHeld(maxHeld)
                            .setSignOutcomes(signOutcomes))
                    .build());
          }
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          synchronized (FakeCoordinator.this) {
            responses.onCompleted();
          }
        }
      };
    }
  }
}
