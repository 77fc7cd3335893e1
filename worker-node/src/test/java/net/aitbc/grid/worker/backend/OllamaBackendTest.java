package net.aitbc.grid.worker.backend;

import static net.aitbc.grid.worker.backend.Jobs.run;
import static net.aitbc.grid.worker.backend.Jobs.runAsync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OllamaBackendTest {

  // The documented wire format: https://github.com/ollama/ollama/blob/main/docs/api.md
  private static final String TAGS =
      """
      {"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","modified_at":"2025-05-04T17:37:44.706015396-07:00",\
      "size":2019393189,"digest":"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",\
      "details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],"parameter_size":"3.2B",\
      "quantization_level":"Q4_K_M"}},\
      {"name":"all-minilm:33m","model":"all-minilm:33m","modified_at":"2025-05-01T10:00:00Z","size":67000000,\
      "digest":"1b226e2802dbb772b5fc32a58f103ca1804ef7501331012de126ab22f67475ef",\
      "details":{"parent_model":"","format":"gguf","family":"bert","families":["bert"],"parameter_size":"33M",\
      "quantization_level":"F16"}}]}\
      """;
  private static final List<String> GENERATE =
      List.of(
          line(
              "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\",\"response\":\"The\",\"done\":false}"),
          line(
              "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.485406455-07:00\",\"response\":\""
                  + " sky\",\"done\":false}"),
          line(
              "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.585406455-07:00\",\"response\":\""
                  + " is blue.\",\"done\":false}"),
          line(
              "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T19:22:45.499127Z\",\"response\":\"\",\"done\":true,"
                  + "\"done_reason\":\"stop\",\"context\":[1,2,3],\"total_duration\":10706818083,\"load_duration\":6338219291,"
                  + "\"prompt_eval_count\":26,\"prompt_eval_duration\":130079000,\"eval_count\":259,\"eval_duration\":4232710000}"));
  private static final List<String> CHAT =
      List.of(
          line(
              "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.385406455-07:00\","
                  + "\"message\":{\"role\":\"assistant\",\"content\":\"Hello\",\"images\":null},\"done\":false}"),
          line(
              "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T08:52:19.485406455-07:00\",\"message\":{\"role\":\"assistant\",\"content\":\","
                  + " grid!\",\"images\":null},\"done\":false}"),
          line(
              "{\"model\":\"llama3.2\",\"created_at\":\"2023-08-04T19:22:45.499127Z\",\"message\":{\"role\":\"assistant\","
                  + "\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":4883583458,"
                  + "\"load_duration\":1334875,\"prompt_eval_count\":26,\"prompt_eval_duration\":342546000,"
                  + "\"eval_count\":282,\"eval_duration\":4535599000}"));

  private FakeHttpServer server;

  @BeforeEach
  void startServer() throws IOException {
    server = new FakeHttpServer();
    server.on("/api/tags", ex -> FakeHttpServer.json(ex, 200, TAGS));
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  @Test
  void listsTheModelsFromApiTagsWithAndWithoutLatest() throws Exception {
    try (OllamaBackend ollama = connect(null)) {
      assertThat(ollama.name()).isEqualTo("ollama");
      assertThat(ollama.jobTypes()).containsExactlyInAnyOrder("inference", "embedding");
      assertThat(ollama.models()).containsExactly("llama3.2:latest", "llama3.2", "all-minilm:33m");
      assertThat(ollama.supports("inference", "llama3.2")).isTrue();
      assertThat(ollama.supports("inference", "LLAMA3.2:latest")).isTrue();
      assertThat(ollama.supports("inference", null)).isTrue();
      assertThat(ollama.supports("inference", "mistral")).isFalse();
      assertThat(ollama.supports("transcription", "llama3.2")).isFalse();
    }
  }

  @Test
  void generateStreamsEveryChunkInOrderAndReportsTheCounts() throws Exception {
    server.on("/api/generate", ex -> FakeHttpServer.stream(ex, "application/x-ndjson", GENERATE));
    List<String> chunks = new CopyOnWriteArrayList<>();
    try (OllamaBackend ollama = connect(null)) {
      JobOutcome outcome =
          ollama.run(
              run(
                  "inference",
                  "llama3.2",
                  """
                  {"prompt":"Why is the sky blue?","system":"Be brief.","options":{"temperature":0.2,"max_tokens":64}}\
                  """,
                  chunks::add));

      assertThat(chunks).containsExactly("The", " sky", " is blue.");
      assertThat(outcome.result().path("output").asText()).isEqualTo("The sky is blue.");
      assertThat(outcome.result().path("provider").asText()).isEqualTo("ollama");
      assertThat(outcome.result().path("model").asText()).isEqualTo("llama3.2");
      assertThat(outcome.result().path("eval_count").asInt()).isEqualTo(259);
      assertThat(outcome.result().path("prompt_eval_count").asInt()).isEqualTo(26);
      assertThat(outcome.result().path("done_reason").asText()).isEqualTo("stop");
      assertThat(outcome.metrics().path("input_tokens").asInt()).isEqualTo(26);
      assertThat(outcome.metrics().path("output_tokens").asInt()).isEqualTo(259);
      assertThat(outcome.metrics().path("backend").asText()).isEqualTo("ollama");
      assertThat(outcome.metrics().has("duration_ms")).isTrue();
    }
    JsonNode sent = server.last("/api/generate").json();
    assertThat(sent.path("model").asText()).isEqualTo("llama3.2:latest");
    assertThat(sent.path("prompt").asText()).isEqualTo("Why is the sky blue?");
    assertThat(sent.path("system").asText()).isEqualTo("Be brief.");
    assertThat(sent.path("stream").asBoolean()).isTrue();
    assertThat(sent.path("options").path("temperature").asDouble()).isEqualTo(0.2);
    assertThat(sent.path("options").path("num_predict").asInt()).isEqualTo(64);
  }

  @Test
  void chatSendsMessagesAndStreamsMessageContent() throws Exception {
    server.on("/api/chat", ex -> FakeHttpServer.stream(ex, "application/x-ndjson", CHAT));
    List<String> chunks = new CopyOnWriteArrayList<>();
    try (OllamaBackend ollama = connect(null)) {
      JobOutcome outcome =
          ollama.run(
              run(
                  "inference",
                  null,
                  """
                  {"messages":[{"role":"user","content":"Say hello"}],"system":"You are terse.",
                   "parameters":{"seed":7}}\
                  """,
                  chunks::add));

      assertThat(chunks).containsExactly("Hello", ", grid!");
      assertThat(outcome.result().path("output").asText()).isEqualTo("Hello, grid!");
      assertThat(outcome.metrics().path("output_tokens").asInt()).isEqualTo(282);
    }
    JsonNode sent = server.last("/api/chat").json();
    assertThat(sent.path("model").asText())
        .as("no model: the first listed")
        .isEqualTo("llama3.2:latest");
    assertThat(sent.path("messages")).hasSize(2);
    assertThat(sent.path("messages").path(0).path("role").asText()).isEqualTo("system");
    assertThat(sent.path("messages").path(1).path("content").asText()).isEqualTo("Say hello");
    assertThat(sent.path("options").path("seed").asInt()).isEqualTo(7);
  }

  @Test
  void aJobWithoutModelUsesTheConfiguredDefault() throws Exception {
    server.on("/api/generate", ex -> FakeHttpServer.stream(ex, "application/x-ndjson", GENERATE));
    try (OllamaBackend ollama = connect("ALL-MINILM:33m")) {
      ollama.run(run("inference", null, "{\"prompt\":\"hi\"}", ProgressSink.NONE));
    }
    assertThat(server.last("/api/generate").json().path("model").asText())
        .isEqualTo("all-minilm:33m");
  }

  @Test
  void embeddingUsesApiEmbedAndTheSharedResultShape() throws Exception {
    server.on(
        "/api/embed",
        ex -> {
          JsonNode input = server.last("/api/embed").json().path("input");
          FakeHttpServer.json(
              ex,
              200,
              input.isArray()
                  ? "{\"model\":\"all-minilm:33m\",\"embeddings\":[[0.1,0.2,0.3],[0.4,0.5,0.6]],"
                        + "\"total_duration\":14143917,\"load_duration\":1019500,\"prompt_eval_count\":9}"
                  : "{\"model\":\"all-minilm:33m\",\"embeddings\":[[0.010071029,-0.0017594862,0.05007221]],"
                        + "\"total_duration\":14143917,\"load_duration\":1019500,\"prompt_eval_count\":8}");
        });
    try (OllamaBackend ollama = connect(null)) {
      JobOutcome single =
          ollama.run(
              run("embedding", "all-minilm:33m", "{\"input\":\"hello grid\"}", ProgressSink.NONE));
      assertThat(single.result().path("embedding")).hasSize(3);
      assertThat(single.result().path("embedding").path(0).asDouble()).isEqualTo(0.010071029);
      assertThat(single.result().path("dimensions").asInt()).isEqualTo(3);
      assertThat(single.result().path("model").asText()).isEqualTo("all-minilm:33m");
      assertThat(single.metrics().path("input_tokens").asInt()).isEqualTo(8);

      JobOutcome batch =
          ollama.run(
              run("embedding", "all-minilm:33m", "{\"input\":[\"a\",\"b\"]}", ProgressSink.NONE));
      assertThat(batch.result().path("embeddings")).hasSize(2);
      assertThat(batch.result().has("embedding")).isFalse();
    }
  }

  @Test
  void tooFewEmbeddingsFailRetryably() throws Exception {
    server.on(
        "/api/embed",
        ex -> FakeHttpServer.json(ex, 200, "{\"model\":\"all-minilm:33m\",\"embeddings\":[[0.1]]}"));
    try (OllamaBackend ollama = connect(null)) {
      assertThatThrownBy(
              () ->
                  ollama.run(
                      run(
                          "embedding",
                          "all-minilm:33m",
                          "{\"input\":[\"a\",\"b\"]}",
                          ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessage("Ollama returned 1 embeddings for 2 inputs");
    }
  }

  @Test
  void anUnknownModelAnswered404FailsNonRetryablyWithTheServersMessage() throws Exception {
    server.on(
        "/api/generate",
        ex ->
            FakeHttpServer.json(
                ex, 404, "{\"error\":\"model \\\"llama3.2\\\" not found, try pulling it first\"}"));
    try (OllamaBackend ollama = connect(null)) {
      assertThatThrownBy(
              () ->
                  ollama.run(
                      run("inference", "llama3.2", "{\"prompt\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isFalse())
          .hasMessageContaining("404")
          .hasMessageContaining("not found, try pulling it first");
    }
  }

  @Test
  void aServerErrorFailsRetryably() throws Exception {
    server.on(
        "/api/generate",
        ex ->
            FakeHttpServer.json(
                ex, 500, "{\"error\":\"llama runner process has terminated: exit status 2\"}"));
    try (OllamaBackend ollama = connect(null)) {
      assertThatThrownBy(
              () -> ollama.run(run("inference", null, "{\"prompt\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessageContaining("llama runner process has terminated");
    }
  }

  @Test
  void anErrorLineInTheStreamFailsTheRun() throws Exception {
    server.on(
        "/api/generate",
        ex ->
            FakeHttpServer.stream(
                ex,
                "application/x-ndjson",
                List.of(
                    GENERATE.getFirst(),
                    line("{\"error\":\"an error was encountered while running the model\"}"))));
    try (OllamaBackend ollama = connect(null)) {
      assertThatThrownBy(
              () -> ollama.run(run("inference", null, "{\"prompt\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOf(BackendException.class)
          .hasMessageContaining("an error was encountered while running the model");
    }
  }

  @Test
  void aStreamCutOffHalfWayFailsRetryably() throws Exception {
    server.on(
        "/api/generate",
        ex -> FakeHttpServer.cutOff(ex, "application/x-ndjson", GENERATE.subList(0, 2)));
    List<String> chunks = new CopyOnWriteArrayList<>();
    try (OllamaBackend ollama = connect(null)) {
      assertThatThrownBy(
              () -> ollama.run(run("inference", null, "{\"prompt\":\"hi\"}", chunks::add)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessageContaining("Ollama stream ended before completion");
    }
    assertThat(chunks).containsExactly("The", " sky");
  }

  @Test
  void aStreamThatEndsWithoutDoneFailsRetryably() throws Exception {
    server.on(
        "/api/generate",
        ex -> FakeHttpServer.stream(ex, "application/x-ndjson", GENERATE.subList(0, 3)));
    try (OllamaBackend ollama = connect(null)) {
      assertThatThrownBy(
              () -> ollama.run(run("inference", null, "{\"prompt\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessage("Ollama stream ended before completion");
    }
  }

  @Test
  void cancelStopsASlowStreamWithinASecond() throws Exception {
    server.on(
        "/api/generate",
        ex -> {
          FakeHttpServer.stream(ex, "application/x-ndjson", GENERATE.subList(0, 1));
          server.stall();
        });
    List<String> chunks = new CopyOnWriteArrayList<>();
    Cancellation cancellation = new Cancellation();
    try (OllamaBackend ollama = connect(null)) {
      CompletableFuture<JobOutcome> running =
          runAsync(
              ollama, run("inference", null, "{\"prompt\":\"hi\"}", chunks::add, cancellation));
      await().atMost(Duration.ofSeconds(5)).until(() -> chunks.equals(List.of("The")));

      cancellation.cancel();

      await().atMost(Duration.ofSeconds(1)).until(running::isDone);
      assertThat(running).isCompletedExceptionally();
      assertThat(running.exceptionNow()).hasMessage("job canceled");
    }
  }

  @Test
  void aPayloadWithoutPromptOrMessagesFailsNonRetryably() throws Exception {
    try (OllamaBackend ollama = connect(null)) {
      assertThatThrownBy(
              () -> ollama.run(run("inference", null, "{\"prompt\":\"  \"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isFalse())
          .hasMessageContaining("'prompt'");
      assertThatThrownBy(
              () -> ollama.run(run("inference", null, "{\"messages\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isFalse())
          .hasMessageContaining("'messages'");
    }
    assertThat(server.requests())
        .extracting(FakeHttpServer.Request::path)
        .containsOnly("/api/tags");
  }

  @Test
  void aServerThatDoesNotAnswerCannotBeConnected() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    assertThatThrownBy(
            () ->
                OllamaBackend.connect(
                    "http://127.0.0.1:" + closedPort, null, Duration.ofSeconds(2)))
        .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
        .hasMessageContaining("Ollama unreachable");
  }

  private OllamaBackend connect(String defaultModel) throws BackendException {
    return OllamaBackend.connect(server.baseUrl() + "/", defaultModel, Duration.ofSeconds(5));
  }

  private static String line(String json) {
    return json + "\n";
  }
}
