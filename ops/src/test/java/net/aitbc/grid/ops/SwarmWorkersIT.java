package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.aitbc.grid.bridge.Bridge;
import net.aitbc.grid.bridge.BridgeConfig;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.ops.testing.SwarmCli;
import net.aitbc.grid.ops.testing.WorkerFleet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Swarms with real workers: three worker nodes running the embedded model, each with its own id,
 * owner and key, all started with {@code --swarm embedding-eu}, and one byzantine (its embeddings
 * turned to cosine 0.95). Driven through the REST bridge with the CLI's exact calls: the consensus
 * names the byzantine worker and lowers its reputation in {@code swarm list}; at 0.8 there is no
 * consensus; a collaborator killed mid-task is replaced by a worker that was not one.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwarmWorkersIT {
  private static final String BYZANTINE = "fleet-worker-3";
  private static final Duration TASK_TIMEOUT = Duration.ofSeconds(30);

  private static TestDatabase db;
  private static Coordinator coordinator;
  private static Bridge bridge;
  private static WorkerFleet fleet;
  private static SwarmCli cli;

  @BeforeAll
  static void start() {
    db = TestDatabase.create();
    coordinator = Coordinator.start(TestConfigs.coordinator(db.url()));
    bridge = Bridge.start(BridgeConfig.defaults().withListen("127.0.0.1", 0)
        .withCoordinator("127.0.0.1:" + coordinator.grpcPort()).withEnv("test"));
    fleet = WorkerFleet.builder(coordinator).workers(3).byzantine(BYZANTINE).swarms("embedding-eu").start();
    cli = new SwarmCli(bridge.port(), coordinator.createKey(Role.CLIENT, "swarm-client"));
  }

  @AfterAll
  static void stop() {
    if (cli != null) {
      cli.close();
    }
    if (fleet != null) {
      fleet.close();
    }
    if (bridge != null) {
      bridge.close();
    }
    if (coordinator != null) {
      coordinator.close();
    }
    db.close();
  }

  @Test
  @Order(1)
  void workersStartedWithASwarmAreItsMembers() {
    JsonNode swarm = cli.list("embedding-eu").expect(200).get("swarms").get(0);
    assertThat(swarm.get("name").asText()).isEqualTo("embedding-eu");
    assertThat(swarm.get("capability").asText()).isEqualTo("embedding");
    assertThat(swarm.get("region").asText()).isEqualTo("eu");
    assertThat(swarm.get("status").asText()).isEqualTo("active");
    assertThat(swarm.get("connected_workers").asInt()).isEqualTo(3);
    assertThat(swarm.get("members")).extracting(m -> m.get("worker_id").asText())
        .containsExactlyInAnyOrderElementsOf(fleet.ids());
    assertThat(swarm.get("members")).allSatisfy(m -> {
      assertThat(m.get("kind").asText()).isEqualTo("worker");
      assertThat(m.get("role").asText()).isEqualTo("worker");
      // Each worker's owner is its own id.
      assertThat(m.get("client_id").asText()).isEqualTo(m.get("worker_id").asText());
      assertThat(m.get("connected_workers")).extracting(JsonNode::asText).containsExactly(m.get("worker_id").asText());
    });
  }

  @Test
  @Order(2)
  void consensusNamesTheByzantineWorkerAndLowersItsReputation() {
    // swarm coordinate --task embedding --collaborators 3 --strategy consensus
    JsonNode started = cli.coordinate("embedding", 3, "consensus", 3600).expect(202);
    String taskId = started.get("task_id").asText();
    assertThat(started.get("status").asText()).isEqualTo("started");
    JsonNode t = cli.awaitEnded(taskId, TASK_TIMEOUT);

    assertThat(t.get("status").asText()).as(t.toString()).isEqualTo("completed");
    assertThat(t.get("consensus_reached").asBoolean()).isTrue();
    JsonNode d = t.get("decision");
    assertThat(d.get("dissenting_workers")).extracting(JsonNode::asText).containsExactly(BYZANTINE);
    assertThat(d.get("agreeing_workers")).extracting(JsonNode::asText)
        .containsExactlyInAnyOrderElementsOf(fleet.honestIds());
    assertThat(d.get("explanation").asText()).isEqualTo("2 of 3 results agree (share 0.667 >= threshold 0.660)");
    // The honest two agree exactly; the byzantine one is close, yet well under the rule's bound.
    assertThat(d.get("groups").get(d.get("chosen_group").asInt()).get("min_similarity").asDouble()).isEqualTo(1.0);
    assertThat(t.get("result").get("embedding")).hasSize(384);
    assertThat(fleet.perturbing(BYZANTINE).perturbed()).isEqualTo(1);
    JsonNode byzantine = member(t, BYZANTINE);
    assertThat(byzantine.get("vote").asText()).isEqualTo("dissent");
    assertThat(byzantine.get("result_sha256").asText()).isNotEqualTo(member(t, fleet.honestIds().get(0))
        .get("result_sha256").asText());

    // swarm list: the dissenter lost reputation, the others gained.
    JsonNode swarm = cli.list("embedding-eu").expect(200).get("swarms").get(0);
    assertThat(SwarmCli.member(swarm, BYZANTINE).get("reputation").asDouble()).isLessThan(0.5);
    assertThat(SwarmCli.member(swarm, BYZANTINE).get("dissents").asInt()).isEqualTo(1);
    for (String honest : fleet.honestIds()) {
      assertThat(SwarmCli.member(swarm, honest).get("reputation").asDouble()).isGreaterThan(0.5);
      assertThat(SwarmCli.member(swarm, honest).get("agreements").asInt()).isEqualTo(1);
    }

    // swarm consensus TASK --consensus-threshold 0.8: the same results fall short.
    JsonNode strict = cli.consensus(taskId, 0.8).expect(200);
    assertThat(strict.get("consensus_reached").asBoolean()).isFalse();
    assertThat(strict.get("dissenting_workers")).extracting(JsonNode::asText).containsExactly(BYZANTINE);
    assertThat(strict.get("explanation").asText()).contains("< threshold 0.800");
    System.out.printf("[SwarmWorkersIT] %s; at 0.8: %s%n", d.get("explanation").asText(),
        strict.get("explanation").asText());
  }

  @Test
  @Order(3)
  void aCollaboratorKilledMidTaskIsReplacedByAWorkerThatWasNotOne() throws Exception {
    // Two of the three, each sleeping on the same noop; results compared by hash, the worker_id
    // that the noop backend writes in its result left out.
    JsonNode started = cli.coordinate("{\"type\": \"noop\", \"sleep_ms\": 3000, \"echo\": \"swarm\"}", 2,
        "consensus", 120).expect(202);
    String taskId = started.get("task_id").asText();
    JsonNode running = await().atMost(TASK_TIMEOUT).pollInterval(Duration.ofMillis(20))
        .until(() -> cli.status(taskId).expect(200), s -> s.get("members").size() == 2
            && allRunning(s.get("members")));
    List<String> collaborators = new ArrayList<>();
    running.get("members").forEach(m -> collaborators.add(m.get("worker_id").asText()));
    String victim = collaborators.getFirst();
    long killedAt = System.nanoTime();
    fleet.kill(victim);

    JsonNode t = cli.awaitEnded(taskId, TASK_TIMEOUT);
    double seconds = (System.nanoTime() - killedAt) / 1e9;
    assertThat(t.get("status").asText()).as(t.toString()).isEqualTo("completed");
    assertThat(t.get("consensus_reached").asBoolean()).isTrue();
    assertThat(t.get("result").get("echo").asText()).isEqualTo("swarm");
    assertThat(t.get("members")).hasSize(3);
    JsonNode replacement = t.get("members").get(1);
    assertThat(replacement.get("slot").asInt()).isEqualTo(t.get("members").get(0).get("slot").asInt());
    assertThat(replacement.get("replacement").asInt()).isEqualTo(1);
    assertThat(replacement.get("role").asText()).isEqualTo("replacement");
    assertThat(replacement.get("replaced_worker_id").asText()).isEqualTo(victim);
    assertThat(replacement.get("state").asText()).isEqualTo("COMPLETED");
    // Neither the victim nor the other collaborator: the worker that was not one.
    Set<String> others = Set.copyOf(fleet.ids());
    assertThat(replacement.get("worker_id").asText()).isIn(others).isNotIn(collaborators);
    assertThat(t.get("members").get(0).get("state").asText()).isNotEqualTo("COMPLETED");
    assertThat(t.get("members").get(0).get("error").asText()).isNotBlank();
    System.out.printf("[SwarmWorkersIT] %s killed mid-task; replaced by %s; the task completed %.1f s later (%s)%n",
        victim, replacement.get("worker_id").asText(), seconds, t.get("members").get(0).get("error").asText());
  }

  private static boolean allRunning(JsonNode members) {
    for (JsonNode m : members) {
      if (!"RUNNING".equals(m.get("state").asText())) {
        return false;
      }
    }
    return true;
  }

  private static JsonNode member(JsonNode task, String workerId) {
    for (JsonNode m : task.get("members")) {
      if (m.get("worker_id").asText().equals(workerId)) {
        return m;
      }
    }
    throw new AssertionError(workerId + " is no member of " + task);
  }
}
