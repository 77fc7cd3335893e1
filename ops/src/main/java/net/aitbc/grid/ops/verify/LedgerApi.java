package net.aitbc.grid.ops.verify;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import net.aitbc.grid.ledger.CanonicalJson;
import org.jspecify.annotations.Nullable;

/** The REST bridge's ledger routes, read with an API key; every answer is a JSON tree. */
final class LedgerApi implements AutoCloseable {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final String base;
  private final @Nullable String apiKey;
  private final HttpClient http;

  /** A client of the bridge at {@code url} (e.g. {@code http://127.0.0.1:8000}). */
  LedgerApi(String url, @Nullable String apiKey) {
    String u = requireNonNull(url, "url").strip();
    while (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    URI uri;
    try {
      uri = URI.create(u);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--url " + url + " is not a URL: " + e.getMessage(), e);
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException("--url " + url + " is not an http(s) URL such as http://127.0.0.1:8000");
    }
    this.base = u;
    this.apiKey = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** A route's answer other than 200: its status and the server's {@code detail}. */
  static final class Status extends IOException {
    private final int code;

    Status(String path, int code, String detail) {
      super("GET " + path + ": " + code + (detail.isEmpty() ? "" : " " + detail));
      this.code = code;
    }

    int code() {
      return code;
    }
  }

  /** The JSON that {@code GET path} answers with 200; {@link Status} for any other status. */
  JsonNode get(String path) throws IOException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT)
        .header("Accept", "application/json");
    if (apiKey != null) {
      request.header("X-Api-Key", apiKey);
    }
    HttpResponse<String> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (ConnectException e) {
      throw new IOException("cannot connect to " + base + " (is the bridge running?)", e);
    } catch (HttpTimeoutException e) {
      throw new IOException("GET " + path + ": no answer within " + TIMEOUT.toSeconds() + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (response.statusCode() != 200) {
      throw new Status(path, response.statusCode(), detail(response.body()));
    }
    try {
      // Canonical parsing keeps floats as doubles and integers as integers: what signatures cover.
      return CanonicalJson.parse(response.body());
    } catch (IllegalArgumentException e) {
      throw new IOException("GET " + path + ": not JSON: " + e.getMessage(), e);
    }
  }

  /** A query parameter's value, encoded. */
  static String param(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  private static String detail(String body) {
    try {
      JsonNode json = CanonicalJson.parse(body);
      JsonNode detail = json.get("detail");
      if (detail != null) {
        return detail.isTextual() ? detail.textValue() : detail.toString();
      }
    } catch (IllegalArgumentException e) {
      // Not JSON: show what it is, shortened.
    }
    String text = body.strip();
    return text.length() > 200 ? text.substring(0, 200) + "…" : text;
  }

  /** Where it reads from. */
  String base() {
    return base;
  }

  @Override
  public void close() {
    http.close();
  }
}
