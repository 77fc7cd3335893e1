package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.MinerServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc;

/**
 * The coordinator's JobService, ReceiptService, ExplorerService, PaymentService, WorkflowService,
 * SwarmService, MinerService and health service, seen from the bridge: every call carries the HTTP client's API key as
 * {@code x-api-key} metadata, and every unary call a deadline. Calls do not wait for the channel to be
 * ready, so that a coordinator that is down gets a quick 503.
 */
final class CoordinatorClient {
  private static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);
  private static final Duration HEALTH_DEADLINE = Duration.ofSeconds(2);

  private final Channel channel;
  private final Duration deadline;

  CoordinatorClient(Channel channel, Duration deadline) {
    this.channel = requireNonNull(channel, "channel");
    this.deadline = requireNonNull(deadline, "deadline");
  }

  /** The JobService stub for unary calls on behalf of the holder of {@code apiKey}. */
  JobServiceGrpc.JobServiceStub jobs(String apiKey) {
    return stream(apiKey).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The JobService stub without a deadline, for WatchJob, which lasts as long as the job. */
  JobServiceGrpc.JobServiceStub stream(String apiKey) {
    return withKey(JobServiceGrpc.newStub(channel), apiKey);
  }

  /**
   * The MinerService stub for unary calls on behalf of the holder of {@code apiKey}; {@code waiting}
   * more than the deadline for a long poll.
   */
  MinerServiceGrpc.MinerServiceStub miners(String apiKey, Duration waiting) {
    return withKey(MinerServiceGrpc.newStub(channel), apiKey)
        .withDeadlineAfter(deadline.plus(waiting).toMillis(), TimeUnit.MILLISECONDS);
  }

  /** How long a unary call may take. */
  Duration deadline() {
    return deadline;
  }

  /** The ReceiptService stub for unary calls on behalf of the holder of {@code apiKey}. */
  ReceiptServiceGrpc.ReceiptServiceStub receipts(String apiKey) {
    return withKey(ReceiptServiceGrpc.newStub(channel), apiKey)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The ExplorerService stub for unary calls on behalf of the holder of {@code apiKey}. */
  ExplorerServiceGrpc.ExplorerServiceStub explorer(String apiKey) {
    return withKey(ExplorerServiceGrpc.newStub(channel), apiKey)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The PaymentService stub for unary calls on behalf of the holder of {@code apiKey}. */
  PaymentServiceGrpc.PaymentServiceStub payments(String apiKey) {
    return withKey(PaymentServiceGrpc.newStub(channel), apiKey)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The WorkflowService stub for unary calls on behalf of the holder of {@code apiKey}. */
  WorkflowServiceGrpc.WorkflowServiceStub workflows(String apiKey) {
    return workflowStream(apiKey).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The WorkflowService stub without a deadline, for WatchExecution, which lasts as long as the execution. */
  WorkflowServiceGrpc.WorkflowServiceStub workflowStream(String apiKey) {
    return withKey(WorkflowServiceGrpc.newStub(channel), apiKey);
  }

  /** The SwarmService stub for unary calls on behalf of the holder of {@code apiKey}. */
  SwarmServiceGrpc.SwarmServiceStub swarms(String apiKey) {
    return withKey(SwarmServiceGrpc.newStub(channel), apiKey).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static <S extends AbstractStub<S>> S withKey(S stub, String apiKey) {
    Metadata headers = new Metadata();
    headers.put(API_KEY, apiKey);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /** The coordinator's overall serving status, asked with a short deadline. */
  CompletableFuture<HealthCheckResponse> health() {
    long millis = Math.min(HEALTH_DEADLINE.toMillis(), deadline.toMillis());
    return unary(o -> HealthGrpc.newStub(channel)
        .withDeadlineAfter(millis, TimeUnit.MILLISECONDS)
        .check(HealthCheckRequest.getDefaultInstance(), o));
  }

  /** Runs a unary call through the async stub and returns its answer as a future. */
  static <T> CompletableFuture<T> unary(Consumer<StreamObserver<T>> call) {
    CompletableFuture<T> future = new CompletableFuture<>();
    try {
      call.accept(new StreamObserver<>() {
        @Override
        public void onNext(T value) {
          future.complete(value);
        }

        @Override
        public void onError(Throwable t) {
          future.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
          // The value came in onNext; a call that ended without one failed in onError.
        }
      });
    } catch (RuntimeException e) {
      future.completeExceptionally(e);
    }
    return future;
  }
}
