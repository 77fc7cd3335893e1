package net.aitbc.grid.ops.faults;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.IntSupplier;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.JobServiceGrpc;

/**
 * Submits noop jobs over gRPC and REST at a steady rate, like many independent clients (a slow
 * answer does not hold the next submission back), and keeps the client's own record: the ids of
 * acknowledged jobs (gRPC OK, HTTP 201) and, by status, the submissions that were refused. A lane
 * may pay for each job as it is submitted ({@code payment_amount}, escrowed with the job).
 */
final class LoadGenerator implements AutoCloseable {
  /** Long enough that a coordinator waiting on a dead database answers before it. */
  static final Duration CALL_DEADLINE = Duration.ofSeconds(15);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TICK_MS = 10;

  private final int limit;
  private final int maxInFlight;
  private final IntSupplier sleepMs;
  private final List<Lane> lanes = new ArrayList<>();
  private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
  private final java.util.Queue<Long> acknowledgedCallStarts = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
  private final Map<String, String> refusalSamples = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ScheduledExecutorService ticker =
      Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("load").daemon().factory());
  private volatile boolean stopped;
  private volatile BiConsumer<String, String> onAcknowledged = (job, payment) -> {};

  /**
   * Stops once {@code limit} jobs are acknowledged; never has more than {@code maxInFlight} calls
   * unanswered. Each job sleeps {@code sleepMs} ms on its worker.
   */
  LoadGenerator(int limit, int maxInFlight, IntSupplier sleepMs) {
    this.limit = limit;
    this.maxInFlight = maxInFlight;
    this.sleepMs = sleepMs;
  }

  /** Adds {@code perSecond} {@code CreateJob} calls a second. */
  LoadGenerator grpc(Channel channel, String key, int perSecond) {
    return grpc(channel, key, perSecond, "");
  }

  /** Adds {@code perSecond} {@code CreateJob} calls a second, each paying {@code amount} AITBC (none if empty). */
  LoadGenerator grpc(Channel channel, String key, int perSecond, String amount) {
    JobServiceGrpc.JobServiceStub stub = GrpcClients.withKey(JobServiceGrpc.newStub(channel), key);
    lanes.add(new Lane(perSecond, () -> submitGrpc(stub, amount)));
    return this;
  }

  /** Adds {@code perSecond} {@code POST /v1/jobs} calls a second on the bridge. */
  LoadGenerator rest(int bridgePort, String key, int perSecond) {
    URI uri = URI.create("http://127.0.0.1:" + bridgePort + "/v1/jobs");
    lanes.add(new Lane(perSecond, () -> submitRest(uri, key)));
    return this;
  }

  /** Tells {@code listener} of each job acknowledged, with its payment's id (empty when unpaid); before start(). */
  LoadGenerator onAcknowledged(BiConsumer<String, String> listener) {
    onAcknowledged = listener;
    return this;
  }

  LoadGenerator start() {
    ticker.scheduleAtFixedRate(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
    return this;
  }

  /** Submits {@code count} jobs over gRPC, one after the other; each must be acknowledged. */
  static Set<String> submitAll(Channel channel, String key, int count, IntSupplier sleepMs) {
    LoadGenerator one = new LoadGenerator(count, 1, sleepMs);
    JobServiceGrpc.JobServiceStub stub = GrpcClients.withKey(JobServiceGrpc.newStub(channel), key);
    for (int i = 0; i < count; i++) {
      one.inFlight.incrementAndGet();
      one.submitGrpc(stub, "").join();
      if (!one.refusals.isEmpty()) {
        throw new AssertionError("submission refused with no fault injected: " + one.refusalSamples);
      }
    }
    one.close();
    return one.acknowledged();
  }

  /** One source of calls and its pace. */
  private static final class Lane {
    final double perTick;
    final java.util.function.Supplier<CompletableFuture<Void>> submit;
    double credit;

    Lane(int perSecond, java.util.function.Supplier<CompletableFuture<Void>> submit) {
      this.perTick = perSecond * TICK_MS / 1000.0;
      this.submit = submit;
    }
  }

  private void tick() {
    for (Lane lane : lanes) {
      lane.credit += lane.perTick;
      while (lane.credit >= 1 && !stopped && acknowledged.size() < limit) {
        if (inFlight.get() >= maxInFlight) {
          lane.credit = 1; // at the cap: no backlog of calls builds up
          break;
        }
        lane.credit--;
        inFlight.incrementAndGet();
        try {
          lane.submit.get();
        } catch (RuntimeException e) {
          refused("not sent: " + e.getClass().getSimpleName(), System.nanoTime(), e.toString());
          inFlight.decrementAndGet();
        }
      }
    }
  }

  private String payload() {
    return "{\"type\":\"noop\",\"sleep_ms\":" + sleepMs.getAsInt() + "}";
  }

  private CompletableFuture<Void> submitGrpc(JobServiceGrpc.JobServiceStub stub, String amount) {
    long start = System.nanoTime();
    CompletableFuture<Void> done = new CompletableFuture<>();
    stub.withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .createJob(CreateJobRequest.newBuilder()
            .setPayloadJson(payload())
            .setRequestId(UUID.randomUUID().toString())
            .setMaxAttempts(10)
            .setPaymentAmount(amount)
            .build(), new StreamObserver<>() {
              @Override
              public void onNext(CreateJobResponse response) {
                if (!amount.isEmpty() && response.getJob().getPaymentId().isEmpty()) {
                  refused("gRPC OK without a payment", start, response.getJob().getJobId());
                }
                acknowledged(response.getJob().getJobId(), start);
                onAcknowledged.accept(response.getJob().getJobId(), response.getJob().getPaymentId());
              }

              @Override
              public void onError(Throwable t) {
                Status status = Status.fromThrowable(t);
                refused("gRPC " + status.getCode(), start, String.valueOf(status.getDescription()));
                answered(done);
              }

              @Override
              public void onCompleted() {
                answered(done);
              }
            });
    return done;
  }

  private CompletableFuture<Void> submitRest(URI uri, String key) {
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(CALL_DEADLINE)
        .header("X-Api-Key", key)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", UUID.randomUUID().toString())
        .POST(HttpRequest.BodyPublishers.ofString("{\"payload\":" + payload() + ",\"ttl_seconds\":600}"))
        .build();
    long start = System.nanoTime();
    CompletableFuture<Void> done = new CompletableFuture<>();
    http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
      try {
        if (error != null) {
          refused("HTTP " + error.getClass().getSimpleName(), start, String.valueOf(error.getMessage()));
        } else if (response.statusCode() == 201) {
          String jobId = JSON.readTree(response.body()).get("job_id").asText();
          acknowledged(jobId, start);
          onAcknowledged.accept(jobId, "");
        } else {
          refused("HTTP " + response.statusCode(), start, response.body());
        }
      } catch (Exception e) {
        refused("HTTP unreadable answer", start, e.toString());
      } finally {
        answered(done);
      }
    });
    return done;
  }

  private void acknowledged(String jobId, long startNanos) {
    acknowledged.add(jobId);
    acknowledgedCallStarts.add(startNanos);
  }

  private void answered(CompletableFuture<Void> done) {
    inFlight.decrementAndGet();
    done.complete(null);
  }

  private void refused(String status, long startNanos, String detail) {
    refusals.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
    refusalSamples.putIfAbsent(status, "at " + LocalTime.now() + " after " + (System.nanoTime() - startNanos) / 1_000_000
        + " ms: " + detail);
  }

  /** The ids of the jobs acknowledged so far. */
  Set<String> acknowledged() {
    return Set.copyOf(acknowledged);
  }

  int acknowledgedCount() {
    return acknowledged.size();
  }

  /** How many acknowledged submissions were sent after {@code nanos} ({@link System#nanoTime()}). */
  long acknowledgedSentAfter(long nanos) {
    return acknowledgedCallStarts.stream().filter(t -> t - nanos > 0).count();
  }

  /** Refused submissions so far, by status ("gRPC UNAVAILABLE", "HTTP 503", …). */
  Map<String, Integer> refusals() {
    Map<String, Integer> copy = new TreeMap<>();
    refusals.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  /** The refusals counted in {@code after} but not yet in {@code before}. */
  static Map<String, Integer> since(Map<String, Integer> after, Map<String, Integer> before) {
    Map<String, Integer> diff = new TreeMap<>();
    after.forEach((k, v) -> {
      if (v > before.getOrDefault(k, 0)) {
        diff.put(k, v - before.getOrDefault(k, 0));
      }
    });
    return diff;
  }

  /** The first refusal of each status: when it came, how long the call took, and its detail. */
  Map<String, String> refusalSamples() {
    return new TreeMap<>(refusalSamples);
  }

  /** Stops submitting and waits until every call made has been answered (or has timed out). */
  @Override
  public void close() {
    stopped = true;
    ticker.shutdownNow();
    await("calls in flight to be answered").atMost(CALL_DEADLINE.plusSeconds(5)).pollInterval(Duration.ofMillis(20))
        .until(() -> inFlight.get() == 0);
    http.close();
  }
}
