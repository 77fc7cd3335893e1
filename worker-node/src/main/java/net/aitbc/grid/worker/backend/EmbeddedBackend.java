package net.aitbc.grid.worker.backend;

import ai.onnxruntime.OrtException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Sentence embeddings with all-MiniLM-L6-v2 (384 dimensions) run by ONNX Runtime on the CPU; needs
 * no download. With {@link EmbeddingBatching} on, the texts of jobs that arrive together share
 * padded forward passes ({@link EmbeddingBatcher}); off, each text gets its own pass from
 * langchain4j.
 */
public final class EmbeddedBackend implements Backend {

  /** The model name this backend advertises. */
  public static final String MODEL = "all-minilm-l6-v2";

  /** The vector length. */
  public static final int DIMENSIONS = 384;

  private static final Set<String> ALIASES =
      Set.of(MODEL, "sentence-transformers/all-minilm-l6-v2");
  // Checking for cancellation between chunks keeps a revoked big batch from running to its end.
  private static final int CHUNK = 32;

  private final ObjectMapper mapper = new ObjectMapper();
  // Batching on: the batch encoder's session serves every text short enough for one pass, and
  // langchain4j's model (a second copy of the weights) loads only if a longer text comes.
  private final @Nullable MiniLmBatchEncoder encoder;
  private final @Nullable EmbeddingBatcher batcher;
  private @Nullable EmbeddingModel model;

  /**
   * Without batching: one pass per text, as langchain4j runs it. Loads the model from its jar and
   * runs it once, so the first job does not pay for the warm-up.
   */
  public EmbeddedBackend() {
    this(EmbeddingBatching.OFF);
  }

  /** Batching texts of concurrent jobs as {@code batching} says; loads and warms the model. */
  public EmbeddedBackend(EmbeddingBatching batching) {
    if (batching.enabled()) {
      MiniLmBatchEncoder loaded = new MiniLmBatchEncoder();
      this.encoder = loaded;
      try {
        loaded.encode(List.of("warm up"), this::embedLong);
      } catch (OrtException e) {
        loaded.close();
        throw new IllegalStateException("all-MiniLM-L6-v2 does not run: " + e.getMessage(), e);
      }
      this.batcher = new EmbeddingBatcher(texts -> loaded.encode(texts, this::embedLong), batching);
    } else {
      this.encoder = null;
      this.batcher = null;
      langchainModel().embed("warm up");
    }
  }

  // A direct executor: the worker already runs jobs concurrently, so the model needs no pool of
  // its own.
  private synchronized EmbeddingModel langchainModel() {
    if (model == null) {
      model = new AllMiniLmL6V2EmbeddingModel(Runnable::run);
    }
    return model;
  }

  private MiniLmBatchEncoder.Encoded embedLong(String text) {
    Response<Embedding> response = langchainModel().embed(text);
    TokenUsage usage = response.tokenUsage();
    int tokens = usage == null || usage.inputTokenCount() == null ? 0 : usage.inputTokenCount();
    return new MiniLmBatchEncoder.Encoded(List.of(response.content().vector()), new int[] {tokens});
  }

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
    // Every name it accepts (in lower case, as the coordinator matches them), so jobs naming any
    // of them are placed here.
    return List.copyOf(new java.util.TreeSet<>(ALIASES));
  }

  @Override
  public boolean supports(String type, @Nullable String model) {
    return type.equals("embedding")
        && (model == null || ALIASES.contains(model.toLowerCase(Locale.ROOT)));
  }

  @Override
  public JobOutcome run(JobRun run) throws BackendException {
    if (!supports(run.type(), run.model())) {
      throw BackendException.invalid(
          "embedded backend cannot run type " + run.type() + " model " + run.model());
    }
    Embeddings.Input input = Embeddings.input(run.payload());
    long start = System.nanoTime();
    ObjectNode metrics = mapper.createObjectNode();
    List<ArrayNode> vectors;
    if (batcher != null) {
      run.cancellation().throwIfCancelled();
      EmbeddingBatcher.Vectors embedded = batcher.embed(input.texts(), run.cancellation());
      vectors = embedded.vectors().stream().map(this::json).toList();
      metrics.put("input_tokens", embedded.tokens());
      // The texts of its largest forward pass, its own and other jobs': how much batching helped.
      metrics.put("batch_texts", embedded.largestBatch());
    } else {
      vectors = alone(input.texts(), run.cancellation(), metrics);
    }
    ObjectNode result = Embeddings.result(mapper.createObjectNode(), vectors, input.batch(), MODEL);
    metrics.put("duration_ms", (System.nanoTime() - start) / 1_000_000);
    metrics.put("backend", name());
    return new JobOutcome(result, metrics);
  }

  /** One langchain4j pass per text, checking for cancellation between chunks. */
  private List<ArrayNode> alone(List<String> texts, Cancellation cancellation, ObjectNode metrics)
      throws BackendException {
    List<ArrayNode> vectors = new ArrayList<>(texts.size());
    Integer tokens = null;
    for (int from = 0; from < texts.size(); from += CHUNK) {
      cancellation.throwIfCancelled();
      List<TextSegment> segments =
          texts.subList(from, Math.min(from + CHUNK, texts.size())).stream()
              .map(TextSegment::from)
              .toList();
      Response<List<Embedding>> response;
      try {
        response = langchainModel().embedAll(segments);
      } catch (RuntimeException e) {
        throw new BackendException("embedding failed: " + e.getMessage(), false, e);
      }
      for (Embedding embedding : response.content()) {
        vectors.add(json(embedding.vector()));
      }
      TokenUsage usage = response.tokenUsage();
      if (usage != null && usage.inputTokenCount() != null) {
        tokens = (tokens == null ? 0 : tokens) + usage.inputTokenCount();
      }
    }
    if (tokens != null) {
      metrics.put("input_tokens", tokens);
    }
    return vectors;
  }

  private ArrayNode json(float[] values) {
    ArrayNode vector = mapper.createArrayNode();
    for (float f : values) {
      vector.add(f);
    }
    return vector;
  }

  /** Stops the batcher (failing jobs still waiting) and frees the batch encoder's session. */
  @Override
  public void close() {
    // A session closed under a running pass would crash in native code: only once the pass ends.
    if (batcher != null && batcher.close() && encoder != null) {
      encoder.close();
    }
  }
}
