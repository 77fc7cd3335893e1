package net.aitbc.grid.worker.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EmbeddedBackendTest {

  // Loading the model takes a couple of seconds: once for the class.
  private static EmbeddedBackend backend;
  private final ObjectMapper mapper = new ObjectMapper();

  @BeforeAll
  static void loadModel() {
    backend = new EmbeddedBackend();
  }

  @AfterAll
  static void closeModel() {
    backend.close();
  }

  @Test
  void embedsHelloGridIntoA384DimensionalUnitVector() throws Exception {
    JobOutcome outcome = backend.run(run(null, "{\"prompt\":\"hello grid\"}"));

    JsonNode embedding = outcome.result().path("embedding");
    assertThat(embedding).hasSize(384);
    double sumOfSquares = 0;
    for (JsonNode value : embedding) {
      assertThat(Double.isFinite(value.asDouble())).isTrue();
      sumOfSquares += value.asDouble() * value.asDouble();
    }
    assertThat(Math.sqrt(sumOfSquares)).isCloseTo(1.0, within(1e-3));
    assertThat(outcome.result().path("dimensions").asInt()).isEqualTo(384);
    assertThat(outcome.result().path("model").asText()).isEqualTo("all-minilm-l6-v2");
    assertThat(outcome.metrics().path("backend").asText()).isEqualTo("embedded");
    assertThat(outcome.metrics().path("duration_ms").isIntegralNumber()).isTrue();
    assertThat(outcome.metrics().path("input_tokens").asInt()).isPositive();
  }

  @Test
  void closeSentencesScoreHigherThanUnrelatedOnes() throws Exception {
    float[] cat = vector("A cat is sleeping on the sofa.");
    float[] kitten = vector("A kitten naps on the couch.");
    float[] taxes = vector("Quarterly tax filings are due at the end of April.");

    assertThat(Vectors.cosine(cat, kitten)).isGreaterThan(Vectors.cosine(cat, taxes) + 0.2);
  }

  @Test
  void anArrayInputGivesOneVectorPerString() throws Exception {
    JobOutcome outcome =
        backend.run(
            run("all-MiniLM-L6-v2", "{\"input\":[\"first text\",\"second text\",\"third\"]}"));

    JsonNode embeddings = outcome.result().path("embeddings");
    assertThat(embeddings).hasSize(3);
    embeddings.forEach(vector -> assertThat(vector).hasSize(384));
    assertThat(embeddings.get(0)).isNotEqualTo(embeddings.get(1));
    assertThat(outcome.result().has("embedding")).isFalse();
    assertThat(outcome.result().path("dimensions").asInt()).isEqualTo(384);
  }

  @Test
  void acceptsItsModelUnderEveryUsualNameAndNothingElse() {
    assertThat(backend.models())
        .containsExactly("all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2");
    assertThat(backend.supports("embedding", null)).isTrue();
    assertThat(backend.supports("embedding", "all-minilm-l6-v2")).isTrue();
    assertThat(backend.supports("embedding", "all-MiniLM-L6-v2")).isTrue();
    assertThat(backend.supports("embedding", "sentence-transformers/all-MiniLM-L6-v2")).isTrue();
    assertThat(backend.supports("embedding", "nomic-embed-text")).isFalse();
    assertThat(backend.supports("inference", null)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{}",
        "{\"prompt\":\"   \"}",
        "{\"prompt\":42}",
        "{\"prompt\":[\"arrays only in input\"]}",
        "{\"input\":[]}",
        "{\"input\":[\"fine\",7]}",
        "{\"input\":{\"text\":\"hi\"}}"
      })
  void aBadPayloadFailsNonRetryably(String payload) throws IOException {
    JobRun run = run(null, payload);
    assertThatThrownBy(() -> backend.run(run))
        .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isFalse())
        .hasMessageMatching(".*'(input|prompt)(\\[1])?'.*");
  }

  private float[] vector(String text) throws Exception {
    return Vectors.floats(backend
        .run(run(null, mapper.createObjectNode().put("input", text).toString()))
        .result()
        .path("embedding"));
  }

  private JobRun run(String model, String payload) throws IOException {
    return JobRun.of("embedding", model, (ObjectNode) mapper.readTree(payload));
  }
}
