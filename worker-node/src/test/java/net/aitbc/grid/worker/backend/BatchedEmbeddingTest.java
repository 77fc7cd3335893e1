package net.aitbc.grid.worker.backend;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.output.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The padded batch pass gives the vectors of langchain4j's one pass per text. */
class BatchedEmbeddingTest {

  private static final List<String> TEXTS =
      List.of(
          "hi",
          "A cat is sleeping on the sofa.",
          "the coordinator commits every job to PostgreSQL before it answers the client",
          "Quarterly tax filings are due at the end of April, and late ones cost a fee of 5%!",
          "naïve café résumé — unicode, emoji 🚀 and CJK 東京",
          "a lease that runs out puts the job back in the queue for another worker (7)");

  private static EmbeddingModel perText;
  private static MiniLmBatchEncoder encoder;
  private final ObjectMapper mapper = new ObjectMapper();

  @BeforeAll
  static void load() {
    perText = new AllMiniLmL6V2EmbeddingModel(Runnable::run);
    encoder = new MiniLmBatchEncoder();
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  @Test
  void oneBatchPassEqualsOnePassPerText() throws Exception {
    List<String> texts = new ArrayList<>(TEXTS);
    // Over 512 tokens: langchain4j splits it, so the batch hands it to the per-text path.
    texts.add(3, "the grid runs embeddings for everyone who asks politely ".repeat(60));

    MiniLmBatchEncoder.Encoded batch =
        encoder.encode(
            texts,
            text -> {
              Response<dev.langchain4j.data.embedding.Embedding> r = perText.embed(text);
              return new MiniLmBatchEncoder.Encoded(
                  List.of(r.content().vector()), new int[] {r.tokenUsage().inputTokenCount()});
            });

    assertThat(batch.vectors()).hasSize(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      Response<dev.langchain4j.data.embedding.Embedding> alone = perText.embed(texts.get(i));
      assertThat(Vectors.cosine(batch.vectors().get(i), alone.content().vector()))
          .as("text %d", i)
          .isGreaterThanOrEqualTo(0.9999);
      assertThat(batch.tokens()[i]).as("tokens of text %d", i)
          .isEqualTo(alone.tokenUsage().inputTokenCount());
    }
  }

  @Test
  void concurrentJobsOnTheBatchedBackendGetThePerTextVectors() throws Exception {
    EmbeddedBackend batched =
        new EmbeddedBackend(new EmbeddingBatching(Duration.ofMillis(200), 32));
    try {
      List<CompletableFuture<JobOutcome>> jobs = new ArrayList<>();
      for (String text : TEXTS) {
        ObjectNode payload = mapper.createObjectNode().put("prompt", text);
        jobs.add(Jobs.runAsync(batched, JobRun.of("embedding", null, payload)));
      }
      ObjectNode many = mapper.createObjectNode();
      many.putArray("input").add(TEXTS.get(2)).add(TEXTS.get(0));
      CompletableFuture<JobOutcome> multi = Jobs.runAsync(batched, JobRun.of("embedding", null, many));

      int largest = 0;
      for (int i = 0; i < TEXTS.size(); i++) {
        JobOutcome outcome = jobs.get(i).get(60, TimeUnit.SECONDS);
        float[] alone = perText.embed(TEXTS.get(i)).content().vector();
        assertThat(Vectors.cosine(Vectors.floats(outcome.result().path("embedding")), alone))
            .isGreaterThanOrEqualTo(0.9999);
        assertThat(outcome.metrics().path("input_tokens").asInt()).isPositive();
        largest = Math.max(largest, outcome.metrics().path("batch_texts").asInt());
      }
      JsonNode embeddings = multi.get(60, TimeUnit.SECONDS).result().path("embeddings");
      assertThat(embeddings).hasSize(2);
      assertThat(Vectors.cosine(Vectors.floats(embeddings.get(0)), perText.embed(TEXTS.get(2)).content().vector()))
          .isGreaterThanOrEqualTo(0.9999);
      assertThat(Vectors.cosine(Vectors.floats(embeddings.get(1)), perText.embed(TEXTS.get(0)).content().vector()))
          .isGreaterThanOrEqualTo(0.9999);
      // Seven jobs within a 200 ms window: some of them shared a pass.
      assertThat(largest).isGreaterThan(1);
    } finally {
      batched.close();
    }
  }
}
