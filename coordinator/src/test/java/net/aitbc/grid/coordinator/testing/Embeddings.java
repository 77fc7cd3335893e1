package net.aitbc.grid.coordinator.testing;

import java.util.Locale;
import java.util.Random;
import java.util.StringJoiner;

/**
 * Embedding results for swarm tests: one unit vector of 384 numbers (all-MiniLM-L6-v2's size), as an
 * honest worker returns it, a copy with float-rounding noise (another honest machine), and a copy
 * perturbed as a subtly wrong worker would return it (still a unit vector, cosine about 0.98).
 */
public final class Embeddings {
  /** all-MiniLM-L6-v2's dimensions. */
  public static final int DIMENSIONS = 384;

  private Embeddings() {}

  /** The honest vector for {@code seed}. */
  public static double[] vector(long seed) {
    Random r = new Random(seed);
    double[] v = new double[DIMENSIONS];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextGaussian();
    }
    return normalised(v);
  }

  /** {@code v} with relative noise of about {@code scale} per element, normalised again. */
  public static double[] noisy(double[] v, double scale, long seed) {
    Random r = new Random(seed);
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] + r.nextGaussian() * scale / Math.sqrt(v.length);
    }
    return normalised(out);
  }

  /** A result {@code {"embedding": [...], "dimensions": 384, "model": "all-minilm-l6-v2"}}. */
  public static String result(double[] v) {
    return "{\"embedding\":" + array(v) + ",\"dimensions\":" + v.length + ",\"model\":\"all-minilm-l6-v2\"}";
  }

  /** A batch result {@code {"embeddings": [[...], ...]}}. */
  public static String batch(double[]... vs) {
    StringJoiner j = new StringJoiner(",", "[", "]");
    for (double[] v : vs) {
      j.add(array(v));
    }
    return "{\"embeddings\":" + j + ",\"dimensions\":" + DIMENSIONS + ",\"model\":\"all-minilm-l6-v2\"}";
  }

  /** Cosine similarity. */
  public static double cosine(double[] a, double[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  private static String array(double[] v) {
    StringJoiner j = new StringJoiner(",", "[", "]");
    for (double x : v) {
      // Eight significant digits, as float32 models write them.
      j.add(String.format(Locale.ROOT, "%.8g", x));
    }
    return j.toString();
  }

  private static double[] normalised(double[] v) {
    double n = 0;
    for (double x : v) {
      n += x * x;
    }
    n = Math.sqrt(n);
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] / n;
    }
    return out;
  }
}
