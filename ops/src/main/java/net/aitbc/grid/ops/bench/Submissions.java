package net.aitbc.grid.ops.bench;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.JobServiceGrpc;
import org.jspecify.annotations.Nullable;

/**
 * Submission loops, each of N single-job calls: closed-loop producers that await each call (the
 * peers' enqueue_single shape), or one caller keeping a number of calls in flight. A call counts
 * only when it was acknowledged (gRPC OK, HTTP 201), which the coordinator sends only after the
 * job is committed; everything else is an error, counted by kind.
 */
final class Submissions {
  /** What every no-op job carries. */
  static final String PAYLOAD = "{\"type\":\"noop\"}";
  /** The bridge's body for the same job. */
  static final String REST_BODY = "{\"payload\":" + PAYLOAD + ",\"ttl_seconds\":3600}";
  /** Long enough that only a stuck coordinator hits it. */
  static final long CALL_DEADLINE_MS = 30_000;

  static final CreateJobRequest NOOP = CreateJobRequest.newBuilder()
      .setPayloadJson(PAYLOAD)
      .setTtl(com.google.protobuf.Duration.newBuilder().setSeconds(3600))
      .build();

  private Submissions() {}

  /** One call's answer: null when acknowledged, else the error's kind and a sample message. */
  record Failure(String kind, String message) {}

  /** The calls of one loop: how many succeeded, each successful call's latency, errors by kind. */
  static final class Log {
    private final long[] latencies;
    private final AtomicInteger ok = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final Map<String, String> errorKinds = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> errorCounts = new ConcurrentHashMap<>();

    /** A log with room for {@code n} latencies. */
    Log(int n) {
      latencies = new long[n];
    }

    /** An acknowledged call that took this long. */
    void succeeded(long nanos) {
      latencies[ok.getAndIncrement()] = nanos;
    }

    /** A call that failed. */
    void failed(Failure f) {
      failed.incrementAndGet();
      errorCounts.computeIfAbsent(f.kind(), k -> new AtomicInteger()).incrementAndGet();
      errorKinds.putIfAbsent(f.kind(), f.message());
    }

    /** Acknowledged calls. */
    int ok() {
      return ok.get();
    }

    /** Failed calls. */
    int errors() {
      return failed.get();
    }

    /** Each error kind with its count and a sample message, or null when there were none. */
    @Nullable Map<String, String> errorKinds() {
      if (errorCounts.isEmpty()) {
        return null;
      }
      Map<String, String> out = new TreeMap<>();
      errorCounts.forEach((k, v) -> out.put(k, v.get() + "x: " + errorKinds.get(k)));
      return out;
    }

    /** Per-call latency of the acknowledged calls. */
    Results.Latency latency() {
      return Results.Latency.ofNanos(latencies, ok.get());
    }
  }

  /**
   * {@code producers} threads, each making one call at a time until {@code n} calls were made or the
   * deadline (System.nanoTime) passed. {@code call} returns null when acknowledged.
   */
  static Log closedLoop(int n, int producers, long deadlineNanos, IntFunction<@Nullable Failure> call) {
    Log log = new Log(n);
    AtomicInteger next = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int producer = p;
      threads.add(Thread.ofPlatform().name("bench-producer-" + p).start(() -> {
        while (System.nanoTime() < deadlineNanos) {
          int i = next.getAndIncrement();
          if (i >= n) {
            return;
          }
          long start = System.nanoTime();
          Failure f = call.apply(producer);
          if (f == null) {
            log.succeeded(System.nanoTime() - start);
          } else {
            log.failed(f);
          }
        }
      }));
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return log;
  }

  /**
   * One caller keeping up to {@code inFlight} calls outstanding until {@code n} were made or the
   * deadline passed; waits for the last answers. {@code call} completes with null when acknowledged.
   */
  static Log inFlight(int n, int inFlight, long deadlineNanos,
      java.util.function.Supplier<CompletableFuture<@Nullable Failure>> call) {
    Log log = new Log(n);
    Semaphore slots = new Semaphore(inFlight);
    try {
      for (int i = 0; i < n && System.nanoTime() < deadlineNanos; i++) {
        slots.acquire();
        long start = System.nanoTime();
        call.get().whenComplete((f, error) -> {
          long took = System.nanoTime() - start;
          if (error != null) {
            log.failed(new Failure("client " + error.getClass().getSimpleName(), String.valueOf(error.getMessage())));
          } else if (f == null) {
            log.succeeded(took);
          } else {
            log.failed(f);
          }
          slots.release();
        });
      }
      // Every answer is in once all the slots are back.
      if (!slots.tryAcquire(inFlight, CALL_DEADLINE_MS + 5_000, TimeUnit.MILLISECONDS)) {
        log.failed(new Failure("unanswered", "calls still in flight after the deadline"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return log;
  }

  /** A blocking CreateJob: null when acknowledged. */
  static @Nullable Failure createJob(JobServiceGrpc.JobServiceBlockingStub stub) {
    try {
      stub.withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS).createJob(NOOP);
      return null;
    } catch (StatusRuntimeException e) {
      return grpcFailure(e);
    }
  }

  /** An asynchronous CreateJob of a no-op job: completes with null when acknowledged. */
  static CompletableFuture<@Nullable Failure> createJobAsync(JobServiceGrpc.JobServiceStub stub) {
    return createJobAsync(stub, NOOP);
  }

  /** An asynchronous CreateJob of this request: completes with null when acknowledged. */
  static CompletableFuture<@Nullable Failure> createJobAsync(JobServiceGrpc.JobServiceStub stub,
      CreateJobRequest request) {
    CompletableFuture<@Nullable Failure> done = new CompletableFuture<>();
    stub.withDeadlineAfter(CALL_DEADLINE_MS, TimeUnit.MILLISECONDS).createJob(request, new StreamObserver<>() {
      @Override
      public void onNext(CreateJobResponse value) {
        // The acknowledgement; onCompleted follows.
      }

      @Override
      public void onError(Throwable t) {
        done.complete(grpcFailure(t));
      }

      @Override
      public void onCompleted() {
        done.complete(null);
      }
    });
    return done;
  }

  private static Failure grpcFailure(Throwable t) {
    Status s = Status.fromThrowable(t);
    return new Failure("gRPC " + s.getCode(), String.valueOf(s.getDescription()));
  }

  /** The bridge's {@code POST /v1/jobs} for one no-op job with this client key. */
  static Function<WebClient, CompletableFuture<@Nullable Failure>> restCreate(String clientKey) {
    RequestHeaders headers = RequestHeaders.builder(HttpMethod.POST, "/v1/jobs")
        .contentType(MediaType.JSON_UTF_8)
        .add("x-api-key", clientKey)
        .build();
    HttpData body = HttpData.ofUtf8(REST_BODY);
    return client -> client.execute(headers, body).aggregate().thenApply(Submissions::restFailure);
  }

  private static @Nullable Failure restFailure(AggregatedHttpResponse r) {
    int code = r.status().code();
    if (code == 201) {
      return null;
    }
    String text = r.contentUtf8();
    return new Failure("HTTP " + code, text.length() > 300 ? text.substring(0, 300) : text);
  }
}
