package net.aitbc.grid.ops.faults;

import static org.awaitility.Awaitility.await;

import com.google.rpc.ErrorInfo;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.time.LocalTime;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.CreatePaymentResponse;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.PaymentStatus;
import net.aitbc.grid.v1.RefundPaymentRequest;
import net.aitbc.grid.v1.RefundPaymentResponse;

/**
 * The paying side of a fault test's client, over gRPC: it pays for each job a {@link LoadGenerator}
 * submitted unpaid as soon as it is acknowledged (the CLI's {@code client pay}), and asks for a
 * refund of every {@code refundEvery}-th paid job a random moment later, so that some refunds beat
 * the job's completion and some find it released. A call answered UNAVAILABLE (the coordinator or
 * its database is down, or it is overloaded) is retried as a real client would, with the same
 * request: both calls are idempotent. It keeps the client's record: the payments it was told were
 * made, the refunds it was told were done or refused, the retries, and the calls that failed.
 */
final class PaymentClient implements AutoCloseable {
  /** Each payment's amount. */
  static final String AMOUNT = "1.5";
  /** What the client is given before the test: far more than it will pay. */
  static final String FUNDS = "1000000";
  private static final int TRIES = 100;
  private static final long RETRY_AFTER_MS = 200;

  private final PaymentServiceGrpc.PaymentServiceStub stub;
  private final int refundEvery;
  private final ScheduledExecutorService later =
      Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("refunds").daemon().factory());
  private final AtomicInteger paidSeen = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Map<String, String> paid = new ConcurrentHashMap<>();
  private final Set<String> refunded = ConcurrentHashMap.newKeySet();
  private final Set<String> refusedAsReleased = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> retries = new ConcurrentHashMap<>();
  private final Map<String, String> failureSamples = new ConcurrentHashMap<>();
  private final AtomicLong lastPaymentAck = new AtomicLong();
  private final AtomicLong lastRefundAck = new AtomicLong();
  private volatile boolean stopped;

  /** The client with {@code key}; refunds one paid job in {@code refundEvery} (none if it is 0). */
  PaymentClient(Channel channel, String key, int refundEvery) {
    this.stub = GrpcClients.withKey(PaymentServiceGrpc.newStub(channel), key);
    this.refundEvery = refundEvery;
  }

  /** Deposits {@link #FUNDS} AITBC for the grid's client, over gRPC with its admin key. */
  static void fund(Grid grid) {
    GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()), grid.adminKey())
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .deposit(DepositRequest.newBuilder().setClientId("client-a").setAmount(FUNDS).setCurrency("AITBC")
            .setIdempotencyKey("fault-test-funds").build());
  }

  /** Wires this client to {@code load}: it pays for and refunds the jobs that {@code load} gets acknowledged. */
  LoadGenerator follow(LoadGenerator load) {
    return load.onAcknowledged(this::acknowledged);
  }

  private void acknowledged(String jobId, String paymentId) {
    if (stopped) {
      return;
    }
    if (paymentId.isEmpty()) {
      pay(jobId);
    } else {
      paidFor(jobId, paymentId);
    }
  }

  private void paidFor(String jobId, String paymentId) {
    paid.put(jobId, paymentId);
    lastPaymentAck.set(System.nanoTime());
    if (refundEvery > 0 && paidSeen.incrementAndGet() % refundEvery == 0 && !stopped) {
      inFlight.incrementAndGet();
      later.schedule(() -> refund(jobId, paymentId, 1), ThreadLocalRandom.current().nextInt(0, 300),
          TimeUnit.MILLISECONDS);
    }
  }

  private void pay(String jobId) {
    inFlight.incrementAndGet();
    pay(jobId, 1);
  }

  private void pay(String jobId, int attempt) {
    long start = System.nanoTime();
    stub.withDeadlineAfter(LoadGenerator.CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .createPayment(CreatePaymentRequest.newBuilder().setJobId(jobId).setAmount(AMOUNT).setCurrency("AITBC")
            .setEscrowTimeoutSeconds(3600).build(), new Answer<>("pay", start, attempt, () -> pay(jobId, attempt + 1)) {
              @Override
              public void onNext(CreatePaymentResponse r) {
                paidFor(jobId, r.getPayment().getPaymentId());
              }
            });
  }

  private void refund(String jobId, String paymentId, int attempt) {
    long start = System.nanoTime();
    stub.withDeadlineAfter(LoadGenerator.CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .refundPayment(RefundPaymentRequest.newBuilder().setPaymentId(paymentId).setJobId(jobId).build(),
            new Answer<>("refund", start, attempt, () -> refund(jobId, paymentId, attempt + 1)) {
              @Override
              public void onNext(RefundPaymentResponse r) {
                if (r.getPayment().getStatus() == PaymentStatus.PAYMENT_STATUS_REFUNDED) {
                  refunded.add(paymentId);
                  lastRefundAck.set(System.nanoTime());
                } else {
                  failed("refund answered " + r.getPayment().getStatus(), start, paymentId);
                }
              }

              @Override
              public void onError(Throwable t) {
                Status s = Status.fromThrowable(t);
                if (s.getCode() == Status.Code.FAILED_PRECONDITION && "SETTLED".equals(reason(t))
                    && String.valueOf(s.getDescription()).contains("is already released")) {
                  refusedAsReleased.add(paymentId);
                  answered();
                } else {
                  super.onError(t);
                }
              }
            });
  }

  private static String reason(Throwable t) {
    var status = StatusProto.fromThrowable(t);
    if (status == null || status.getDetailsCount() == 0) {
      return "";
    }
    try {
      return status.getDetails(0).unpack(ErrorInfo.class).getReason();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return "";
    }
  }

  /**
   * Counts a call's answer: UNAVAILABLE is retried (by {@code retry}) while tries are left; any other
   * error is a failure of {@code what}, by status.
   */
  private abstract class Answer<T> implements StreamObserver<T> {
    private final String what;
    private final long start;
    private final int attempt;
    private final Runnable retry;

    Answer(String what, long start, int attempt, Runnable retry) {
      this.what = what;
      this.start = start;
      this.attempt = attempt;
      this.retry = retry;
    }

    @Override
    public void onError(Throwable t) {
      Status s = Status.fromThrowable(t);
      String status = what + " gRPC " + s.getCode();
      if (retryable(s) && attempt < TRIES) {
        retries.computeIfAbsent(status, k -> new AtomicInteger()).incrementAndGet();
        failureSamples.putIfAbsent(status + " (retried)", String.valueOf(s.getDescription()));
        later.schedule(retry, RETRY_AFTER_MS, TimeUnit.MILLISECONDS);
        return;
      }
      failed(status, start, String.valueOf(s.getDescription()));
      answered();
    }

    @Override
    public void onCompleted() {
      answered();
    }
  }

  /**
   * UNAVAILABLE, or the connection lost under the call: grpc-java reports a connection closed while
   * it writes as UNKNOWN "channel closed" (a ClosedChannelException; grpc/grpc-java#10120), which a
   * SIGKILLed coordinator causes as well as UNAVAILABLE does. Both payment calls are idempotent.
   */
  private static boolean retryable(Status s) {
    return s.getCode() == Status.Code.UNAVAILABLE
        || (s.getCode() == Status.Code.UNKNOWN && (s.getCause() instanceof ClosedChannelException
            || "channel closed".equals(s.getDescription())));
  }

  private void answered() {
    inFlight.decrementAndGet();
  }

  private void failed(String status, long startNanos, String detail) {
    failures.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
    failureSamples.putIfAbsent(status, "at " + LocalTime.now() + " after " + (System.nanoTime() - startNanos) / 1_000_000
        + " ms: " + detail);
  }

  /** The payments the client was told were made, by job id. */
  Map<String, String> paid() {
    return Map.copyOf(paid);
  }

  /** The payments whose refund the client was told was done. */
  Set<String> refunded() {
    return Set.copyOf(refunded);
  }

  /** The payments whose refund was refused because the job's completion had released them first. */
  Set<String> refusedAsReleased() {
    return Set.copyOf(refusedAsReleased);
  }

  /** Calls that failed, by what and status ("pay gRPC UNAVAILABLE", …). */
  Map<String, Integer> failures() {
    Map<String, Integer> copy = new TreeMap<>();
    failures.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  /** Calls answered UNAVAILABLE and retried, by what and status. */
  Map<String, Integer> retries() {
    Map<String, Integer> copy = new TreeMap<>();
    retries.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  /** The first failure (and retry) of each kind. */
  Map<String, String> failureSamples() {
    return new TreeMap<>(failureSamples);
  }

  /** Whether a payment was acknowledged after {@code nanos} ({@link System#nanoTime()}). */
  boolean paymentAcknowledgedAfter(long nanos) {
    return lastPaymentAck.get() - nanos > 0;
  }

  /** Whether a refund was acknowledged after {@code nanos}. */
  boolean refundAcknowledgedAfter(long nanos) {
    return lastRefundAck.get() - nanos > 0;
  }

  /** Stops paying and refunding and waits until every call made has been answered (or has timed out). */
  @Override
  public void close() {
    stopped = true;
    await("payment calls in flight to be answered").atMost(LoadGenerator.CALL_DEADLINE.plusSeconds(30))
        .pollInterval(Duration.ofMillis(20)).until(() -> inFlight.get() == 0);
    later.shutdownNow();
  }
}
