package net.aitbc.grid.ops.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import net.aitbc.grid.worker.backend.Backend;
import net.aitbc.grid.worker.backend.JobOutcome;
import net.aitbc.grid.worker.backend.JobRun;
import net.aitbc.grid.worker.backend.NoopBackend;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** The byzantine test backend: wrong by exactly the angle asked, and otherwise indistinguishable. */
class PerturbingBackendTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Answers every embedding job with these unit vectors, as floats, like the embedded model. */
  private record Fixed(List<double[]> vectors) implements Backend {
    @Override
    public String name() {
      return "embedded";
    }

    @Override
    public Set<String> jobTypes() {
      return Set.of("embedding");
    }

    @Override
    public List<String> models() {
      return List.of("all-minilm-l6-v2");
    }

    @Override
    public boolean supports(String type, @Nullable String model) {
      return type.equals("embedding");
    }

    @Override
    public JobOutcome run(JobRun run) {
      ObjectNode result = JSON.createObjectNode();
      if (run.payload().path("input").isArray()) {
        ArrayNode all = result.putArray("embeddings");
        vectors.forEach(v -> all.add(floats(v)));
      } else {
        result.set("embedding", floats(vectors.getFirst()));
      }
      result.put("dimensions", vectors.getFirst().length).put("model", "all-minilm-l6-v2");
      return new JobOutcome(result, JSON.createObjectNode().put("backend", "embedded").put("duration_ms", 3));
    }
  }

  private static ArrayNode floats(double[] v) {
    ArrayNode a = JSON.createArrayNode();
    for (double x : v) {
      a.add((float) x);
    }
    return a;
  }

  private static double[] unit(int dimensions, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    double[] v = new double[dimensions];
    double norm = 0;
    for (int i = 0; i < dimensions; i++) {
      v[i] = random.nextGaussian();
      norm += v[i] * v[i];
    }
    for (int i = 0; i < dimensions; i++) {
      v[i] /= Math.sqrt(norm);
    }
    return v;
  }

  private static double[] doubles(JsonNode a) {
    double[] v = new double[a.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = a.get(i).asDouble();
    }
    return v;
  }

  @Test
  void turnsAVectorToTheSimilarityAskedKeepingItsLength() {
    double[] v = unit(384, 1);
    for (double similarity : List.of(0.95, 0.5, 0.999, -0.3)) {
      double[] w = PerturbingBackend.turn(v, similarity, new SplittableRandom(7));
      assertThat(w).hasSize(384);
      assertThat(PerturbingBackend.cosine(v, w)).isCloseTo(similarity, within(1e-9));
      assertThat(Math.sqrt(dot(w, w))).isCloseTo(1, within(1e-9));
    }
    double[] long5 = PerturbingBackend.turn(new double[] {3, 4}, 0.9, new SplittableRandom(1));
    assertThat(Math.sqrt(dot(long5, long5))).isCloseTo(5, within(1e-9));
    assertThat(PerturbingBackend.cosine(new double[] {3, 4}, long5)).isCloseTo(0.9, within(1e-9));
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Test
  void embeddingResultsAreTurnedAndEverythingElsePassesThrough() throws Exception {
    double[] a = unit(384, 2);
    double[] b = unit(384, 3);
    PerturbingBackend byzantine = new PerturbingBackend(new Fixed(List.of(a, b)), 0.95, 42);
    assertThat(byzantine.name()).isEqualTo("embedded");
    assertThat(byzantine.models()).containsExactly("all-minilm-l6-v2");

    JobOutcome one = byzantine.run(JobRun.of("embedding", null, JSON.createObjectNode().put("prompt", "x")));
    JsonNode turned = one.result().get("embedding");
    assertThat(turned).hasSize(384).allSatisfy(x -> assertThat(x.isFloat()).isTrue());
    assertThat(PerturbingBackend.cosine(a, doubles(turned))).isCloseTo(0.95, within(1e-5));
    assertThat(Math.sqrt(dot(doubles(turned), doubles(turned)))).isCloseTo(1, within(1e-5));
    assertThat(one.result().get("dimensions").asInt()).isEqualTo(384);
    assertThat(one.metrics().get("backend").asText()).isEqualTo("embedded");
    // The same text is turned the same way every time: a deterministic cheat.
    assertThat(byzantine.run(JobRun.of("embedding", null, JSON.createObjectNode().put("prompt", "x")))
        .result().get("embedding")).isEqualTo(turned);

    ObjectNode batch = JSON.createObjectNode();
    batch.putArray("input").add("x").add("y");
    JsonNode both = byzantine.run(JobRun.of("embedding", null, batch)).result().get("embeddings");
    assertThat(PerturbingBackend.cosine(a, doubles(both.get(0)))).isCloseTo(0.95, within(1e-5));
    assertThat(PerturbingBackend.cosine(b, doubles(both.get(1)))).isCloseTo(0.95, within(1e-5));
    assertThat(byzantine.perturbed()).isEqualTo(3);

    PerturbingBackend noop = new PerturbingBackend(new NoopBackend("w"), 0.95, 42);
    JobOutcome echoed = noop.run(JobRun.of("noop", null, JSON.createObjectNode().put("echo", "hi")));
    assertThat(echoed.result().get("echo").asText()).isEqualTo("hi");
    assertThat(noop.perturbed()).isZero();
  }
}
