package net.aitbc.grid.ops.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.BackendException;
import net.aitbc.grid.worker.backend.EmbeddedBackend;
import net.aitbc.grid.worker.backend.EmbeddingBatching;
import net.aitbc.grid.worker.backend.JobRun;

/**
 * {@code embedding} jobs of the embedded model through the grid against the same model called
 * directly, same sentences, same concurrency, in the same JVM. Rounds alternate (direct, grid,
 * direct, grid, ...) so that a busy moment of the shared host does not fall on one side only.
 */
final class EmbeddingBench {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final java.util.Set<JobState> TERMINAL = java.util.EnumSet.of(JobState.JOB_STATE_COMPLETED,
      JobState.JOB_STATE_FAILED, JobState.JOB_STATE_CANCELED, JobState.JOB_STATE_EXPIRED);
  private static final String[] TOPICS = {
      "a GPU owner connects a worker to the grid and advertises the models it has loaded",
      "the coordinator commits every job to PostgreSQL before it answers the client",
      "sentence embeddings turn short texts into vectors that can be compared by cosine similarity",
      "a lease that runs out puts the job back in the queue for another worker",
      "clients share the workers fairly by the weights of their keys",
      "the REST bridge translates the command-line client's calls into gRPC",
      "heartbeats keep a worker's session and the leases of its jobs alive",
      "an attempt number fences stale results from a slow or partitioned worker",
  };

  private EmbeddingBench() {}

  /** The i-th benchmark sentence: varied text and length, the same on both sides. */
  static String sentence(int i) {
    return TOPICS[i % TOPICS.length] + " (" + i + ")";
  }

