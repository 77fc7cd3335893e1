package net.aitbc.grid.coordinator.jmh;

import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.Offer;
import net.aitbc.grid.coordinator.store.Requirements;
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
  private final Offer offer = readOffer();
  private final Requirements constrained =
      Requirements.of("RTX 4090", "12.0", 24, List.of("llama3.2"), "EU", 1);

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
    return Requirements.of("RTX 4090", "", 24, List.of(), "EU", 0);
  }

  /** Reading a worker's capabilities, once per registration. */
  @Benchmark
  public Offer readOffer() {
    return Offer.of(List.of("inference", "embedding"), List.of("llama3.2", "all-minilm-l6-v2"),
        List.of("NVIDIA GeForce RTX 4090"), 24_564, "eu", 0.5, "12.4");
  }
}
