package net.aitbc.grid.coordinator.swarm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import net.aitbc.grid.ledger.CanonicalJson;
import org.jspecify.annotations.Nullable;

/**
 * How two results of one job type are compared (README "Swarms" says why each rule): equal hashes
 * of the canonical result for deterministic types, cosine similarity of the vectors for {@code
 * embedding}, and the Jaccard similarity of word bigrams for {@code inference}, whose text may differ
 * by a few tokens between machines. A result without the vectors or text its rule reads is compared
 * by hash.
 */
public sealed interface Comparison {
  /** Embedding vectors of one model on two machines differ by float rounding: far less than this. */
  double EMBEDDING_SIMILARITY = 0.999;
  /** Tolerates about one word in ten substituted in a generated text; unrelated texts score near 0. */
  double INFERENCE_SIMILARITY = 0.6;

  /** How similar two results are, 0 to 1 (1: equal). */
  double similarity(JsonNode a, JsonNode b);

  /** The least similarity at which two results agree. */
  double bound();

  /** The rule in words. */
  String describe();

  /** Whether two results agree. */
  default boolean agree(JsonNode a, JsonNode b) {
    return similarity(a, b) >= bound();
  }

  /** The rule for {@code type}; {@code similarity}, when given, overrides its bound (not the hash rule's). */
  static Comparison forType(String type, @Nullable Double similarity) {
    return switch (type) {
      case "embedding" -> new Vectors(similarity == null ? EMBEDDING_SIMILARITY : similarity);
      case "inference" -> new Texts(similarity == null ? INFERENCE_SIMILARITY : similarity);
      default -> new Hashes();
    };
  }

  /** SHA-256 (hex) of a result's canonical JSON, as receipts hash results. */
  static String sha256(JsonNode result) {
    return CanonicalJson.sha256Hex(result);
  }

  /** Equal canonical JSON, leaving out a top-level {@code worker_id} (who ran it is not what it computed). */
  record Hashes() implements Comparison {
    @Override
    public double similarity(JsonNode a, JsonNode b) {
      return CanonicalJson.write(comparable(a)).equals(CanonicalJson.write(comparable(b))) ? 1 : 0;
    }

    @Override
    public double bound() {
      return 1;
    }

    @Override
    public String describe() {
      return "equal SHA-256 of the canonical result JSON (a top-level worker_id left out)";
    }

    private static JsonNode comparable(JsonNode result) {
      if (result instanceof ObjectNode o && o.has("worker_id")) {
        ObjectNode copy = o.deepCopy();
        copy.remove("worker_id");
        return copy;
      }
      return result;
    }
  }

  /**
   * The least cosine similarity of corresponding vectors ({@code embedding}, or each of {@code
   * embeddings}); 0 when their counts or dimensions differ.
   */
  record Vectors(double bound) implements Comparison {
    @Override
    public double similarity(JsonNode a, JsonNode b) {
      List<double[]> va = vectors(a);
      List<double[]> vb = vectors(b);
      if (va == null || vb == null) {
        return va == null && vb == null ? new Hashes().similarity(a, b) : 0;
      }
      if (va.size() != vb.size()) {
        return 0;
      }
      double least = 1;
      for (int i = 0; i < va.size(); i++) {
        least = Math.min(least, cosine(va.get(i), vb.get(i)));
      }
      return least;
    }

    @Override
    public String describe() {
      return "cosine similarity of every embedding vector >= " + bound;
    }

    /** The vectors of a result, or null when it has none. */
    static @Nullable List<double[]> vectors(JsonNode result) {
      JsonNode many = result.get("embeddings");
      if (many != null && many.isArray() && !many.isEmpty()) {
        List<double[]> out = new ArrayList<>(many.size());
        for (JsonNode v : many) {
          double[] vector = vector(v);
          if (vector == null) {
            return null;
          }
          out.add(vector);
        }
        return out;
      }
      double[] one = vector(result.get("embedding"));
      return one == null ? null : List.of(one);
    }

    private static double @Nullable [] vector(@Nullable JsonNode node) {
      if (node == null || !node.isArray() || node.isEmpty()) {
        return null;
      }
      double[] v = new double[node.size()];
      for (int i = 0; i < v.length; i++) {
        JsonNode x = node.get(i);
        if (!x.isNumber()) {
          return null;
        }
        v[i] = x.doubleValue();
      }
      return v;
    }

    /** Cosine similarity clamped to [0, 1]; two zero vectors are equal, one zero vector is not. */
    static double cosine(double[] a, double[] b) {
      if (a.length != b.length) {
        return 0;
      }
      double dot = 0;
      double na = 0;
      double nb = 0;
      for (int i = 0; i < a.length; i++) {
        dot += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
      }
      if (na == 0 || nb == 0) {
        return na == nb ? 1 : 0;
      }
      return Math.clamp(dot / Math.sqrt(na * nb), 0, 1);
    }
  }

  /**
   * The Jaccard similarity of the texts' sets of word bigrams (of words, for texts under two words),
   * after NFKC normalisation, lower case, and punctuation dropped.
   */
  record Texts(double bound) implements Comparison {
    private static final List<String> FIELDS = List.of("output", "text", "response", "content");

    @Override
    public double similarity(JsonNode a, JsonNode b) {
      String ta = text(a);
      String tb = text(b);
      if (ta == null || tb == null) {
        return ta == null && tb == null ? new Hashes().similarity(a, b) : 0;
      }
      return jaccard(shingles(ta), shingles(tb));
    }

    @Override
    public String describe() {
      return "Jaccard similarity of the generated texts' word bigrams >= " + bound;
    }

    /** The generated text of a result: the first of its text fields, or null. */
    static @Nullable String text(JsonNode result) {
      for (String field : FIELDS) {
        JsonNode t = result.get(field);
        if (t != null && t.isTextual()) {
          return t.textValue();
        }
      }
      return null;
    }

    /** The word bigrams of a text ("a b", "b c", ...); its words when it has fewer than two. */
    static Set<String> shingles(String text) {
      String normal = Normalizer.normalize(text, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT)
          .replaceAll("[^\\p{L}\\p{N}]+", " ").strip();
      if (normal.isEmpty()) {
        return Set.of();
      }
      String[] words = normal.split(" ");
      if (words.length < 2) {
        return Set.of(words);
      }
      Set<String> out = new HashSet<>(words.length * 2);
      for (int i = 0; i + 1 < words.length; i++) {
        out.add(words[i] + ' ' + words[i + 1]);
      }
      return out;
    }

    static double jaccard(Set<String> a, Set<String> b) {
      if (a.isEmpty() && b.isEmpty()) {
        return 1;
      }
      Set<String> small = a.size() <= b.size() ? a : b;
      Set<String> large = small == a ? b : a;
      int common = 0;
      for (String s : small) {
        if (large.contains(s)) {
          common++;
        }
      }
      return (double) common / (a.size() + b.size() - common);
    }
  }
}