  /**
   * Runs {@code rounds} rounds of {@code k} sentences with {@code concurrency} at a time, direct
   * and through a real WorkerNode connected to the coordinator; the window covers all rounds.
   */
  static BenchGrid.Measured run(BenchGrid grid, String workerKey, int k, int concurrency, int rounds,
      EmbeddingBatching batching, BenchGrid.Window window) {
    List<String> payloads = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      ObjectNode p = JSON.createObjectNode().put("type", "embedding").put("prompt", sentence(i));
      payloads.add(p.toString());
    }
    // One pass per sentence, as a caller of the model would: the worker's batching is what is measured.
    EmbeddedBackend direct = new EmbeddedBackend();
    WorkerNode node = WorkerNode.start(WorkerConfig.builder()
        .coordinator("127.0.0.1:" + grid.coordinator().grpcPort())
        .apiKey(workerKey)
        .workerId("bench-embedding")
        // Beside the run's logs: the benchmark's database is new each run, and so may its key be.
        .stateDir(grid.coordinator().log().resolveSibling("bench-embedding-state"))
        .concurrency(concurrency)
        // Jobs of some milliseconds: one more each slot, so that no slot idles for a dispatch.
        .prefetch(concurrency)
        .embeddedBackend(true)
        .embeddingBatching(batching)
        .noopBackend(false)
        .gpuDetection(false)
        .drainTimeout(Duration.ofSeconds(10))
        .build());
    try {
      awaitRegistered(node);
      JobServiceGrpc.JobServiceStub async = grid.asyncStub();
      long completedAtStart = grid.db().counts().completed();
      // Warm both sides: the model's first runs and the grid's code paths are slower.
      direct(direct, payloads.subList(0, Math.min(k, 20)), concurrency);
      throughGrid(grid, async, payloads.subList(0, Math.min(k, 20)));
      long completedBefore = grid.db().counts().completed();

      window.start();
      List<Double> directRates = new ArrayList<>();
      List<Double> gridRates = new ArrayList<>();
      int errors = 0;
      double gridSeconds = 0;
      for (int r = 0; r < rounds; r++) {
        directRates.add(k / direct(direct, payloads, concurrency));
        Side side = throughGrid(grid, async, payloads);
        gridRates.add(k / side.seconds());
        gridSeconds += side.seconds();
        errors += side.errors();
      }
      window.stop();
      long completedAtEnd = grid.db().counts().completed();
      long completed = completedAtEnd - completedBefore;
      grid.accepted(completedAtEnd - completedAtStart);
      double directMedian = median(directRates);
      double gridMedian = median(gridRates);
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("sentences", k);
      details.put("concurrency", concurrency);
      details.put("rounds", rounds);
      details.put("batch_window_ms", batching.window().toMillis());
      details.put("max_batch", batching.maxBatch());
      details.put("direct_jobs_per_s", Math.round(directMedian * 10) / 10.0);
      details.put("grid_jobs_per_s", Math.round(gridMedian * 10) / 10.0);
      details.put("grid_over_direct", Math.round(gridMedian / directMedian * 1000) / 1000.0);
      details.put("direct_rounds_jobs_per_s", directRates.stream().map(x -> Math.round(x * 10) / 10.0).toList());
      details.put("grid_rounds_jobs_per_s", gridRates.stream().map(x -> Math.round(x * 10) / 10.0).toList());
      details.put("completed_in_db", completed);
      int expected = k * rounds;
      return new BenchGrid.Measured((int) completed, errors + (int) Math.max(0, expected - completed), null,
          BenchGrid.round3(gridSeconds), null, null, null, details, false);
    } finally {
      node.close();
      direct.close();
    }
  }

  /** Embeds every payload with {@code concurrency} threads; returns the seconds it took. */
  private static double direct(EmbeddedBackend backend, List<String> payloads, int concurrency) {
    AtomicInteger next = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < concurrency; t++) {
      threads.add(Thread.ofPlatform().name("bench-embed-" + t).start(() -> {
        for (int i = next.getAndIncrement(); i < payloads.size(); i = next.getAndIncrement()) {
          try {
            backend.run(JobRun.of("embedding", null, (ObjectNode) JSON.readTree(payloads.get(i))));
          } catch (BackendException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the embedded model failed: " + e.getMessage(), e);
          }
        }
      }));
    }
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      }
    }
    return (System.nanoTime() - start) / 1e9;
  }

  private record Side(double seconds, int errors) {}

  /**
   * Submits every payload at once (all calls in flight) and watches each job (WatchJob) until it
   * ends; the time runs from the first submission to the arrival of the last job's terminal state,
   * which the coordinator publishes only after the outcome is committed. Watching costs the
   * coordinator a primary-key read per state change; polling a listing would cost far more.
   */
  private static Side throughGrid(BenchGrid grid, JobServiceGrpc.JobServiceStub async, List<String> payloads) {
    long start = System.nanoTime();
    AtomicLong lastEnd = new AtomicLong(start);
    AtomicInteger failed = new AtomicInteger();
    List<CompletableFuture<Void>> ended = new ArrayList<>();
    for (String p : payloads) {
      CompletableFuture<Void> end = new CompletableFuture<>();
      ended.add(end);
      async.withDeadlineAfter(Submissions.CALL_DEADLINE_MS, TimeUnit.MILLISECONDS).createJob(
          CreateJobRequest.newBuilder().setPayloadJson(p).build(), new StreamObserver<CreateJobResponse>() {
            @Override
            public void onNext(CreateJobResponse value) {
              watch(async, value.getJob().getJobId(), lastEnd, failed, end);
            }

            @Override
            public void onError(Throwable t) {
              failed.incrementAndGet();
              end.complete(null);
            }

            @Override
            public void onCompleted() {
              // The job is watched from onNext.
            }
          });
    }
    try {
      CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new))
          .get(Math.max(0, grid.deadline() - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("embedding jobs still unfinished after the phase timeout");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    grid.acknowledged(payloads.size() - failed.get());
    return new Side((lastEnd.get() - start) / 1e9, failed.get());
  }

  /** Follows one job until its terminal state arrives; notes when, and whether it completed. */
  private static void watch(JobServiceGrpc.JobServiceStub async, String jobId, AtomicLong lastEnd, AtomicInteger failed,
      CompletableFuture<Void> end) {
    async.watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build(), new StreamObserver<WatchJobResponse>() {
      @Override
      public void onNext(WatchJobResponse event) {
        if (event.hasJob() && TERMINAL.contains(event.getJob().getState()) && !end.isDone()) {
          lastEnd.accumulateAndGet(System.nanoTime(), Math::max);
          if (event.getJob().getState() != JobState.JOB_STATE_COMPLETED) {
            failed.incrementAndGet();
          }
          end.complete(null);
        }
      }

      @Override
      public void onError(Throwable t) {
        if (!end.isDone()) {
          failed.incrementAndGet();
          end.complete(null);
        }
      }

      @Override
      public void onCompleted() {
        if (!end.isDone()) {
          failed.incrementAndGet();
          end.complete(null);
        }
      }
    });
  }

  private static void awaitRegistered(WorkerNode node) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!node.isRegistered()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the embedding worker did not register within 60 s");
      }
      LockSupport.parkNanos(20_000_000);
    }
  }

  /** The median (mean of the middle two for an even count, as the peers' summarize.js). */
  static double median(List<Double> values) {
    List<Double> s = values.stream().sorted().toList();
    int n = s.size();
    return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
