package net.aitbc.grid.ops.bench;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench cache}: submit-to-result latency of a result cache hit (issue 15). A coordinator
 * with the cache on, one bench worker runs a noop job once (filling the cache); then, one call at a
 * time, each identical job is submitted (gRPC CreateJob, answered COMPLETED) and its result read
 * (GetJobResult), and the two calls together are timed.
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
    try (BenchGrid grid = BenchGrid.start(common, out, false, List.of("--result-cache-ttl", "1h"))) {
      JobServiceGrpc.JobServiceBlockingStub stub = grid.blockingStub();
      try (WorkerPool pool = grid.workers("bench-cache", 1, 16, new Tracker(false))) {
        Job first = submit(stub);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (stub.getJobResult(GetJobResultRequest.newBuilder().setJobId(first.getJobId()).build()).getJob()
            .getState() != JobState.JOB_STATE_COMPLETED) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("the first job did not complete in 30 s");
          }
          LockSupport.parkNanos(Duration.ofMillis(5).toNanos());
        }
      }
      for (int round = 1; round <= rounds; round++) {
        hits(stub, warmup);
        long[] nanos = hits(stub, n);
        Arrays.sort(nanos);
        double p50 = nanos[nanos.length / 2] / 1e6;
        double p99 = nanos[(int) Math.min(nanos.length - 1, Math.ceil(nanos.length * 0.99) - 1)] / 1e6;
        p50s.add(p50);
        p99s.add(p99);
        out.printf(Locale.ROOT, "round %d: %,d hits, submit-to-result p50 %.3f ms, p99 %.3f ms, max %.3f ms%n", round,
            n, p50, p99, nanos[nanos.length - 1] / 1e6);
        out.flush();
      }
    }
    out.printf(Locale.ROOT, "cache hits, median of %d rounds: p50 %.3f ms, p99 %.3f ms%n", rounds, median(p50s),
        median(p99s));
    return 0;
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
