package net.aitbc.grid.worker.backend;

import static net.aitbc.grid.worker.backend.Jobs.run;
import static net.aitbc.grid.worker.backend.Jobs.runAsync;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenAiBackendTest {

  private static final String MODEL = "meta-llama/Llama-3.1-8B-Instruct";
  private static final String MODELS =
      """
      {"object":"list","data":[\
      {"id":"meta-llama/Llama-3.1-8B-Instruct","object":"model","created":1715000000,"owned_by":"vllm"},\
      {"id":"BAAI/bge-small-en-v1.5","object":"model","created":1715000000,"owned_by":"vllm"}]}\
      """;
  // Chat completion chunks as the OpenAI streaming reference shows them, with
  // stream_options.include_usage.
  private static final List<String> SSE =
      List.of(
          event(chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null")),
          ": keep-alive comment\n\n",
          event(chunk("{\"content\":\"Hello\"}", "null")),
          event(chunk("{\"content\":\" there\"}", "null")),
          event(chunk("{\"content\":\", grid.\"}", "null")),
          event(chunk("{}", "\"stop\"")),
          event(
              "{\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\""
                  + MODEL
                  + "\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[],"
                  + "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":12,\"total_tokens\":21}}"),
          "data: [DONE]\n\n");

  private FakeHttpServer server;

  @BeforeEach
  void startServer() throws IOException {
    server = new FakeHttpServer();
    server.on("/v1/models", ex -> FakeHttpServer.json(ex, 200, MODELS));
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  @Test
  void listsTheModelsFromV1ModelsAndSendsTheApiKey() throws Exception {
    try (OpenAiBackend openAi = connect()) {
      assertThat(openAi.name()).isEqualTo("openai");
      assertThat(openAi.models()).containsExactly(MODEL, "BAAI/bge-small-en-v1.5");
      assertThat(openAi.supports("inference", MODEL)).isTrue();
      assertThat(openAi.supports("inference", null)).isTrue();
      assertThat(openAi.supports("inference", "gpt-4o")).isFalse();
    }
    assertThat(server.last("/v1/models").authorization()).isEqualTo("Bearer sk-test");
  }

  @Test
  void chatCompletionStreamsEveryDeltaInOrderAndReportsUsage() throws Exception {
    server.on("/v1/chat/completions", ex -> FakeHttpServer.stream(ex, "text/event-stream", SSE));
    List<String> chunks = new CopyOnWriteArrayList<>();
    try (OpenAiBackend openAi = connect()) {
      JobOutcome outcome =
          openAi.run(
              run(
                  "inference",
                  MODEL,
                  """
                  {"prompt":"Greet the grid","system":"Be kind.","temperature":0.1,
                   "parameters":{"max_tokens":32,"top_p":0.9,"stop":["\\n"]}}\
                  """,
                  chunks::add));

      assertThat(chunks).containsExactly("Hello", " there", ", grid.");
      assertThat(outcome.result().path("output").asText()).isEqualTo("Hello there, grid.");
      assertThat(outcome.result().path("provider").asText()).isEqualTo("openai");
      assertThat(outcome.result().path("model").asText()).isEqualTo(MODEL);
      assertThat(outcome.result().path("finish_reason").asText()).isEqualTo("stop");
      assertThat(outcome.metrics().path("input_tokens").asInt()).isEqualTo(9);
      assertThat(outcome.metrics().path("output_tokens").asInt()).isEqualTo(12);
      assertThat(outcome.metrics().path("backend").asText()).isEqualTo("openai");
    }
    FakeHttpServer.Request request = server.last("/v1/chat/completions");
    assertThat(request.authorization()).isEqualTo("Bearer sk-test");
    JsonNode sent = request.json();
    assertThat(sent.path("model").asText()).isEqualTo(MODEL);
    assertThat(sent.path("stream").asBoolean()).isTrue();
    assertThat(sent.path("stream_options").path("include_usage").asBoolean()).isTrue();
    assertThat(sent.path("messages")).hasSize(2);
    assertThat(sent.path("messages").path(0).path("role").asText()).isEqualTo("system");
    assertThat(sent.path("messages").path(1).path("role").asText()).isEqualTo("user");
    assertThat(sent.path("messages").path(1).path("content").asText()).isEqualTo("Greet the grid");
    assertThat(sent.path("temperature").asDouble()).isEqualTo(0.1);
    assertThat(sent.path("max_tokens").asInt()).isEqualTo(32);
    assertThat(sent.path("top_p").asDouble()).isEqualTo(0.9);
    assertThat(sent.path("stop").path(0).asText()).isEqualTo("\n");
  }

  @Test
  void messagesArePassedAsGivenAndNoModelUsesTheFirstListed() throws Exception {
    server.on("/v1/chat/completions", ex -> FakeHttpServer.stream(ex, "text/event-stream", SSE));
    try (OpenAiBackend openAi = connect()) {
      openAi.run(
          run(
              "inference",
              null,
              """
              {"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},
                           {"role":"user","content":"again"}]}\
              """,
              ProgressSink.NONE));
    }
    JsonNode sent = server.last("/v1/chat/completions").json();
    assertThat(sent.path("model").asText()).isEqualTo(MODEL);
    assertThat(sent.path("messages")).hasSize(3);
    assertThat(sent.path("messages").path(2).path("content").asText()).isEqualTo("again");
  }

  @Test
  void embeddingsComeBackInTheSharedResultShape() throws Exception {
    server.on(
        "/v1/embeddings",
        ex ->
            FakeHttpServer.json(
                ex,
                200,
                """
                {"object":"list","data":[\
                {"object":"embedding","embedding":[0.4,0.5,0.6],"index":1},\
                {"object":"embedding","embedding":[0.0023064255,-0.009327292,0.015797347],"index":0}],\
                "model":"BAAI/bge-small-en-v1.5","usage":{"prompt_tokens":8,"total_tokens":8}}\
                """));
    try (OpenAiBackend openAi = connect()) {
      JobOutcome outcome =
          openAi.run(
              run(
                  "embedding",
                  "BAAI/bge-small-en-v1.5",
                  "{\"input\":[\"first\",\"second\"]}",
                  ProgressSink.NONE));

      assertThat(outcome.result().path("embeddings")).hasSize(2);
      assertThat(outcome.result().path("embeddings").path(0).path(0).asDouble())
          .as("ordered by index")
          .isEqualTo(0.0023064255);
      assertThat(outcome.result().path("dimensions").asInt()).isEqualTo(3);
      assertThat(outcome.result().path("model").asText()).isEqualTo("BAAI/bge-small-en-v1.5");
      assertThat(outcome.metrics().path("input_tokens").asInt()).isEqualTo(8);
    }
    JsonNode sent = server.last("/v1/embeddings").json();
    assertThat(sent.path("model").asText()).isEqualTo("BAAI/bge-small-en-v1.5");
    assertThat(sent.path("input")).hasSize(2);
  }

  @Test
  void anEmptyEmbeddingFailsRetryably() throws Exception {
    server.on(
        "/v1/embeddings",
        ex ->
            FakeHttpServer.json(
                ex, 200, "{\"object\":\"list\",\"data\":[{\"embedding\":[],\"index\":0}]}"));
    try (OpenAiBackend openAi = connect()) {
      assertThatThrownBy(
              () ->
                  openAi.run(
                      run(
                          "embedding",
                          "BAAI/bge-small-en-v1.5",
                          "{\"input\":\"x\"}",
                          ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessage("the OpenAI-compatible server returned 1 embeddings for 1 inputs");
    }
  }

  @Test
  void aClientErrorFailsNonRetryablyWithTheServersMessage() throws Exception {
    server.on(
        "/v1/chat/completions",
        ex ->
            FakeHttpServer.json(
                ex,
                400,
                """
                {"error":{"message":"This model's maximum context length is 8192 tokens.",\
                "type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}\
                """));
    try (OpenAiBackend openAi = connect()) {
      assertThatThrownBy(
              () -> openAi.run(run("inference", MODEL, "{\"prompt\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isFalse())
          .hasMessageContaining("400")
          .hasMessageContaining("maximum context length is 8192 tokens");
    }
  }

  @Test
  void aServerErrorFailsRetryably() throws Exception {
    server.on(
        "/v1/chat/completions",
        ex ->
            FakeHttpServer.json(
                ex,
                503,
                "{\"object\":\"error\",\"message\":\"The server is"
                    + " overloaded\",\"type\":\"ServiceUnavailableError\"}"));
    try (OpenAiBackend openAi = connect()) {
      assertThatThrownBy(
              () -> openAi.run(run("inference", MODEL, "{\"prompt\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessageContaining("503")
          .hasMessageContaining("The server is overloaded");
    }
  }

  @Test
  void aStreamCutOffHalfWayFailsRetryably() throws Exception {
    server.on(
        "/v1/chat/completions",
        ex -> FakeHttpServer.cutOff(ex, "text/event-stream", SSE.subList(0, 4)));
    List<String> chunks = new CopyOnWriteArrayList<>();
    try (OpenAiBackend openAi = connect()) {
      assertThatThrownBy(
              () -> openAi.run(run("inference", MODEL, "{\"prompt\":\"hi\"}", chunks::add)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessageContaining("stream ended before completion");
    }
    assertThat(chunks).containsExactly("Hello", " there");
  }

  @Test
  void aStreamThatEndsBeforeDoneFailsRetryably() throws Exception {
    server.on(
        "/v1/chat/completions",
        ex -> FakeHttpServer.stream(ex, "text/event-stream", SSE.subList(0, 7)));
    try (OpenAiBackend openAi = connect()) {
      assertThatThrownBy(
              () -> openAi.run(run("inference", MODEL, "{\"prompt\":\"hi\"}", ProgressSink.NONE)))
          .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue())
          .hasMessage("OpenAI-compatible server stream ended before completion");
    }
  }

  @Test
  void cancelStopsASlowStreamWithinASecond() throws Exception {
    server.on(
        "/v1/chat/completions",
        ex -> {
          FakeHttpServer.stream(ex, "text/event-stream", SSE.subList(0, 3));
          server.stall();
        });
    List<String> chunks = new CopyOnWriteArrayList<>();
    Cancellation cancellation = new Cancellation();
    try (OpenAiBackend openAi = connect()) {
      CompletableFuture<JobOutcome> running =
          runAsync(
              openAi, run("inference", MODEL, "{\"prompt\":\"hi\"}", chunks::add, cancellation));
      await().atMost(Duration.ofSeconds(5)).until(() -> chunks.equals(List.of("Hello")));

      cancellation.cancel();

      await().atMost(Duration.ofSeconds(1)).until(running::isDone);
      assertThat(running.exceptionNow()).hasMessage("job canceled");
    }
  }

  private OpenAiBackend connect() throws BackendException {
    return OpenAiBackend.connect(server.baseUrl() + "/v1", "sk-test", null, Duration.ofSeconds(5));
  }

  private static String chunk(String delta, String finishReason) {
    return "{\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":\""
        + MODEL
        + "\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":"
        + delta
        + ",\"logprobs\":null,\"finish_reason\":"
        + finishReason
        + "}],\"usage\":null}";
  }

  private static String event(String json) {
    return "data: " + json + "\n\n";
  }
}
