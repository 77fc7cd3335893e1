package net.aitbc.grid.ops.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The aitbc CLI's {@code swarm} commands as the requests it sends (contract §9 and §11): the same
 * paths (no {@code /v1}), bodies and {@code X-Api-Key}, with the status codes the CLI accepts
 * checked by the caller. For tests that drive a grid's REST bridge the way a user of the CLI would.
 */
public final class SwarmCli implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> ENDED = List.of("completed", "failed", "cancelled");

  private final int port;
  private final String key;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  /** The CLI pointed at the bridge on {@code port} with this API key. */
  public SwarmCli(int port, String key) {
    this.port = port;
    this.key = key;
  }

  /**
   * An answer: the HTTP status and the JSON body.
   *
   * @param status the HTTP status
   * @param body the body as JSON
   */
  public record Reply(int status, JsonNode body) {
    /** The body, once the status is {@code expected}. */
    public JsonNode expect(int expected) {
      assertThat(status).as(body.toString()).isEqualTo(expected);
      return body;
    }
  }

  /** {@code swarm join --role R --capability C [--region REGION] --priority P}: the CLI needs exactly 201. */
  public Reply join(String role, String capability, @Nullable String region, String priority) {
    ObjectNode body = JSON.createObjectNode().put("role", role).put("capability", capability).put("priority", priority);
    if (region != null) {
      body.put("region", region);
    }
    return post("/swarm/join", body);
  }

  /** {@code swarm coordinate --task T --collaborators N --strategy S --timeout SECONDS}: exactly 202. */
  public Reply coordinate(String task, int collaborators, String strategy, int timeoutSeconds) {
    return post("/swarm/coordinate", JSON.createObjectNode().put("task", task).put("collaborators", collaborators)
        .put("strategy", strategy).put("timeout_seconds", timeoutSeconds));
  }

  /** {@code swarm list --limit N}. */
  public Reply list(int limit) {
    return get("/swarm/list?limit=" + limit);
  }

  /** {@code swarm list --swarm-id ID --limit 20}. */
  public Reply list(String swarmId) {
    return get("/swarm/list?limit=20&swarm_id=" + swarmId);
  }

  /** {@code swarm status TASK_ID}. */
  public Reply status(String taskId) {
    return get("/swarm/tasks/" + taskId + "/status");
  }

  /** {@code swarm consensus TASK_ID --consensus-threshold T}. */
  public Reply consensus(String taskId, double threshold) {
    return post("/swarm/tasks/" + taskId + "/consensus", JSON.createObjectNode().put("consensus_threshold", threshold));
  }

  /** {@code swarm leave SWARM_ID} (after its confirmation): no body. */
  public Reply leave(String swarmId) {
    return send(request("/swarm/" + swarmId + "/leave").POST(HttpRequest.BodyPublishers.noBody()));
  }

  /** {@code swarm status TASK_ID} every 50 ms until the status is terminal, as {@code --real-time} stops. */
  public JsonNode awaitEnded(String taskId, Duration atMost) {
    return await().atMost(atMost).pollInterval(Duration.ofMillis(50))
        .until(() -> status(taskId).expect(200), s -> ENDED.contains(s.get("status").asText()));
  }

  /** The member of a swarm listing whose worker is {@code workerId}. */
  public static JsonNode member(JsonNode swarm, String workerId) {
    for (JsonNode m : swarm.get("members")) {
      if (workerId.equals(m.path("worker_id").asText())) {
        return m;
      }
    }
    throw new AssertionError("no member " + workerId + " in " + swarm);
  }

  private Reply get(String path) {
    return send(request(path).GET());
  }

  private Reply post(String path, JsonNode body) {
    return send(request(path).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
        .header("X-Api-Key", key);
  }

  private Reply send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      return new Reply(r.statusCode(), JSON.readTree(r.body()));
    } catch (IOException e) {
      throw new AssertionError("request failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    http.close();
  }
}
