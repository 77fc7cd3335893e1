package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.bridge.Grid.Reply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The aitbc CLI's {@code swarm} requests (contract §9 and §11), sent as the CLI sends them, against
 * a real coordinator and three scripted workers, one of which returns subtly wrong embeddings: join
 * (exactly 201), coordinate (exactly 202), status until it ends, consensus at another threshold,
 * list with the dissenter's reputation, receipt and leave; under {@code /swarm} and {@code /v1/swarm};
 * leader election and a distributed list end to end.
 */
@ExtendWith(Grid.PerClass.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SwarmCliIT {
  private static final String ID = "[0-9a-f]{32}";
  private static final List<String> ENDED = List.of("completed", "failed", "cancelled");

  private final Grid grid;
  private final SwarmFleet fleet;

  SwarmCliIT(Grid grid) {
    this.grid = grid;
    this.fleet = new SwarmFleet(grid);
  }

  @AfterAll
  void stop() {
    fleet.close();
  }

  /** {@code swarm status TASK} until the status is terminal, as --real-time would stop. */
  static JsonNode ended(Grid grid, String prefix, String taskId, String key) {
    List<Integer> progress = new ArrayList<>();
    JsonNode last = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
      Reply r = grid.get(prefix + "/tasks/" + taskId + "/status", key);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      JsonNode s = r.json();
      // What --real-time reads, every time.
      assertThat(s.get("status").asText()).isIn("pending", "running", "completed", "failed", "cancelled");
      assertThat(s.get("progress").isInt()).isTrue();
      assertThat(s.get("active_collaborators").isInt()).isTrue();
      assertThat(s.get("total_collaborators").isInt()).isTrue();
      progress.add(s.get("progress").asInt());
      return s;
    }, s -> ENDED.contains(s.get("status").asText()));
    assertThat(progress).isSorted();
    return last;
  }

  @Test
  void theCliJoinsCoordinatesWatchesRecomputesListsAndLeaves() {
    // The byzantine worker's owner is a member of the embedding swarm: its reputation shows in the list.
    Reply owner = grid.post("/swarm/join", fleet.keys.get(SwarmFleet.BYZANTINE),
        "{\"role\": \"resource-optimizer\", \"capability\": \"embedding\", \"priority\": \"normal\"}");
    assertThat(owner.status()).as(owner.body()).isEqualTo(201);
    assertThat(owner.json().get("member").get("kind").asText()).isEqualTo("owner");

    // swarm join --role task-coordinator --capability gpu --region eu --priority high
    Reply joined = grid.post("/swarm/join", grid.clientKey,
        "{\"role\": \"task-coordinator\", \"capability\": \"gpu\", \"priority\": \"high\", \"region\": \"eu\"}");
    assertThat(joined.status()).as(joined.body()).isEqualTo(201);
    JsonNode j = joined.json();
    assertThat(j.get("swarm_id").asText()).matches(ID);
    assertThat(j.get("role").asText()).isEqualTo("task-coordinator");
    assertThat(j.get("status").asText()).isEqualTo("joined");
    assertThat(j.get("name").asText()).isEqualTo("gpu-eu");
    assertThat(j.get("region").asText()).isEqualTo("eu");
    assertThat(j.get("priority").asText()).isEqualTo("high");
    assertThat(j.get("existing").asBoolean()).isFalse();
    assertThat(j.get("member").get("client_id").asText()).isEqualTo("client-a");
    assertThat(j.get("member").get("joined_at").asText()).matches(Grid.NAIVE_TIME);
    // Again: the same membership, still exactly 201 (the CLI accepts nothing else).
    Reply again = grid.post("/swarm/join", grid.clientKey,
        "{\"role\": \"monitor\", \"capability\": \"gpu\", \"priority\": \"low\", \"region\": \"eu\"}");
    assertThat(again.status()).as(again.body()).isEqualTo(201);
    assertThat(again.json().get("swarm_id").asText()).isEqualTo(j.get("swarm_id").asText());
    assertThat(again.json().get("existing").asBoolean()).isTrue();
    assertThat(again.json().get("role").asText()).isEqualTo("monitor");

    // swarm coordinate --task embedding --collaborators 3 --strategy consensus --timeout 600
    Reply started = grid.post("/swarm/coordinate", grid.clientKey,
        "{\"task\": \"embedding\", \"collaborators\": 3, \"strategy\": \"consensus\", \"timeout_seconds\": 600}");
    assertThat(started.status()).as(started.body()).isEqualTo(202);
    JsonNode c = started.json();
    String taskId = c.get("task_id").asText();
    assertThat(taskId).matches(ID);
    assertThat(c.get("status").asText()).isEqualTo("started");
    assertThat(c.get("strategy").asText()).isEqualTo("consensus");
    assertThat(c.get("probe").asBoolean()).isTrue();
    assertThat(c.get("consensus_threshold").asDouble()).isEqualTo(0.66);
    assertThat(c.get("timeout_seconds").asInt()).isEqualTo(600);
    assertThat(c.get("candidates")).extracting(x -> x.get("worker_id").asText())
        .containsExactlyInAnyOrderElementsOf(SwarmFleet.IDS);

    // swarm status TASK, until it ends
    JsonNode s = ended(grid, "/swarm", taskId, grid.clientKey);
    assertThat(s.get("status").asText()).as(s.toString()).isEqualTo("completed");
    assertThat(s.get("progress").asInt()).isEqualTo(100);
    assertThat(s.get("active_collaborators").asInt()).isZero();
    assertThat(s.get("total_collaborators").asInt()).isEqualTo(3);
    assertThat(s.get("consensus_reached").asBoolean()).isTrue();
    assertThat(s.get("comparison").asText()).contains("cosine");
    assertThat(s.get("task").get("type").asText()).isEqualTo("embedding");
    assertThat(s.get("result")).isEqualTo(SwarmFleet.honestResult());
    assertThat(s.get("result_sha256").asText()).hasSize(64);
    assertThat(s.get("completed_at").asText()).matches(Grid.NAIVE_TIME);
    JsonNode d = s.get("decision");
    assertThat(d.get("dissenting_workers")).extracting(JsonNode::asText).containsExactly(SwarmFleet.BYZANTINE);
    assertThat(d.get("agreeing_workers")).extracting(JsonNode::asText).containsExactlyInAnyOrder("sw-1", "sw-3");
    assertThat(d.get("explanation").asText()).isEqualTo("2 of 3 results agree (share 0.667 >= threshold 0.660)");
    assertThat(d.get("groups")).hasSize(2);
    assertThat(d.get("chosen_result")).isEqualTo(s.get("result"));
    assertThat(s.get("members")).hasSize(3).allSatisfy(m -> {
      assertThat(m.get("state").asText()).isEqualTo("COMPLETED");
      assertThat(m.get("job_id").asText()).matches(ID);
      assertThat(m.get("result_sha256").asText()).hasSize(64);
      assertThat(m.get("vote").asText()).isEqualTo(m.get("worker_id").asText().equals(SwarmFleet.BYZANTINE)
          ? "dissent" : "agree");
      assertThat(m.has("result")).isFalse();
    });
    // Each member's own result, on request.
    JsonNode withResults = grid.get("/swarm/tasks/" + taskId + "/status?include_results=true", grid.clientKey).json();
    assertThat(withResults.get("members")).allSatisfy(m -> assertThat(m.get("result").get("embedding")).hasSize(384));

    // swarm consensus TASK --consensus-threshold 0.8: the same results, not enough agreement; nothing recorded.
    Reply strict = grid.post("/swarm/tasks/" + taskId + "/consensus", grid.clientKey, "{\"consensus_threshold\": 0.8}");
    assertThat(strict.status()).as(strict.body()).isEqualTo(200);
    assertThat(strict.json().get("consensus_reached").asBoolean()).isFalse();
    assertThat(strict.json().get("consensus_threshold").asDouble()).isEqualTo(0.8);
    assertThat(strict.json().get("dissenting_workers")).extracting(JsonNode::asText)
        .containsExactly(SwarmFleet.BYZANTINE);
    assertThat(strict.json().get("chosen_result")).isEqualTo(SwarmFleet.honestResult());
    assertThat(strict.json().get("recorded").asBoolean()).isFalse();
    Reply own = grid.post("/swarm/tasks/" + taskId + "/consensus", grid.clientKey);
    assertThat(own.json().get("consensus_reached").asBoolean()).as(own.body()).isTrue();
    assertThat(grid.get("/swarm/tasks/" + taskId, grid.clientKey).json().get("consensus_reached").asBoolean()).isTrue();

    // swarm list --limit 5: the dissenter's owner lost reputation.
    Reply listed = grid.get("/swarm/list?limit=5", grid.clientKey);
    assertThat(listed.status()).as(listed.body()).isEqualTo(200);
    JsonNode embedding = swarm(listed.json(), "embedding");
    JsonNode byzantine = embedding.get("members").get(0);
    assertThat(byzantine.get("client_id").asText()).isEqualTo("owner-" + SwarmFleet.BYZANTINE);
    assertThat(byzantine.get("dissents").asInt()).isEqualTo(1);
    assertThat(byzantine.get("reputation").asDouble()).isLessThan(0.5);
    assertThat(byzantine.get("connected_workers")).extracting(JsonNode::asText).containsExactly(SwarmFleet.BYZANTINE);
    assertThat(swarm(listed.json(), "gpu-eu").get("members").get(0).get("role").asText()).isEqualTo("monitor");
    assertThat(grid.get("/swarm/list?swarm_id=gpu-eu&status=joined", grid.clientKey).json().get("swarms"))
        .singleElement().satisfies(x -> assertThat(x.get("swarm_id").asText()).isEqualTo(j.get("swarm_id").asText()));

    // The task's signed receipt, once it has one.
    JsonNode receipt = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> grid.get("/swarm/tasks/" + taskId + "/receipt", grid.clientKey), r -> r.status() == 200).json();
    assertThat(receipt.toString()).contains(taskId);

    // swarm leave SWARM_ID; then it is not a member any more.
    Reply left = grid.post("/swarm/" + j.get("swarm_id").asText() + "/leave", grid.clientKey);
    assertThat(left.status()).as(left.body()).isEqualTo(200);
    assertThat(left.json().get("status").asText()).isEqualTo("left");
    assertThat(left.json().get("left")).singleElement()
        .satisfies(m -> assertThat(m.get("client_id").asText()).isEqualTo("client-a"));
    assertThat(grid.post("/swarm/gpu-eu/leave", grid.clientKey).assertError(404)).startsWith("you are not a member");
  }

  private static JsonNode swarm(JsonNode list, String name) {
    for (JsonNode s : list.get("swarms")) {
      if (s.get("name").asText().equals(name)) {
        return s;
      }
    }
    throw new AssertionError("no swarm " + name + " in " + list);
  }

  @Test
  void theV1PrefixServesTheSameRoutesLeaderElectionAndADistributedList() {
    Reply joined = grid.post("/v1/swarm/join", grid.otherClientKey, "{\"role\": \"load-balancer\", \"capability\": \"noop\"}");
    assertThat(joined.status()).as(joined.body()).isEqualTo(201);
    assertThat(joined.json().get("region").isNull()).isTrue();
    assertThat(joined.json().get("priority").asText()).isEqualTo("normal");

    // Leader election: one member runs it, chosen by a rule the status explains.
    Reply leader = grid.post("/v1/swarm/coordinate", grid.otherClientKey,
        "{\"task\": \"{\\\"type\\\": \\\"noop\\\", \\\"echo\\\": \\\"hi\\\"}\", \"collaborators\": 2, "
            + "\"strategy\": \"leader-election\", \"timeout_seconds\": 60}");
    assertThat(leader.status()).as(leader.body()).isEqualTo(202);
    assertThat(leader.json().get("strategy").asText()).isEqualTo("leader-election");
    assertThat(leader.json().get("consensus_threshold").isNull()).isTrue();
    JsonNode l = ended(grid, "/v1/swarm", leader.json().get("task_id").asText(), grid.otherClientKey);
    assertThat(l.get("status").asText()).as(l.toString()).isEqualTo("completed");
    assertThat(l.get("total_collaborators").asInt()).isEqualTo(1);
    assertThat(l.get("result").get("echo").asText()).isEqualTo("hi");
    assertThat(l.get("leader").get("worker_id").asText()).isIn(SwarmFleet.IDS);
    assertThat(l.get("leader").get("rule").asText()).isNotBlank();
    assertThat(l.get("decision").isNull()).isTrue();
    // A task of another strategy has no consensus to compute.
    assertThat(grid.post("/v1/swarm/tasks/" + l.get("task_id").asText() + "/consensus", grid.otherClientKey,
        "{\"consensus_threshold\": 0.5}").assertError(409)).contains("leader-election");

    // Distributed: the list split over two members, the parts joined in order; task as a JSON object.
    Reply split = grid.post("/v1/swarm/coordinate", grid.otherClientKey,
        "{\"task\": {\"type\": \"noop\", \"items\": [1, 2, 3, 4, 5]}, \"collaborators\": 2, \"strategy\": \"distributed\"}");
    assertThat(split.status()).as(split.body()).isEqualTo(202);
    JsonNode t = ended(grid, "/v1/swarm", split.json().get("task_id").asText(), grid.otherClientKey);
    assertThat(t.get("status").asText()).as(t.toString()).isEqualTo("completed");
    assertThat(t.get("result").get("items")).extracting(JsonNode::asInt).containsExactly(1, 2, 3, 4, 5);
    assertThat(t.get("members")).extracting(m -> m.get("part_from").asInt() + "-" + m.get("part_to").asInt())
        .containsExactly("0-3", "3-5");
    assertThat(t.get("members")).extracting(m -> m.get("worker_id").asText()).doesNotHaveDuplicates();

    Reply listed = grid.get("/v1/swarm/list?swarm_id=" + joined.json().get("swarm_id").asText(), grid.otherClientKey);
    assertThat(listed.status()).as(listed.body()).isEqualTo(200);
    assertThat(listed.json().get("swarms")).singleElement().satisfies(x -> assertThat(x.get("name").asText())
        .isEqualTo("noop"));
    assertThat(listed.json().get("next_offset").isNull()).isTrue();
    Reply left = grid.post("/v1/swarm/noop/leave", grid.otherClientKey);
    assertThat(left.status()).as(left.body()).isEqualTo(200);
  }

  @Test
  void aRetryWithTheSameIdempotencyKeyStartsNothingNewAndACancelEndsTheTask() {
    String body = "{\"task\": \"noop\", \"collaborators\": 2, \"strategy\": \"consensus\", \"timeout_seconds\": 60}";
    Reply first = grid.send(grid.request("/swarm/coordinate", grid.clientKey).header("Idempotency-Key", "retry-1")
        .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
    Reply second = grid.send(grid.request("/swarm/coordinate", grid.clientKey).header("Idempotency-Key", "retry-1")
        .header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)));
    assertThat(first.status()).as(first.body()).isEqualTo(202);
    assertThat(second.status()).as(second.body()).isEqualTo(202);
    assertThat(second.json().get("task_id").asText()).isEqualTo(first.json().get("task_id").asText());
    assertThat(first.json().get("existing").asBoolean()).isFalse();
    assertThat(second.json().get("existing").asBoolean()).isTrue();

    String taskId = first.json().get("task_id").asText();
    Reply cancelled = grid.post("/swarm/tasks/" + taskId + "/cancel", grid.clientKey, "{\"reason\": \"enough\"}");
    assertThat(cancelled.status()).as(cancelled.body()).isEqualTo(200);
    // It may have ended before the cancel came: then it is answered as it is.
    assertThat(cancelled.json().get("status").asText()).isIn("cancelled", "completed");
    assertThat(cancelled.json().get("changed").isBoolean()).isTrue();
  }
}
