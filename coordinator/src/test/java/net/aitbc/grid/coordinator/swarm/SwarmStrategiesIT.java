package net.aitbc.grid.coordinator.swarm;

import static net.aitbc.grid.coordinator.testing.Swarms.coordinate;
import static net.aitbc.grid.coordinator.testing.Swarms.ended;
import static net.aitbc.grid.coordinator.testing.Swarms.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Reply;
import net.aitbc.grid.coordinator.testing.Swarms;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.db.Tables;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetTaskReceiptRequest;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.SwarmServiceGrpc.SwarmServiceBlockingStub;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The strategies end to end over a real coordinator and hand-spoken workers: a collaborator killed
 * mid-task is replaced by a worker that is no collaborator yet; leader election runs on the worker its
 * recorded rule chose; distributed splits a list and joins the parts in order. Each test has its own
 * job type, so that no job of one test reaches another's workers.
 */
class SwarmStrategiesIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private final List<ScriptedWorker> workers = new ArrayList<>();
  private SwarmServiceBlockingStub swarm;

  @BeforeEach
  void client() {
    swarm = Swarms.client(grid, grid.clientKey("carol"));
  }

  @AfterEach
  void stop() {
    workers.forEach(ScriptedWorker::close);
  }

  private ScriptedWorker worker(String id, String type, java.util.function.Function<Assignment, Reply> script) {
    ScriptedWorker w = ScriptedWorker.start(grid, id, 2, script, type).heartbeating();
    workers.add(w);
    return w;
  }

  /** Completes as the noop backend does: ok, its worker id, and the payload's echo. */
  private static Reply echo(Assignment a, String workerId) {
    ObjectNode r = JsonNodeFactory.instance.objectNode().put("ok", true).put("worker_id", workerId);
    r.set("echo", Workflows.parse(a.getPayloadJson()).path("echo"));
    return new Complete(r.toString(), "{}");
  }

  @Test
  void aCollaboratorKilledMidTaskIsReplacedOnAWorkerThatIsNoCollaborator() {
    String type = "kill-test";
    for (String id : List.of("k1", "k3", "k4")) {
      worker(id, type, a -> echo(a, id));
    }
    // k2 takes its member job and dies with it.
    TestWorker k2 = grid.worker("k2", type);
    try {
      k2.credit(1);
      String taskId = coordinate(swarm, "{'type':'" + type + "','echo':'same'}", 3, "consensus");
      Assignment held = k2.nextAssignment();
      // The member rows commit with the engine's pass, a moment after the jobs reach their workers.
      SwarmTask running = await().atMost(Duration.ofSeconds(10)).until(() -> Swarms.get(swarm, taskId),
          r -> r.getMembersCount() == 3);
      List<String> collaborators = running.getMembersList().stream().map(SwarmTaskMember::getWorkerId).toList();
      assertThat(collaborators).hasSize(3).contains("k2");
      assertThat(held.getJobId()).isEqualTo(member(running, "k2").getJobId());
      k2.kill();

      SwarmTask t = ended(swarm, taskId);
      assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
      SwarmTaskMember lost = member(t, "k2");
      assertThat(lost.getJobState()).isEqualTo(JobState.JOB_STATE_FAILED);
      assertThat(lost.getError()).contains("k2");
      SwarmTaskMember replacement = t.getMembersList().stream()
          .filter(m -> m.getSlot() == lost.getSlot() && m.getReplacement() == 1).findFirst().orElseThrow();
      assertThat(replacement.getWorkerId()).isNotIn(collaborators);
      assertThat(replacement.getReplacedWorkerId()).isEqualTo("k2");
      assertThat(replacement.getRole()).isEqualTo("replacement");
      assertThat(replacement.getJobState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
      assertThat(t.getDecision().getConsensusReached()).isTrue();
      assertThat(t.getDecision().getAgreeingWorkersList()).hasSize(3).doesNotContain("k2")
          .contains(replacement.getWorkerId());
      assertThat(t.getDecision().getMissingWorkersList()).isEmpty();
    } finally {
      k2.close();
    }
  }

  @Test
  void leaderElectionRunsOnTheWorkerItsRuleChoseAndSaysWhy() {
    String type = "lead-test";
    for (String id : List.of("l1", "l2", "l3")) {
      worker(id, type, a -> echo(a, id));
    }
    // l3 has been reliable before.
    grid.query(dsl -> dsl.insertInto(Tables.WORKER_REPUTATION)
        .set(Tables.WORKER_REPUTATION.WORKER_ID, "l3").set(Tables.WORKER_REPUTATION.OWNER_ID, "owner")
        .set(Tables.WORKER_REPUTATION.REPUTATION, new BigDecimal("0.9")).set(Tables.WORKER_REPUTATION.AGREEMENTS, 9)
        .set(Tables.WORKER_REPUTATION.DISSENTS, 0).set(Tables.WORKER_REPUTATION.UPDATED_AT, OffsetDateTime.now())
        .execute());
    SwarmTask t = ended(swarm, coordinate(swarm, "{'type':'" + type + "','echo':'hi'}", 3, "leader-election"));

    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(t.getStrategy()).isEqualTo("leader-election");
    assertThat(t.getTotalCollaborators()).isEqualTo(1);
    assertThat(t.getLeader().getWorkerId()).isEqualTo("l3");
    assertThat(t.getLeader().getRule()).startsWith("by reputation: 0.9000 over 0.5000 (l1)");
    assertThat(Workflows.parse(t.getResultJson()).path("worker_id").asText()).isEqualTo("l3");
    assertThat(t.getCandidatesList()).extracting(c -> c.getWorkerId()).containsExactly("l3", "l1", "l2");
    assertThat(t.getMembersList()).singleElement().satisfies(m -> {
      assertThat(m.getWorkerId()).isEqualTo("l3");
      assertThat(m.getRole()).isEqualTo("leader");
    });
    assertThat(workers.get(0).assignments()).isEmpty();
    assertThat(workers.get(1).assignments()).isEmpty();
  }

  @Test
  void aLeaderThatFailsIsSucceededByItsStandIn() {
    String type = "standin-test";
    worker("s1", type, a -> new ScriptedWorker.Fail("out of memory", false));
    worker("s2", type, a -> echo(a, "s2"));
    SwarmTask t = ended(swarm, coordinate(swarm, "{'type':'" + type + "','echo':'x'}", 2, "leader-election"));

    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(t.getLeader().getWorkerId()).isEqualTo("s2");
    assertThat(t.getLeader().getRule()).startsWith("stand-in after s1 ended without a result (out of memory)");
    assertThat(t.getMembersList()).extracting(m -> m.getWorkerId() + ":" + m.getJobState())
        .containsExactly("s1:JOB_STATE_FAILED", "s2:JOB_STATE_COMPLETED");
    assertThat(Workflows.parse(t.getResultJson()).path("worker_id").asText()).isEqualTo("s2");
  }

  @Test
  void distributedSplitsTheListAndJoinsThePartsInOrder() {
    String type = "split-test";
    for (String id : List.of("d1", "d2")) {
      // Returns each of its items doubled, as "values".
      worker(id, type, a -> {
        ArrayNode values = JsonNodeFactory.instance.arrayNode();
        Workflows.parse(a.getPayloadJson()).path("items").forEach(i -> values.add(i.asInt() * 2));
        ObjectNode r = JsonNodeFactory.instance.objectNode().put("worker_id", id).put("unit", "x2");
        r.set("values", values);
        return new Complete(r.toString(), "{}");
      });
    }
    SwarmTask t = ended(swarm, coordinate(swarm, "{'type':'" + type + "','items':[1,2,3,4,5]}", 2, "distributed"));

    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(t.getTotalCollaborators()).isEqualTo(2);
    assertThat(Workflows.parse(t.getResultJson())).isEqualTo(Workflows.parse("{\"values\":[2,4,6,8,10],\"unit\":\"x2\"}"));
    assertThat(t.getMembersList()).extracting(m -> m.getPartFrom() + "-" + m.getPartTo())
        .containsExactly("0-3", "3-5");
    assertThat(t.getMembersList()).extracting(SwarmTaskMember::getWorkerId).containsExactlyInAnyOrder("d1", "d2");
    assertThat(t.getResultSha256()).isEqualTo(CanonicalJson.sha256Hex(CanonicalJson.parse(t.getResultJson())));
  }

  @Test
  void anEndedTaskHasASignedReceiptNamingItsMemberJobsReceipts() {
    String type = "receipt-test";
    for (String id : List.of("r1", "r2")) {
      worker(id, type, a -> echo(a, id));
    }
    SwarmTask t = ended(swarm, coordinate(swarm, "{'type':'" + type + "','echo':'r'}", 2, "consensus"));
    assertThat(t.getReceiptId()).hasSize(32);
    Receipt r = swarm.getTaskReceipt(GetTaskReceiptRequest.newBuilder().setTaskId(t.getTaskId()).build()).getReceipt();
    assertThat(r.getSwarmTaskId()).isEqualTo(t.getTaskId());
    assertThat(r.getStatus()).isEqualTo("completed");
    ObjectNode body = (ObjectNode) CanonicalJson.parse(r.getReceiptJson());
    assertThat(Receipts.check(body, grid.coordinator().config().ledger().signingKey().verifyingKey())).isEmpty();
    assertThat(body.path("type").asText()).isEqualTo("swarm_task");
    assertThat(body.path("result_sha256").asText()).isEqualTo(t.getResultSha256());
    assertThat(body.path("consensus").path("agreeing")).hasSize(2);
    assertThat(body.path("members")).hasSize(2).allSatisfy(m -> {
      assertThat(m.path("leaf_hash").asText()).hasSize(64);
      assertThat(m.path("vote").asText()).isEqualTo("agree");
    });
    // Sealed into a block like any receipt, and the coordinator's verification checks the member job
    // receipts it names; an altered leaf hash is caught.
    await().atMost(Duration.ofSeconds(10)).until(() -> swarm.getTaskReceipt(GetTaskReceiptRequest.newBuilder()
        .setTaskId(t.getTaskId()).build()).getReceipt().hasBlockHeight());
    var receipts = net.aitbc.grid.coordinator.testing.GrpcClients.withKey(
        net.aitbc.grid.v1.ReceiptServiceGrpc.newBlockingStub(grid.channel()), grid.clientKey("carol"));
    var verdict = receipts.verifyReceipt(net.aitbc.grid.v1.VerifyReceiptRequest.newBuilder()
        .setReceiptJson(r.getReceiptJson()).build());
    assertThat(verdict.getProblemsList()).isEmpty();
    assertThat(verdict.getValid()).isTrue();
    ObjectNode altered = body.deepCopy();
    ((ObjectNode) altered.path("members").get(0)).put("leaf_hash", "00".repeat(32));
    assertThat(receipts.verifyReceipt(net.aitbc.grid.v1.VerifyReceiptRequest.newBuilder()
        .setReceiptJson(altered.toString()).build()).getProblemsList())
        .anySatisfy(p -> assertThat(p).startsWith("members[0] (").contains("leaf_hash is not job receipt"));
  }
}
