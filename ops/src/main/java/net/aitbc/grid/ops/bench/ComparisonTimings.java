package net.aitbc.grid.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.function.IntToDoubleFunction;
import net.aitbc.grid.coordinator.swarm.Comparison;
import net.aitbc.grid.coordinator.swarm.Consensus;
import net.aitbc.grid.ledger.CanonicalJson;

/**
 * What comparing swarm results costs the coordinator, timed in this JVM on the coordinator's own
 * code: two embedding results of 384 numbers (cosine similarity), two generated texts of 2,000
 * tokens that differ by sampling noise (word-bigram Jaccard), and a whole decision over three
 * results of each (each result's canonical hash, then the comparisons), with the parse of a stored
 * result. A timing loop without JMH: warm-up, then batches of calls; the median batch's CPU
 * nanoseconds per call (the timing thread's CPU time, so that other work on a shared host does not
 * count) are reported.
 */
final class ComparisonTimings {
  /** The embedding model's dimensions. */
  static final int DIMENSIONS = 384;
  /** Tokens of a generated text: words here, as the rule splits them. */
  static final int TOKENS = 2000;
  private static final int VOCABULARY = 600;
  private static final Duration BATCH = Duration.ofMillis(200);
  /** CPU time of the timing thread: what a call costs, whatever else the shared host runs meanwhile. */
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
  private static final int MIN_CALLS = 5;

  private ComparisonTimings() {}

  /**
   * Times every operation in {@code batches} batches of at most {@code iterations} calls, each after
   * {@code warmup} of CPU; returns the figures by operation (nanoseconds per call).
   */
  static Map<String, Object> run(int iterations, int batches, Duration warmup) {
    SplittableRandom random = new SplittableRandom(42);
    double[] honest = unit(random);
    // Another machine's rounding, and a byzantine turn: both go through the whole comparison.
    String honestText = embedding(honest);
    String roundedText = embedding(rounded(honest, random));
    String turnedText = embedding(turned(honest, random));
    JsonNode a = CanonicalJson.parse(honestText);
    JsonNode b = CanonicalJson.parse(roundedText);
    JsonNode c = CanonicalJson.parse(turnedText);

    List<String> words = words(random);
    String textA = inference(words);
    String textB = inference(noisy(words, 0.05, random));
    String textC = inference(noisy(words, 0.5, random));
    JsonNode ta = CanonicalJson.parse(textA);
    JsonNode tb = CanonicalJson.parse(textB);
    JsonNode tc = CanonicalJson.parse(textC);

    Comparison vectors = Comparison.forType("embedding", null);
    Comparison texts = Comparison.forType("inference", null);
    List<Consensus.Entry> vectorEntries = entries(a, b, c);
    List<Consensus.Entry> textEntries = entries(ta, tb, tc);

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("embedding_similarity", time(iterations, batches, warmup, i -> vectors.similarity(a, b)));
    out.put("embedding_decision_3", time(iterations, batches, warmup,
        i -> Consensus.decide(vectorEntries, 0.66, vectors).groups().size()));
    out.put("embedding_parse", time(iterations, batches, warmup, i -> CanonicalJson.parse(roundedText).size()));
    out.put("text_similarity", time(iterations, batches, warmup, i -> texts.similarity(ta, tb)));
    out.put("text_decision_3", time(iterations, batches, warmup,
        i -> Consensus.decide(textEntries, 0.66, texts).groups().size()));
    out.put("text_parse", time(iterations, batches, warmup, i -> CanonicalJson.parse(textB).size()));
    out.put("embedding_result_bytes", roundedText.length());
    out.put("text_result_bytes", textB.length());
    out.put("similarities", Map.of(
        "embedding_rounded", round(vectors.similarity(a, b)), "embedding_turned", round(vectors.similarity(a, c)),
        "text_5pct_noise", round(texts.similarity(ta, tb)), "text_50pct_noise", round(texts.similarity(ta, tc))));
    return out;
  }

  /** One line per figure, for the report. */
  static List<String> lines(Map<String, Object> r) {
    List<String> out = new ArrayList<>();
    out.add(String.format(Locale.ROOT, "  %d-number embedding (%,d bytes of JSON): cosine %s us, decision over 3 "
            + "results %s us, parse of one result %s us", DIMENSIONS, r.get("embedding_result_bytes"),
        us(r.get("embedding_similarity")), us(r.get("embedding_decision_3")), us(r.get("embedding_parse"))));
    out.add(String.format(Locale.ROOT, "  %,d-token text (%,d bytes of JSON): bigram Jaccard %s us, decision over 3 "
            + "results %s us, parse of one result %s us", TOKENS, r.get("text_result_bytes"),
        us(r.get("text_similarity")), us(r.get("text_decision_3")), us(r.get("text_parse"))));
    out.add("  similarities: " + r.get("similarities"));
    return out;
  }

