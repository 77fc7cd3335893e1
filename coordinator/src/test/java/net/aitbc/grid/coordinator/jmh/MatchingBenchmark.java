package net.aitbc.grid.coordinator.jmh;

import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.Offer;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.Gpu;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Matching a job's requirements against a worker's offer: done for every direct dispatch and waiting_for. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class MatchingBenchmark {
  private final WorkerCapabilities capabilities = WorkerCapabilities.newBuilder()
      .addJobTypes("inference").addJobTypes("embedding").addModels("llama3.2").addModels("all-minilm-l6-v2")
      .addGpus(Gpu.newBuilder().setModel("NVIDIA GeForce RTX 4090").setMemoryMb(24_564))
      .setRegion("eu").setPrice(0.5).setCuda("12.4").setConcurrency(4).build();
  private final Offer offer = Offer.of(capabilities);
  private final Requirements constrained = Requirements.of(Constraints.newBuilder()
      .setGpu("RTX 4090").setMinVramGb(24).setRegion("EU").addModels("llama3.2").setCuda("12.0").setMaxPrice(1).build());

  /** A job without constraints. */
  @Benchmark
  public boolean matchUnconstrained() {
    return offer.runs("inference", "llama3.2") && Requirements.NONE.satisfiedBy(offer);
  }

  /** A job with every kind of constraint. */
  @Benchmark
  public boolean matchConstrained() {
    return offer.runs("inference", "llama3.2") && constrained.satisfiedBy(offer);
  }

  /** Normalising a client's constraints, once per submission. */
  @Benchmark
  public Requirements normaliseConstraints() {
    return Requirements.of(Constraints.newBuilder().setGpu("RTX 4090").setMinVramGb(24).setRegion("EU").build());
  }

  /** Reading a worker's capabilities, once per registration. */
  @Benchmark
  public Offer readOffer() {
    return Offer.of(capabilities);
  }
}
