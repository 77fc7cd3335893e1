package net.aitbc.grid.worker.backend;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/**
 * JSON over {@link HttpClient} for the HTTP backends: error mapping, cancellation, bounded error
 * bodies.
 */
final class HttpTransport implements AutoCloseable {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final int MAX_ERROR_BODY = 64 * 1024;

  private final String provider;
  private final @Nullable String bearer;
  private final ObjectMapper mapper;
  private final HttpClient client;

  /** {@code provider} names the peer in error messages, e.g. "Ollama". */
  HttpTransport(String provider, @Nullable String bearer, ObjectMapper mapper) {
    this.provider = provider;
    this.bearer = bearer;
    this.mapper = mapper;
    // HTTP/1.1: local model servers speak it, and an h2c upgrade attempt only confuses some of
    // them.
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(CONNECT_TIMEOUT)
            .build();
  }

  /** GET a JSON document, e.g. a model list at start-up. */
  JsonNode getJson(URI uri, Duration timeout) throws BackendException {
    HttpRequest request = request(uri).timeout(timeout).GET().build();
    return parse(
        uri, send(request, HttpResponse.BodyHandlers.ofString(), new Cancellation()).body());
  }

  /** POST a JSON body and read a JSON answer; cancellation aborts the exchange. */
  JsonNode postJson(URI uri, JsonNode body, Cancellation cancellation) throws BackendException {
    HttpRequest request = post(uri, body);
    return parse(uri, send(request, HttpResponse.BodyHandlers.ofString(), cancellation).body());
  }

  /** POST a JSON body and return the streaming answer's body; cancellation closes it. */
  InputStream postStream(URI uri, JsonNode body, Cancellation cancellation)
      throws BackendException {
    HttpResponse<InputStream> response =
        send(post(uri, body), HttpResponse.BodyHandlers.ofInputStream(), cancellation);
    InputStream in = response.body();
    // Closing the body unblocks a reader waiting for the next chunk and aborts the exchange.
    cancellation.onCancel(() -> closeQuietly(in));
    return in;
  }

  /**
   * The failure of a stream that ended without its final message, or the cancellation that closed
   * it.
   */
  BackendException streamBroken(@Nullable IOException cause, Cancellation cancellation) {
    if (cancellation.isCancelled()) {
      return BackendException.canceled();
    }
    String detail = cause == null ? "" : ": " + cause.getMessage();
    return new BackendException(provider + " stream ended before completion" + detail, true, cause);
  }

  /**
   * A JSON line or event the peer sent that does not parse: the peer is at fault, so retry
   * elsewhere.
   */
  JsonNode parseChunk(String text) throws BackendException {
    try {
      return mapper.readTree(text);
    } catch (JsonProcessingException e) {
      throw new BackendException(provider + " sent invalid JSON: " + abbreviate(text), true, e);
    }
  }

  /** Shuts the client's connections down; in-flight runs fail. */
  @Override
  public void close() {
    client.shutdownNow();
  }

  private HttpRequest post(URI uri, JsonNode body) throws BackendException {
    try {
      return request(uri)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(body)))
          .build();
    } catch (JsonProcessingException e) {
      throw new BackendException("cannot encode the request: " + e.getMessage(), false, e);
    }
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(uri).header("Accept", "application/json");
    if (bearer != null && !bearer.isBlank()) {
      builder.header("Authorization", "Bearer " + bearer);
    }
    return builder;
  }

  private <T> HttpResponse<T> send(
      HttpRequest request, BodyHandler<T> handler, Cancellation cancellation)
      throws BackendException {
    CompletableFuture<HttpResponse<T>> future = client.sendAsync(request, handler);
    cancellation.onCancel(() -> future.cancel(true));
    HttpResponse<T> response;
    try {
      response = future.get();
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw BackendException.canceled();
    } catch (CancellationException e) {
      throw BackendException.canceled();
    } catch (ExecutionException e) {
      if (cancellation.isCancelled()) {
        throw BackendException.canceled();
      }
      Throwable cause = e.getCause() == null ? e : e.getCause();
      throw new BackendException(
          provider + " unreachable at " + request.uri() + ": " + cause, true, cause);
    }
    if (response.statusCode() >= 400) {
      throw httpError(request.uri(), response);
    }
    return response;
  }

  private BackendException httpError(URI uri, HttpResponse<?> response) {
    String body =
        switch (response.body()) {
          case String s -> s;
          case InputStream in -> readBounded(in);
          default -> "";
        };
    int status = response.statusCode();
    // 408 and 429 say "not now" rather than "never"; every 5xx is the server's fault.
    boolean retryable = status >= 500 || status == 408 || status == 429;
    return new BackendException(
        provider
            + " returned HTTP "
            + status
            + " for "
            + uri.getPath()
            + ": "
            + errorMessage(body, status),
        retryable);
  }

  /**
   * The peer's error text: {@code error}, {@code error.message}, {@code message} or {@code detail},
   * else the body.
   */
  String errorMessage(String body, int status) {
    if (body.isBlank()) {
      return "HTTP " + status;
    }
    try {
      JsonNode json = mapper.readTree(body);
      for (JsonNode candidate :
          new JsonNode[] {
            json.path("error"),
            json.path("error").path("message"),
            json.path("message"),
            json.path("detail")
          }) {
        if (candidate.isTextual() && !candidate.asText().isBlank()) {
          return candidate.asText();
        }
      }
    } catch (JsonProcessingException e) {
      // Not JSON: the raw body is the best message there is.
    }
    return abbreviate(body.strip());
  }

  private JsonNode parse(URI uri, String body) throws BackendException {
    try {
      return mapper.readTree(body);
    } catch (JsonProcessingException e) {
      throw new BackendException(
          provider + " sent invalid JSON from " + uri.getPath() + ": " + abbreviate(body), true, e);
    }
  }

  private static String readBounded(InputStream in) {
    try (in) {
      return new String(in.readNBytes(MAX_ERROR_BODY), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 500 ? text : text.substring(0, 500) + "…";
  }

  /** {@code url} without one trailing slash, so paths can be appended. */
  static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** Whole milliseconds since {@code startNanos} (a {@link System#nanoTime()} reading). */
  static long millisSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /** Closes {@code in}, ignoring errors: only done to stop a stream. */
  static void closeQuietly(InputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // Closing only to stop the stream; nothing to report.
    }
  }
}