  private static String us(Object nanos) {
    return String.format(Locale.ROOT, "%.1f", ((Number) nanos).doubleValue() / 1000);
  }

  private static List<Consensus.Entry> entries(JsonNode... results) {
    List<Consensus.Entry> out = new ArrayList<>();
    for (int i = 0; i < results.length; i++) {
      out.add(new Consensus.Entry("w" + i, new UUID(0, i + 1), results[i]));
    }
    return out;
  }

  /**
   * The median over batches of the CPU nanoseconds per call. Warm-up first ({@code warmup} of CPU, at
   * least {@link #MIN_CALLS} calls); then each batch has as many calls as fill about {@link #BATCH},
   * at most {@code iterations}.
   */
  private static double time(int iterations, int batches, Duration warmup, IntToDoubleFunction op) {
    double sink = 0;
    int warm = 0;
    long start = CPU.getCurrentThreadCpuTime();
    while (warm < MIN_CALLS || CPU.getCurrentThreadCpuTime() - start < warmup.toNanos()) {
      sink += op.applyAsDouble(warm++);
    }
    double estimate = (CPU.getCurrentThreadCpuTime() - start) / (double) warm;
    int n = (int) Math.clamp(Math.round(BATCH.toNanos() / estimate), MIN_CALLS, Math.max(MIN_CALLS, iterations));
    List<Double> perOp = new ArrayList<>(batches);
    for (int b = 0; b < batches; b++) {
      long t = CPU.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        sink += op.applyAsDouble(i);
      }
      perOp.add((CPU.getCurrentThreadCpuTime() - t) / (double) n);
    }
    if (sink == Double.MIN_VALUE) {
      // Never true: keeps the results alive, so that the JIT cannot drop the work.
      System.out.print("");
    }
    return Math.round(EmbeddingBench.median(perOp) * 10) / 10.0;
  }

  private static double round(double x) {
    return Math.round(x * 1e6) / 1e6;
  }

  private static double[] unit(SplittableRandom random) {
    double[] v = new double[DIMENSIONS];
    for (int i = 0; i < v.length; i++) {
      v[i] = random.nextGaussian();
    }
    return normalised(v);
  }

  private static double[] rounded(double[] v, SplittableRandom random) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] + random.nextGaussian() * 1e-7;
    }
    return out;
  }

  /** A unit vector at cosine 0.95 to {@code v}, as a byzantine worker's. */
  private static double[] turned(double[] v, SplittableRandom random) {
    double[] w = unit(random);
    double along = 0;
    for (int i = 0; i < v.length; i++) {
      along += w[i] * v[i];
    }
    for (int i = 0; i < v.length; i++) {
      w[i] -= along * v[i];
    }
    w = normalised(w);
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = 0.95 * v[i] + Math.sqrt(1 - 0.95 * 0.95) * w[i];
    }
    return out;
  }

  private static double[] normalised(double[] v) {
    double n = 0;
    for (double x : v) {
      n += x * x;
    }
    n = Math.sqrt(n);
    for (int i = 0; i < v.length; i++) {
      v[i] /= n;
    }
    return v;
  }

  /** As the embedded model writes its result: floats. */
  private static String embedding(double[] v) {
    StringBuilder s = new StringBuilder("{\"embedding\":[");
    for (int i = 0; i < v.length; i++) {
      s.append(i == 0 ? "" : ",").append((float) v[i]);
    }
    return s.append("],\"dimensions\":").append(v.length).append(",\"model\":\"all-minilm-l6-v2\"}").toString();
  }

  private static List<String> words(SplittableRandom random) {
    List<String> out = new ArrayList<>(TOKENS);
    for (int i = 0; i < TOKENS; i++) {
      out.add("w" + Integer.toString(random.nextInt(VOCABULARY), 36));
    }
    return out;
  }

  /** The words with a share of them replaced, as sampling on another machine might. */
  private static List<String> noisy(List<String> words, double share, SplittableRandom random) {
    List<String> out = new ArrayList<>(words);
    for (int i = 0; i < out.size(); i++) {
      if (random.nextDouble() < share) {
        out.set(i, "w" + Integer.toString(random.nextInt(VOCABULARY), 36));
      }
    }
    return out;
  }

  private static String inference(List<String> words) {
    return "{\"output\":\"" + String.join(" ", words) + ".\",\"model\":\"llama3.2\",\"tokens\":" + words.size() + "}";
  }
}
