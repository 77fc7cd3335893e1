package net.aitbc.grid.worker.backend;

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
 * no download.
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

  private final EmbeddingModel model;
  private final ObjectMapper mapper = new ObjectMapper();

  /**
   * Loads the model from its jar and runs it once, so the first job does not pay for the warm-up.
   */
  public EmbeddedBackend() {
    // A direct executor: the worker already runs jobs concurrently, so the model needs no pool of
    // its own.
    this.model = new AllMiniLmL6V2EmbeddingModel(Runnable::run);
    model.embed("warm up");
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
    List<ArrayNode> vectors = new ArrayList<>(input.texts().size());
    Integer tokens = null;
    List<String> texts = input.texts();
    for (int from = 0; from < texts.size(); from += CHUNK) {
      run.cancellation().throwIfCancelled();
      List<TextSegment> segments =
          texts.subList(from, Math.min(from + CHUNK, texts.size())).stream()
              .map(TextSegment::from)
              .toList();
      Response<List<Embedding>> response;
      try {
        response = model.embedAll(segments);
      } catch (RuntimeException e) {
        throw new BackendException("embedding failed: " + e.getMessage(), false, e);
      }
      for (Embedding embedding : response.content()) {
        ArrayNode vector = mapper.createArrayNode();
        for (float f : embedding.vector()) {
          vector.add(f);
        }
        vectors.add(vector);
      }
      TokenUsage usage = response.tokenUsage();
      if (usage != null && usage.inputTokenCount() != null) {
        tokens = (tokens == null ? 0 : tokens) + usage.inputTokenCount();
      }
    }
    ObjectNode result = Embeddings.result(mapper.createObjectNode(), vectors, input.batch(), MODEL);
    ObjectNode metrics = mapper.createObjectNode();
    metrics.put("duration_ms", (System.nanoTime() - start) / 1_000_000);
    if (tokens != null) {
      metrics.put("input_tokens", tokens);
    }
    metrics.put("backend", name());
    return new JobOutcome(result, metrics);
  }
}
