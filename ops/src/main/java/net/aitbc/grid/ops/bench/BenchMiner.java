package net.aitbc.grid.ops.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * A REST miner as the aitbc CLI's {@code miner mine} is: blocking HTTP/1.1 calls through the
 * bridge, its own connection, {@code X-Api-Key} and {@code X-Miner-ID} on each. Used by one thread.
 */
final class BenchMiner implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String id;
  private final String key;
  private final String base;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  BenchMiner(int bridgePort, String key, String id) {
    this.id = id;
    this.key = key;
    this.base = "http://127.0.0.1:" + bridgePort;
  }

  String id() {
    return id;
  }

  /** Registers for noop jobs, one at a time. */
  void register() {
    HttpResponse<String> r = call("POST", "/v1/miners/register", "{\"capabilities\": {\"job_types\": [\"noop\"]}}");
    if (r.statusCode() != 200) {
      throw new IllegalStateException("miner " + id + " could not register: " + r.statusCode() + " " + r.body());
    }
  }

  /** One poll waiting up to {@code waitSeconds}: the job's id, or null when none came (204). */
  @Nullable String poll(int waitSeconds) {
    HttpResponse<String> r = call("POST", "/v1/miners/poll", "{\"max_wait_seconds\": " + waitSeconds + "}");
    if (r.statusCode() == 204) {
      return null;
    }
    if (r.statusCode() != 200) {
      throw new IllegalStateException("poll: " + r.statusCode() + " " + r.body());
    }
    try {
      JsonNode job = JSON.readTree(r.body());
      return job.get("job_id").asText();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends a noop result, as {@code miner mine} does; returns the status (200 when recorded). */
  int complete(String jobId) {
    return call("POST", "/v1/miners/" + jobId + "/result", "{\"result\": {\"output\": \"Processed job " + jobId
        + "\"}, \"metrics\": {}}").statusCode();
  }

  /** Ends its sessions. */
  void deregister() {
    call("DELETE", "/v1/miners/" + id, null);
  }

  private HttpResponse<String> call(String method, String path, @Nullable String json) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
        .header("X-Api-Key", key).header("X-Miner-ID", id);
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    http.close();
  }
}
