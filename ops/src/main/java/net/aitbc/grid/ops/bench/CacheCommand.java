package net.aitbc.grid.ops.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench cache}: submit-to-result latency of a result cache hit (issue 15). A coordinator
 * with the cache on, one bench worker runs a noop job once (filling the cache); then, one call at a
 * time, each identical job is submitted (gRPC CreateJob, answered COMPLETED) and its result read
 * (GetJobResult), and the two calls together are timed. For contrast, each round also times misses
 * the same way: a job with a payload of its own is submitted, watched (WatchJob) until the bench
 * worker has completed it, and its result read.
 */
@Command(name = "cache", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {"Submit-to-result latency of result cache hits: CreateJob of a job identical to one completed, "
        + "then GetJobResult, one at a time, on a coordinator started with --result-cache-ttl."})
final class CacheCommand implements Callable<Integer> {
  private static final String PAYLOAD = "{\"type\":\"noop\",\"echo\":\"bench-cache\"}";

  @Spec CommandSpec spec;

  @Option(names = "--n", defaultValue = "2000", description = "hits per round (default ${DEFAULT-VALUE})")
  int n = 2000;

  @Option(names = "--warmup", defaultValue = "2000", description = "hits before each round, not measured "
      + "(default ${DEFAULT-VALUE})")
  int warmup = 2000;

  @Option(names = "--rounds", defaultValue = "3", description = "measured rounds (default ${DEFAULT-VALUE})")
  int rounds = 3;

  @Mixin CommonOptions common = new CommonOptions();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<Double> p50s = new ArrayList<>();
    List<Double> p99s = new ArrayList<>();
    List<Double> missP50s = new ArrayList<>();
    List<Double> missP99s = new ArrayList<>();
    try (BenchGrid grid = BenchGrid.start(common, out, false, List.of("--result-cache-ttl", "1h"))) {
      JobServiceGrpc.JobServiceBlockingStub stub = grid.blockingStub();
      try (WorkerPool pool = grid.workers("bench-cache", 1, 16, new Tracker(false))) {
        Job first = submit(stub);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (stub.getJob(GetJobRequest.newBuilder().setJobId(first.getJobId()).build()).getJob()
            .getState() != JobState.JOB_STATE_COMPLETED) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("the first job did not complete in 30 s");
          }
          LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
      }
      try (WorkerPool pool = grid.workers("bench-cache-miss", 1, 16, new Tracker(false))) {
        int unique = 0;
        for (int round = 1; round <= rounds; round++) {
          hits(stub, warmup);
          long[] nanos = hits(stub, n);
          report(out, round, "hits", nanos, p50s, p99s);
          misses(stub, warmup / 10, unique);
          unique += warmup / 10;
          long[] missed = misses(stub, n / 10, unique);
          unique += n / 10;
          report(out, round, "misses (run by a worker)", missed, missP50s, missP99s);
        }
      }
    }
    out.printf(Locale.ROOT, "median of %d rounds: hits p50 %.3f ms, p99 %.3f ms; misses p50 %.3f ms, p99 %.3f ms%n",
        rounds, median(p50s), median(p99s), median(missP50s), median(missP99s));
    return 0;
  }

  private static void report(PrintWriter out, int round, String what, long[] nanos, List<Double> p50s,
      List<Double> p99s) {
    Arrays.sort(nanos);
    double p50 = nanos[nanos.length / 2] / 1e6;
    double p99 = nanos[(int) Math.min(nanos.length - 1, Math.ceil(nanos.length * 0.99) - 1)] / 1e6;
    p50s.add(p50);
    p99s.add(p99);
    out.printf(Locale.ROOT, "round %d: %,d %s, submit-to-result p50 %.3f ms, p99 %.3f ms, max %.3f ms%n", round,
        nanos.length, what, p50, p99, nanos[nanos.length - 1] / 1e6);
    out.flush();
  }

  /** Times {@code count} misses: CreateJob of a payload never seen, WatchJob until COMPLETED, GetJobResult. */
  private static long[] misses(JobServiceGrpc.JobServiceBlockingStub stub, int count, int first) {
    long[] nanos = new long[count];
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      Job job = stub.createJob(CreateJobRequest.newBuilder()
          .setPayloadJson("{\"type\":\"noop\",\"echo\":\"miss-" + (first + i) + "\"}").build()).getJob();
      if (job.getCacheHit()) {
        throw new IllegalStateException("job " + job.getJobId() + " hit the cache");
      }
      Iterator<WatchJobResponse> events = stub.withDeadlineAfter(30, TimeUnit.SECONDS)
          .watchJob(WatchJobRequest.newBuilder().setJobId(job.getJobId()).build());
      // The stream ends once the job has: read to its end, so that no call is left open.
      boolean completed = false;
      while (events.hasNext()) {
        WatchJobResponse e = events.next();
        completed |= e.hasJob() && e.getJob().getState() == JobState.JOB_STATE_COMPLETED;
      }
      if (!completed) {
        throw new IllegalStateException("job " + job.getJobId() + " ended without completing");
      }
      stub.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build());
      nanos[i] = System.nanoTime() - start;
    }
    return nanos;
  }

  private static Job submit(JobServiceGrpc.JobServiceBlockingStub stub) {
    return stub.createJob(CreateJobRequest.newBuilder().setPayloadJson(PAYLOAD).build()).getJob();
  }

  /** Times {@code count} hits, each CreateJob then GetJobResult; fails on a miss. */
  private static long[] hits(JobServiceGrpc.JobServiceBlockingStub stub, int count) {
    long[] nanos = new long[count];
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      Job job = submit(stub);
      String result = stub.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId()).build())
          .getResultJson();
      nanos[i] = System.nanoTime() - start;
      if (!job.getCacheHit() || result.isEmpty()) {
        throw new IllegalStateException("job " + job.getJobId() + " missed the cache");
      }
    }
    return nanos;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
  }
}
