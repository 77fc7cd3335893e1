package net.aitbc.grid.coordinator.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.swarm.Comparison;
import net.aitbc.grid.coordinator.swarm.Consensus;
import net.aitbc.grid.coordinator.testing.Embeddings;
import net.aitbc.grid.ledger.CanonicalJson;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What comparing swarm members' results costs: two 384-number embedding vectors by cosine, two
 * 2,000-word generated texts by word-bigram Jaccard, and a whole consensus decision over three
 * embedding results (each hashed as canonical JSON, then compared).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ComparisonBenchmark {
  private static final Comparison VECTORS = Comparison.forType("embedding", null);
  private static final Comparison TEXTS = Comparison.forType("inference", null);

  private final double[] honest = Embeddings.vector(1);
  private final JsonNode vectorA = CanonicalJson.parse(Embeddings.result(honest));
  private final JsonNode vectorB = CanonicalJson.parse(Embeddings.result(Embeddings.noisy(honest, 1e-4, 2)));
  private final JsonNode vectorC = CanonicalJson.parse(Embeddings.result(Embeddings.noisy(honest, 0.2, 3)));
  private final JsonNode textA = text(1, 0);
  private final JsonNode textB = text(1, 0.05);

  /** About 2,000 words from a 500-word vocabulary; {@code changed} of them replaced with other words. */
  private static JsonNode text(long seed, double changed) {
    Random r = new Random(seed);
    Random edits = new Random(seed + 100);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      int word = r.nextInt(500);
      b.append(edits.nextDouble() < changed ? "other" + edits.nextInt(500) : "word" + word).append(' ');
    }
    return CanonicalJson.parse("{\"output\":\"" + b.toString().strip() + "\"}");
  }

  /** Two 384-number vectors. */
  @Benchmark
  public double cosine384() {
    return VECTORS.similarity(vectorA, vectorB);
  }

  /** Two 2,000-word texts. */
  @Benchmark
  public double jaccard2000Words() {
    return TEXTS.similarity(textA, textB);
  }

  /** A decision over three embedding results: three canonical hashes and up to three comparisons. */
  @Benchmark
  public Consensus.Decision decideThreeEmbeddings() {
    return Consensus.decide(List.of(new Consensus.Entry("w1", new UUID(0, 1), vectorA),
        new Consensus.Entry("w2", new UUID(0, 2), vectorC), new Consensus.Entry("w3", new UUID(0, 3), vectorB)),
        0.66, VECTORS);
  }
}
