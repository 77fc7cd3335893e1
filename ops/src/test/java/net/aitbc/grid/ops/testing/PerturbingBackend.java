package net.aitbc.grid.ops.testing;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import net.aitbc.grid.worker.backend.Backend;
import net.aitbc.grid.worker.backend.BackendException;
import net.aitbc.grid.worker.backend.JobOutcome;
import net.aitbc.grid.worker.backend.JobRun;
import org.jspecify.annotations.Nullable;

/**
 * A byzantine backend for tests: runs each job on the backend it wraps, then turns every embedding
 * vector of the result ({@code embedding}, or each of {@code embeddings}) by a fixed angle, so that
 * its cosine similarity to the true vector is {@code similarity} (0.95 by default) while its length
 * (unit, for the embedded model), its dimension and its number format stay those of the true one:
 * wrong, but not obviously so. Everything else (other job types, the metrics, the backend's name and
 * models) passes through unchanged, so the coordinator cannot tell it from an honest worker.
 *
 * <p>The turn is towards a pseudo-random direction drawn from {@code seed} and the vector itself:
 * the same text gets the same wrong vector on every run, as a deterministic cheat would.
 */
public final class PerturbingBackend implements Backend {
  /** Close to the truth, yet well below what a consensus on embeddings should accept. */
  public static final double DEFAULT_SIMILARITY = 0.95;

  private final Backend delegate;
  private final double similarity;
  private final long seed;
  private final AtomicInteger perturbed = new AtomicInteger();

  /**
   * Wraps {@code delegate}.
   *
   * @param similarity the cosine similarity of each wrong vector to the true one, in (-1, 1)
   * @param seed picks the direction of the turn
   */
  public PerturbingBackend(Backend delegate, double similarity, long seed) {
    this.delegate = requireNonNull(delegate, "delegate");
    if (!(similarity > -1 && similarity < 1)) {
      throw new IllegalArgumentException("similarity must be in (-1, 1), got " + similarity);
    }
    this.similarity = similarity;
    this.seed = seed;
  }

  /** A decorator for {@link WorkerFleet.Builder#decorate}: wraps a backend with this similarity. */
  public static UnaryOperator<Backend> decorator(double similarity, long seed) {
    return b -> new PerturbingBackend(b, similarity, seed);
  }

  /** How many job results it has turned so far. */
  public int perturbed() {
    return perturbed.get();
  }

  /** The similarity it turns vectors to. */
  public double similarity() {
    return similarity;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public Set<String> jobTypes() {
    return delegate.jobTypes();
  }

  @Override
  public List<String> models() {
    return delegate.models();
  }

  @Override
  public boolean supports(String type, @Nullable String model) {
    return delegate.supports(type, model);
  }

  @Override
  public JobOutcome run(JobRun run) throws BackendException {
    JobOutcome honest = delegate.run(run);
    ObjectNode result = honest.result();
    boolean turned = false;
    if (result.path("embedding").isArray()) {
      result.set("embedding", turn((ArrayNode) result.get("embedding")));
      turned = true;
    }
    if (result.path("embeddings").isArray()) {
      ArrayNode vectors = JsonNodeFactory.instance.arrayNode();
      for (JsonNode vector : result.get("embeddings")) {
        vectors.add(vector.isArray() ? turn((ArrayNode) vector) : vector);
      }
      result.set("embeddings", vectors);
      turned = true;
    }
    if (turned) {
      perturbed.incrementAndGet();
    }
    return new JobOutcome(result, honest.metrics());
  }

  @Override
  public void close() {
    delegate.close();
  }

  private ArrayNode turn(ArrayNode vector) {
    double[] v = new double[vector.size()];
    boolean floats = true;
    for (int i = 0; i < v.length; i++) {
      v[i] = vector.get(i).asDouble();
      floats &= vector.get(i).isFloat();
    }
    double[] w = turn(v, similarity, new SplittableRandom(seed ^ Arrays.hashCode(v)));
    ArrayNode out = JsonNodeFactory.instance.arrayNode(w.length);
    for (double x : w) {
      // As the wrapped backend wrote its numbers (the embedded model writes floats).
      if (floats) {
        out.add((float) x);
      } else {
        out.add(x);
      }
    }
    return out;
  }

  /**
   * {@code v} turned towards a random direction orthogonal to it, so that {@code cos(v, result) =
   * similarity} and {@code |result| = |v|}; a zero vector stays zero.
   */
  public static double[] turn(double[] v, double similarity, SplittableRandom random) {
    if (v.length < 2) {
      throw new IllegalArgumentException("a vector of " + v.length + " numbers cannot be turned");
    }
    double norm = Math.sqrt(dot(v, v));
    if (norm == 0) {
      return v.clone();
    }
    double[] u = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      u[i] = v[i] / norm;
    }
    double[] w = new double[v.length];
    double wNorm = 0;
    // A random direction less its component along u (Gram-Schmidt); redraw in the unlikely case it
    // is (almost) parallel to u.
    while (wNorm < 1e-6) {
      for (int i = 0; i < w.length; i++) {
        w[i] = random.nextDouble(-1, 1);
      }
      double along = dot(w, u);
      for (int i = 0; i < w.length; i++) {
        w[i] -= along * u[i];
      }
      wNorm = Math.sqrt(dot(w, w));
    }
    double sin = Math.sqrt(1 - similarity * similarity);
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = norm * (similarity * u[i] + sin * w[i] / wNorm);
    }
    return out;
  }

  /** The cosine similarity of two vectors of the same length. */
  public static double cosine(double[] a, double[] b) {
    return dot(a, b) / Math.sqrt(dot(a, a) * dot(b, b));
  }

  private static double dot(double[] a, double[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += a[i] * b[i];
    }
    return sum;
  }
}
