package net.aitbc.grid.coordinator.swarm;

import static net.aitbc.grid.coordinator.testing.Swarms.coordinate;
import static net.aitbc.grid.coordinator.testing.Swarms.ended;
import static net.aitbc.grid.coordinator.testing.Swarms.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.coordinator.testing.Embeddings;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.Swarms;
import net.aitbc.grid.v1.ComputeConsensusRequest;
import net.aitbc.grid.v1.ComputeConsensusResponse;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListSwarmsRequest;
import net.aitbc.grid.v1.SwarmServiceGrpc.SwarmServiceBlockingStub;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Consensus over three real (hand-spoken) workers, one of which returns subtly wrong embeddings:
 * reached at 0.6 with that worker named as dissenting and its reputation lowered; not reached at
 * 0.8, and the status says so; fewer capable workers than asked is a clear answer at once.
 */
class SwarmIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static final double[] HONEST = Embeddings.vector(42);
  private static final List<ScriptedWorker> workers = new ArrayList<>();
  private static SwarmServiceBlockingStub swarm;

  @BeforeAll
  static void threeEmbeddingWorkersOneOfThemWrong() {
    workers.add(ScriptedWorker.start(grid, "e1", 4, a -> embedding(HONEST), "embedding").heartbeating());
    // Subtly wrong: still a unit vector of the right size, cosine about 0.98 to the honest one.
    workers.add(ScriptedWorker.start(grid, "e2", 4, a -> embedding(Embeddings.noisy(HONEST, 0.2, 7)), "embedding")
        .heartbeating());
    // Honest on other hardware: float rounding only.
    workers.add(ScriptedWorker.start(grid, "e3", 4, a -> embedding(Embeddings.noisy(HONEST, 1e-4, 8)), "embedding")
        .heartbeating());
    swarm = Swarms.client(grid, grid.clientKey("alice"));
  }

  @AfterAll
  static void stop() {
    workers.forEach(ScriptedWorker::close);
  }

  private static Complete embedding(double[] v) {
    return new Complete(Embeddings.result(v), "{}");
  }

  private static String start(double threshold) {
    return swarm.coordinate(CoordinateRequest.newBuilder().setTask("embedding").setCollaborators(3)
        .setStrategy("consensus").setConsensusThreshold(threshold).build()).getTaskId();
  }

  @Test
  void consensusAtSixtyPercentNamesTheDissenterAndLowersItsReputation() {
    Map<String, Double> before = reputations();
    SwarmTask t = ended(swarm, start(0.6));

    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(t.getProbe()).isTrue();
    assertThat(t.getTotalCollaborators()).isEqualTo(3);
    assertThat(t.getProgress()).isEqualTo(100);
    assertThat(t.getActiveCollaborators()).isZero();
    assertThat(t.getDecision().getConsensusReached()).isTrue();
    assertThat(t.getDecision().getAgreeingWorkersList()).containsExactlyInAnyOrder("e1", "e3");
    assertThat(t.getDecision().getDissentingWorkersList()).containsExactly("e2");
    assertThat(t.getDecision().getExplanation()).isEqualTo("2 of 3 results agree (share 0.667 >= threshold 0.600)");
    assertThat(t.getDecision().getGroupsList()).hasSize(2);
    assertThat(t.getComparison()).contains("cosine");
    assertThat(member(t, "e2").getVote()).isEqualTo("dissent");
    assertThat(member(t, "e1").getVote()).isEqualTo("agree");
    assertThat(member(t, "e2").getResultSha256()).hasSize(64).isNotEqualTo(member(t, "e1").getResultSha256());
    assertThat(member(t, "e1").getJobState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    // The agreed result is an honest one (the first of the agreeing group, in slot order), and the
    // decision shows it.
    assertThat(t.getResultSha256()).isIn(member(t, "e1").getResultSha256(), member(t, "e3").getResultSha256());
    assertThat(t.getDecision().getChosenResultJson()).isEqualTo(t.getResultJson());

    Map<String, Double> after = reputations();
    assertThat(after.get("e2")).isLessThan(before.getOrDefault("e2", 0.5));
    assertThat(after.get("e1")).isGreaterThan(before.getOrDefault("e1", 0.5));
    assertThat(member(Swarms.get(swarm, t.getTaskId()), "e2").getReputation()).isEqualTo(after.get("e2"));

    // Recomputed at 0.8 on the same results: not reached; the recorded decision stays.
    ComputeConsensusResponse again = swarm.computeConsensus(ComputeConsensusRequest.newBuilder()
        .setTaskId(t.getTaskId()).setConsensusThreshold(0.8).build());
    assertThat(again.getConsensusReached()).isFalse();
    assertThat(again.getDecision().getDissentingWorkersList()).containsExactly("e2");
    assertThat(Swarms.get(swarm, t.getTaskId()).getDecision().getConsensusReached()).isTrue();
  }

  @Test
  void atEightyPercentNoConsensusAndTheStatusSaysSo() {
    SwarmTask t = ended(swarm, start(0.8));
    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
    assertThat(t.getDecision().getConsensusReached()).isFalse();
    assertThat(t.getErrorMessage()).startsWith("no consensus: the largest agreeing group holds 2 of 3 results")
        .contains("< threshold 0.800");
    assertThat(t.getResultJson()).isEmpty();
    // Never hidden: the largest group and the one outside it.
    assertThat(t.getDecision().getDissentingWorkersList()).containsExactly("e2");
    assertThat(t.getDecision().getChosenResultSha256()).hasSize(64);
  }

  @Test
  void aTaskStartsWithItsMemberJobsOnceItsClientsPlaceInFairShareOrderIsKnown() {
    // The first member jobs of a client's kind of job are the engine's: its place is read for them.
    ended(swarm, start(0.6));
    SwarmTask started = swarm.coordinate(CoordinateRequest.newBuilder().setTask("embedding").setCollaborators(3)
        .setStrategy("consensus").setConsensusThreshold(0.6).build()).getTask();
    // Made in the transaction that stored the task: the answer shows them.
    assertThat(started.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_RUNNING);
    assertThat(started.getMembersList()).extracting(SwarmTaskMember::getWorkerId)
        .containsExactlyInAnyOrder("e1", "e2", "e3");
    SwarmTask t = ended(swarm, started.getTaskId());
    assertThat(t.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    assertThat(t.getMembersList()).hasSize(3).extracting(SwarmTaskMember::getJobState)
        .containsOnly(JobState.JOB_STATE_COMPLETED);
    assertThat(t.getDecision().getDissentingWorkersList()).containsExactly("e2");
  }

  @Test
  void fewerCapableWorkersThanAskedIsAClearAnswerAtOnce() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> coordinate(swarm, "embedding", 5, "consensus"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription())
              .startsWith("only 3 connected workers can run embedding, and the task needs 5 distinct workers");
        });
    assertThat(System.nanoTime() - start).isLessThan(5_000_000_000L);
    assertThatThrownBy(() -> coordinate(swarm, "{'type':'nobody-runs-this'}", 1, "consensus"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
            .startsWith("no connected worker can run nobody-runs-this"));
  }

  private static Map<String, Double> reputations() {
    Map<String, Double> out = new java.util.HashMap<>();
    for (String w : List.of("e1", "e2", "e3")) {
      grid.query(dsl -> dsl.selectFrom(net.aitbc.grid.db.Tables.WORKER_REPUTATION)
          .where(net.aitbc.grid.db.Tables.WORKER_REPUTATION.WORKER_ID.eq(w)).fetchOptional())
          .ifPresent(r -> out.put(w, r.getReputation().doubleValue()));
    }
    return out;
  }

  @Test
  void listSwarmsShowsReputationsOfWorkersThatJoinedByName() {
    // e1..e3 registered without swarms; join by name is SwarmMembershipIT's. Here: a client's join.
    var joined = Swarms.client(grid, grid.clientKey("bob")).join(net.aitbc.grid.v1.JoinRequest.newBuilder()
        .setRole("monitor").setCapability("embedding").build());
    assertThat(joined.getStatus()).isEqualTo("joined");
    var listed = swarm.listSwarms(ListSwarmsRequest.newBuilder().setSwarmId("embedding").build());
    assertThat(listed.getSwarmsList()).singleElement().satisfies(s -> {
      assertThat(s.getSwarmId()).isEqualTo(joined.getSwarmId());
      assertThat(s.getMembersList()).extracting(m -> m.getClientId()).contains("bob");
    });
  }
}
