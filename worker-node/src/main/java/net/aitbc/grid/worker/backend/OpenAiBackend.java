package net.aitbc.grid.worker.backend;

import static net.aitbc.grid.worker.backend.HttpTransport.millisSince;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Runs {@code inference} and {@code embedding} jobs on an OpenAI-compatible server (vLLM, llama.cpp
 * server, TGI, LM Studio): {@code /models}, {@code /chat/completions} streamed as server-sent
 * events, {@code /embeddings}.
 */
public final class OpenAiBackend extends ModelServerBackend {

  private static final List<String> SAMPLING =
      List.of("max_tokens", "temperature", "top_p", "stop");

  private final List<String> models;
  private final @Nullable String defaultModel;

  private OpenAiBackend(
      String baseUrl, @Nullable String apiKey, @Nullable String defaultModel, Duration timeout)
      throws BackendException {
    super(baseUrl, "OpenAI-compatible server", apiKey, "the OpenAI-compatible server", "OpenAI");
    List<String> ids = new ArrayList<>();
    listModels("/models", timeout)
        .path("data")
        .forEach(
            m -> {
              if (m.path("id").isTextual() && !m.path("id").asText().isBlank()) {
                ids.add(m.path("id").asText());
              }
            });
    this.models = List.copyOf(ids);
    this.defaultModel = defaultModel(defaultModel, models);
  }

  /**
   * Asks the server at {@code baseUrl} (up to and including {@code /v1}) for its models; fails if
   * it does not answer.
   */
  public static OpenAiBackend connect(
      String baseUrl, @Nullable String apiKey, @Nullable String defaultModel, Duration timeout)
      throws BackendException {
    return new OpenAiBackend(baseUrl, apiKey, defaultModel, timeout);
  }

  @Override
  public String name() {
    return "openai";
  }

  @Override
  public List<String> models() {
    return models;
  }

  @Override
  JobOutcome infer(JobRun run, String model) throws BackendException {
    ObjectNode payload = run.payload();
    String system = Payloads.system(payload);
    ArrayNode messages;
    if (payload.has("messages")) {
      messages = Payloads.messages(payload, system);
    } else {
      messages = mapper.createArrayNode();
      if (system != null) {
        messages.addObject().put("role", "system").put("content", system);
      }
      messages.addObject().put("role", "user").put("content", Payloads.prompt(payload));
    }
    ObjectNode body = mapper.createObjectNode().put("model", model);
    body.set("messages", messages);
    body.put("stream", true);
    // Without include_usage a streamed answer carries no token counts.
    body.putObject("stream_options").put("include_usage", true);
    ObjectNode parameters = Payloads.object(payload, "parameters");
    for (String field : SAMPLING) {
      if (payload.has(field)) {
        body.set(field, payload.get(field));
      } else if (parameters != null && parameters.has(field)) {
        body.set(field, parameters.get(field));
      }
    }

    long start = System.nanoTime();
    SseState state = new SseState(run, model);
    streamLines("/chat/completions", body, run, state);

    ObjectNode result =
        mapper
            .createObjectNode()
            .put("output", state.output.toString())
            .put("model", state.model)
            .put("provider", "openai");
    if (state.finishReason != null) {
      result.put("finish_reason", state.finishReason);
    } else {
      result.putNull("finish_reason");
    }
    ObjectNode metrics = mapper.createObjectNode().put("duration_ms", millisSince(start));
    usage(state.usage, metrics);
    metrics.put("backend", name());
    return new JobOutcome(result, metrics);
  }

  /** What a chat completion stream of server-sent events has said so far. */
  private final class SseState implements LineReader {
    private final JobRun run;
    private final StringBuilder output = new StringBuilder();
    // The data lines of the event being read.
    private final StringBuilder data = new StringBuilder();
    private String model;
    private @Nullable String finishReason;
    private @Nullable JsonNode usage;
    private boolean done;

    SseState(JobRun run, String model) {
      this.run = run;
      this.model = model;
    }

    @Override
    public boolean line(String line) throws BackendException {
      if (line.isEmpty()) {
        // A blank line ends an event.
        dispatch();
      } else if (line.startsWith("data:")) {
        String value = line.substring(5);
        if (!data.isEmpty()) {
          data.append('\n');
        }
        data.append(value.startsWith(" ") ? value.substring(1) : value);
      }
      // Comments (":") and other fields (event, id, retry) carry nothing we use.
      return done;
    }

    @Override
    public boolean ended() throws BackendException {
      dispatch();
      return done;
    }

    /** Handles one event's data and clears it; {@code [DONE]} ends the stream. */
    private void dispatch() throws BackendException {
      if (data.isEmpty()) {
        return;
      }
      String text = data.toString();
      data.setLength(0);
      if (text.strip().equals("[DONE]")) {
        done = true;
        return;
      }
      JsonNode chunk = http.parseChunk(text);
      if (chunk.hasNonNull("error") || "error".equals(chunk.path("object").asText())) {
        throw new BackendException(
            "OpenAI-compatible server error: " + http.errorMessage(text, 200), true);
      }
      if (chunk.path("model").isTextual()) {
        model = chunk.path("model").asText();
      }
      JsonNode choice = chunk.path("choices").path(0);
      String content = choice.path("delta").path("content").asText("");
      if (!content.isEmpty()) {
        output.append(content);
        run.progress().output(content);
      }
      if (choice.path("finish_reason").isTextual()) {
        finishReason = choice.path("finish_reason").asText();
      }
      if (chunk.path("usage").isObject()) {
        usage = chunk.path("usage");
      }
    }
  }

  @Override
  JobOutcome embed(JobRun run, String model) throws BackendException {
    Embeddings.Input input = Embeddings.input(run.payload());
    long start = System.nanoTime();
    ObjectNode body = mapper.createObjectNode().put("model", model);
    body.set("input", input.raw());
    JsonNode response = http.postJson(uri("/embeddings"), body, run.cancellation());
    List<JsonNode> data = new ArrayList<>();
    response.path("data").forEach(data::add);
    // The spec orders by "index"; not every server keeps the array in that order.
    data.sort(Comparator.comparingInt(d -> d.path("index").asInt()));
    List<ArrayNode> vectors = new ArrayList<>();
    for (JsonNode d : data) {
      if (d.path("embedding").isArray()) {
        vectors.add((ArrayNode) d.path("embedding"));
      }
    }
    checkVectors(vectors, input);
    ObjectNode result =
        Embeddings.result(
            mapper.createObjectNode(),
            vectors,
            input.batch(),
            response.path("model").asText(model));
    ObjectNode metrics = mapper.createObjectNode().put("duration_ms", millisSince(start));
    usage(response.path("usage"), metrics);
    metrics.put("backend", name());
    return new JobOutcome(result, metrics);
  }

  private static void usage(@Nullable JsonNode usage, ObjectNode metrics) {
    if (usage == null) {
      return;
    }
    if (usage.path("prompt_tokens").isNumber()) {
      metrics.set("input_tokens", usage.get("prompt_tokens"));
    }
    if (usage.path("completion_tokens").isNumber()) {
      metrics.set("output_tokens", usage.get("completion_tokens"));
    }
  }

  /** The listed id for {@code requested} (exact, else case-insensitive), or the default model. */
  @Override
  @Nullable String resolve(@Nullable String requested) {
    if (requested == null || requested.isBlank()) {
      return defaultModel;
    }
    if (models.contains(requested)) {
      return requested;
    }
    return models.stream().filter(requested::equalsIgnoreCase).findFirst().orElse(null);
  }
}
