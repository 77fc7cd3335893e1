package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.Grid.ids;
import static net.aitbc.grid.bridge.Grid.time;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The roadmap's {@code GET /v1/jobs/history}: the CLI's list (same query, same page) under the path
 * the roadmap names, where {@code include_results=true} adds each job's result; against a real
 * coordinator and workers that really finish the jobs.
 */
@ExtendWith(Grid.PerClass.class)
class HistoryIT {
  private static final String RESULT = "{\"output\": \"hello\", \"scores\": [1, 2.50, -0.125]}";

  private final Grid grid;

  HistoryIT(Grid grid) {
    this.grid = grid;
  }

  @Test
  void historyIsAListNotAJobId() {
    String id = grid.submit(grid.clientKey, "m-route");

    Reply history = grid.get("/v1/jobs/history", grid.clientKey);
    Reply list = grid.get("/v1/jobs", grid.clientKey);

    assertThat(history.status()).as(history.body()).isEqualTo(200);
    assertThat(ids(history.json())).contains(id);
    // No limit asked for: the page size is the coordinator's default, echoed the same on both paths.
    assertThat(history.json().get("limit").asInt()).isPositive().isEqualTo(list.json().get("limit").asInt());
    assertThat(history.json().get("offset").asInt()).isZero();
    assertThat(history.json().get("items").get(0).has("result")).isFalse();
    // Only GET is history; other methods on the path are the job routes', for which it is no job id.
    assertThat(grid.delete("/v1/jobs/history", grid.clientKey).assertError(404)).isEqualTo("job not found");
    assertThat(grid.get("/v1/jobs/history/result", grid.clientKey).assertError(404)).isEqualTo("job not found");
    assertThat(grid.get("/v1/jobs/history", grid.otherClientKey).body()).doesNotContain(id);
  }

  @Test
  void historyFiltersPagesAndCarriesResults() throws Exception {
    String done = grid.submit(grid.clientKey, "m-done");
    String failed = grid.submit(grid.clientKey, "m-failed");
    String queued = grid.submit(grid.clientKey, "m-queued");
    try (TestWorker w = grid.worker("w-done", "m-done")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.complete(a.getJobId(), a.getAttempt(), RESULT);
      awaitState(done, "COMPLETED");
    }
    try (TestWorker w = grid.worker("w-failed", "m-failed")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.fail(a.getJobId(), a.getAttempt(), "the model crashed", false);
      awaitState(failed, "FAILED");
    }
    LocalDateTime requested = time(grid.get("/v1/jobs/" + done, grid.clientKey).json(), "requested_at");
    String window = "&type=inference&from_time=" + requested.minusHours(1).truncatedTo(ChronoUnit.SECONDS)
        + "&to_time=" + requested.plusHours(1).truncatedTo(ChronoUnit.SECONDS);

    JsonNode page = ok("/v1/jobs/history?include_results=true&status=completed,failed&limit=50" + window);

    assertThat(ids(page)).contains(done, failed).doesNotContain(queued);
    Map<String, JsonNode> items = byId(page);
    JsonNode completed = items.get(done);
    assertThat(completed.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(completed.get("result")).isEqualTo(Grid.JSON.readTree(RESULT));
    assertThat(completed.get("finished_at").asText()).matches(Grid.NAIVE_TIME);
    // The result comes after the JobView's fields.
    assertThat(completed.properties()).extracting(Map.Entry::getKey).startsWith("job_id", "state").endsWith("result");
    assertThat(items.get(failed).get("result").isNull()).isTrue();
    assertThat(items.get(failed).get("error").asText()).contains("the model crashed");
    page.get("items").forEach(item -> assertThat(item.get("state").asText()).isIn("COMPLETED", "FAILED"));

    // Without include_results (or with false), the page is GET /v1/jobs's: no result field.
    for (String path : List.of("/v1/jobs/history?status=completed",
        "/v1/jobs/history?include_results=false&status=completed", "/v1/jobs?status=completed")) {
      JsonNode plain = ok(path + "&limit=50" + window);
      assertThat(ids(plain)).as(path).contains(done);
      plain.get("items").forEach(item -> assertThat(item.has("result")).as(path).isFalse());
    }
    // One query for both paths: GET /v1/jobs takes include_results too.
    assertThat(byId(ok("/v1/jobs?include_results=true&status=completed&limit=50" + window)).get(done).get("result"))
        .isEqualTo(completed.get("result"));

    // Paging: limit and offset are echoed from the coordinator's answer.
    JsonNode second = ok("/v1/jobs/history?include_results=true&status=completed,failed&limit=1&offset=1" + window);
    assertThat(second.get("limit").asInt()).isEqualTo(1);
    assertThat(second.get("offset").asInt()).isEqualTo(1);
    assertThat(second.get("total").asInt()).isEqualTo(1);
    assertThat(ids(second)).containsExactly(ids(page).get(1));

    // A window before the jobs existed finds none of them.
    JsonNode before = ok("/v1/jobs/history?include_results=true&from_time=2000-01-01&to_time=2000-01-02");
    assertThat(before.get("items").size()).isZero();
    // Another client's history does not have them.
    assertThat(ids(grid.get("/v1/jobs/history?include_results=true&limit=1000", grid.otherClientKey).json()))
        .doesNotContain(done, failed, queued);
  }

  private JsonNode ok(String path) {
    Reply r = grid.get(path, grid.clientKey);
    assertThat(r.status()).as(path + ": " + r.body()).isEqualTo(200);
    return r.json();
  }

  private void awaitState(String id, String state) {
    await().atMost(Duration.ofSeconds(10)).until(() ->
        grid.get("/v1/jobs/" + id, grid.clientKey).json().get("state").asText().equals(state));
  }

  private static Map<String, JsonNode> byId(JsonNode page) {
    Map<String, JsonNode> items = new java.util.HashMap<>();
    page.get("items").forEach(item -> items.put(item.get("job_id").asText(), item));
    return items;
  }
}
