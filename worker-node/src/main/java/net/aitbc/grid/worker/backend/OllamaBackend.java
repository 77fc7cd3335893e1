package net.aitbc.grid.worker.backend;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.worker.backend.HttpTransport.millisSince;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Runs {@code inference} and {@code embedding} jobs on a local Ollama server through its documented
 * API ({@code /api/tags}, {@code /api/generate}, {@code /api/chat}, {@code /api/embed}), streaming
 * NDJSON.
 */
public final class OllamaBackend extends ModelServerBackend {

  private static final String LATEST = ":latest";

  private final List<String> names;
  private final List<String> advertised;
  private final @Nullable String defaultModel;

  private OllamaBackend(String baseUrl, @Nullable String defaultModel, Duration timeout)
      throws BackendException {
    super(baseUrl, "Ollama", null, "Ollama", "Ollama");
    List<String> found = new ArrayList<>();
    listModels("/api/tags", timeout)
        .path("models")
        .forEach(
            m -> {
              String name = m.path("name").asText(m.path("model").asText(""));
              if (!name.isBlank()) {
                found.add(name);
              }
            });
    this.names = List.copyOf(found);
    Set<String> models = new LinkedHashSet<>();
    for (String name : names) {
      models.add(name);
      // Clients say "llama3.2" as often as "llama3.2:latest"; advertise both so placement matches
      // either.
      if (name.endsWith(LATEST)) {
        models.add(name.substring(0, name.length() - LATEST.length()));
      }
    }
    this.advertised = List.copyOf(models);
    this.defaultModel = defaultModel(defaultModel, names);
  }

  /**
   * Asks the server at {@code baseUrl} (e.g. {@code http://localhost:11434}) for its models; fails
   * if it does not answer.
   */
  public static OllamaBackend connect(
      String baseUrl, @Nullable String defaultModel, Duration timeout) throws BackendException {
    return new OllamaBackend(baseUrl, defaultModel, timeout);
  }

  @Override
  public String name() {
    return "ollama";
  }

  @Override
  public List<String> models() {
    return advertised;
  }

  @Override
  JobOutcome infer(JobRun run, String model) throws BackendException {
    ObjectNode payload = run.payload();
    ObjectNode body = mapper.createObjectNode().put("model", model);
    boolean chat = payload.has("messages");
    String system = Payloads.system(payload);
    if (chat) {
      ArrayNode messages = Payloads.messages(payload, system);
      body.set("messages", messages);
    } else {
      body.put("prompt", Payloads.prompt(payload));
      if (system != null) {
        body.put("system", system);
      }
    }
    body.put("stream", true);
    ObjectNode options = Payloads.object(payload, "options", "parameters");
    if (options != null) {
      options = options.deepCopy();
      // The OpenAI spelling is what most clients send; Ollama calls it num_predict.
      if (options.has("max_tokens") && !options.has("num_predict")) {
        options.set("num_predict", options.get("max_tokens"));
      }
      body.set("options", options);
    }
    for (String passThrough : List.of("format", "keep_alive")) {
      if (payload.has(passThrough)) {
        body.set(passThrough, payload.get(passThrough));
      }
    }

    long start = System.nanoTime();
    NdjsonAnswer answer = new NdjsonAnswer(run, chat);
    streamLines(chat ? "/api/chat" : "/api/generate", body, run, answer);
    JsonNode done = requireNonNull(answer.last, "a complete stream has its last line");

    ObjectNode result =
        mapper
            .createObjectNode()
            .put("output", answer.output.toString())
            .put("model", done.path("model").asText(model))
            .put("provider", "ollama");
    copyIfPresent(done, "eval_count", result);
    copyIfPresent(done, "prompt_eval_count", result);
    copyIfPresent(done, "done_reason", result);
    ObjectNode metrics = mapper.createObjectNode().put("duration_ms", millisSince(start));
    if (done.has("prompt_eval_count")) {
      metrics.set("input_tokens", done.get("prompt_eval_count"));
    }
    if (done.has("eval_count")) {
      metrics.set("output_tokens", done.get("eval_count"));
    }
    // Ollama reports durations in nanoseconds; milliseconds match duration_ms.
    if (done.has("total_duration")) {
      metrics.put("total_duration_ms", done.get("total_duration").asLong() / 1_000_000);
    }
    if (done.has("eval_duration")) {
      metrics.put("eval_duration_ms", done.get("eval_duration").asLong() / 1_000_000);
    }
    metrics.put("backend", name());
    return new JobOutcome(result, metrics);
  }

  /** What an NDJSON generate or chat stream has said so far. */
  private final class NdjsonAnswer implements LineReader {
    private final JobRun run;
    private final boolean chat;
    private final StringBuilder output = new StringBuilder();
    private @Nullable JsonNode last;

    NdjsonAnswer(JobRun run, boolean chat) {
      this.run = run;
      this.chat = chat;
    }

    @Override
    public boolean line(String line) throws BackendException {
      if (line.isBlank()) {
        return false;
      }
      JsonNode chunk = http.parseChunk(line);
      if (chunk.hasNonNull("error")) {
        // The stream had started (HTTP 200): the model runner failed, another attempt may succeed.
        throw new BackendException("Ollama error: " + http.errorMessage(line, 200), true);
      }
      String text =
          chat
              ? chunk.path("message").path("content").asText("")
              : chunk.path("response").asText("");
      if (!text.isEmpty()) {
        output.append(text);
        run.progress().output(text);
      }
      if (chunk.path("done").asBoolean(false)) {
        last = chunk;
        return true;
      }
      return false;
    }
  }

  @Override
  JobOutcome embed(JobRun run, String model) throws BackendException {
    Embeddings.Input input = Embeddings.input(run.payload());
    long start = System.nanoTime();
    ObjectNode body = mapper.createObjectNode().put("model", model);
    body.set("input", input.raw());
    JsonNode response = http.postJson(uri("/api/embed"), body, run.cancellation());
    List<ArrayNode> vectors = new ArrayList<>();
    response
        .path("embeddings")
        .forEach(
            v -> {
              if (v.isArray()) {
                vectors.add((ArrayNode) v);
              }
            });
    checkVectors(vectors, input);
    ObjectNode result = Embeddings.result(mapper.createObjectNode(), vectors, input.batch(), model);
    ObjectNode metrics = mapper.createObjectNode().put("duration_ms", millisSince(start));
    if (response.has("prompt_eval_count")) {
      metrics.set("input_tokens", response.get("prompt_eval_count"));
    }
    metrics.put("backend", name());
    return new JobOutcome(result, metrics);
  }

  /**
   * The listed name for {@code requested} (case-insensitive, {@code :latest} optional), or the
   * default model.
   */
  @Override
  @Nullable String resolve(@Nullable String requested) {
    if (requested == null || requested.isBlank()) {
      return defaultModel;
    }
    for (String name : names) {
      if (name.equalsIgnoreCase(requested) || name.equalsIgnoreCase(requested + LATEST)) {
        return name;
      }
    }
    return null;
  }

  private static void copyIfPresent(JsonNode from, String field, ObjectNode to) {
    if (from.has(field)) {
      to.set(field, from.get(field));
    }
  }
}
