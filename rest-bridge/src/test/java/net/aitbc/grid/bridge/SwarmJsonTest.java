package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Timestamp;
import java.util.Map;
import net.aitbc.grid.v1.ComputeConsensusResponse;
import net.aitbc.grid.v1.ConsensusDecision;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ResultGroup;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import org.junit.jupiter.api.Test;

/** The swarm JSON: what the CLI reads is there, in its spelling, and absent values are null. */
class SwarmJsonTest {
  private static final Timestamp T0 = Timestamp.newBuilder().setSeconds(1_780_000_000L).setNanos(123_456_000).build();

  private static SwarmTask.Builder running() {
    return SwarmTask.newBuilder().setTaskId("t1").setStatus(ExecutionStatus.EXECUTION_STATUS_RUNNING)
        .setStrategy("consensus").setJobType("embedding").setPayloadJson("{\"type\":\"embedding\",\"input\":\"x\"}")
        .setProbe(true).setProgress(33).setActiveCollaborators(2).setTotalCollaborators(3).setCollaborators(3)
        .setConsensusThreshold(0.66).setComparison("cosine similarity of every embedding vector >= 0.999")
        .setCreateTime(T0).setDeadline(T0)
        .addMembers(SwarmTaskMember.newBuilder().setSlot(0).setWorkerId("w1").setOwnerId("o1").setJobId("j1")
            .setJobState(JobState.JOB_STATE_COMPLETED).setRole("member").setResultSha256("ab").setGroup(-1)
            .setReputation(0.5))
        .addMembers(SwarmTaskMember.newBuilder().setSlot(1).setWorkerId("w2").setOwnerId("o2").setJobId("j2")
            .setJobState(JobState.JOB_STATE_RUNNING).setRole("member").setGroup(-1).setReputation(0.5));
  }

  @Test
  void aRunningTaskHasWhatTheRealTimeStatusReadsAndNullsForWhatIsNotThereYet() {
    ObjectNode o = SwarmJson.task(running().build(), Map.of("j1", "{\"embedding\":[1,0]}"));

    assertThat(o.get("status").asText()).isEqualTo("running");
    assertThat(o.get("progress").asInt()).isEqualTo(33);
    assertThat(o.get("active_collaborators").asInt()).isEqualTo(2);
    assertThat(o.get("total_collaborators").asInt()).isEqualTo(3);
    assertThat(o.get("consensus_reached").isNull()).isTrue();
    assertThat(o.get("decision").isNull()).isTrue();
    assertThat(o.get("result").isNull()).isTrue();
    assertThat(o.get("completed_at").isNull()).isTrue();
    assertThat(o.get("created_at").asText()).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.123456");
    assertThat(o.get("task").get("input").asText()).isEqualTo("x");
    JsonNode done = o.get("members").get(0);
    assertThat(done.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(done.get("group").isNull()).isTrue();
    assertThat(done.get("vote").isNull()).isTrue();
    assertThat(done.get("part_from").isNull()).isTrue();
    assertThat(done.get("result").get("embedding")).hasSize(2);
    assertThat(o.get("members").get(1).has("result")).isFalse();
    assertThat(SwarmJson.completedJobs(running().build())).containsExactly("j1");
  }

  @Test
  void aDecisionShowsItsGroupsAndWhoDissentedAndTheRecomputationSaysItRecordsNothing() {
    ConsensusDecision d = ConsensusDecision.newBuilder().setConsensusReached(false).setThreshold(0.8).setTotal(3)
        .addGroups(ResultGroup.newBuilder().addWorkerIds("w1").addWorkerIds("w3").addJobIds("j1").addJobIds("j3")
            .setShare(2 / 3.0).setResultSha256("ab").setMinSimilarity(1))
        .addGroups(ResultGroup.newBuilder().addWorkerIds("w2").addJobIds("j2").setShare(1 / 3.0).setResultSha256("cd")
            .setMinSimilarity(1))
        .setChosenGroup(0).setChosenResultJson("{\"embedding\":[1,0]}").setChosenResultSha256("ab")
        .addAgreeingWorkers("w1").addAgreeingWorkers("w3").addDissentingWorkers("w2").setRule("r")
        .setExplanation("no consensus").build();
    ObjectNode c = SwarmJson.consensus(ComputeConsensusResponse.newBuilder().setTaskId("t1").setConsensusReached(false)
        .setDecision(d).build());

    assertThat(c.get("consensus_reached").asBoolean()).isFalse();
    assertThat(c.get("consensus_threshold").asDouble()).isEqualTo(0.8);
    assertThat(c.get("groups")).hasSize(2);
    assertThat(c.get("chosen_group").asInt()).isZero();
    assertThat(c.get("chosen_result").get("embedding")).hasSize(2);
    assertThat(c.get("dissenting_workers")).extracting(JsonNode::asText).containsExactly("w2");
    assertThat(c.get("missing_workers")).isEmpty();
    assertThat(c.get("decided_at").isNull()).isTrue();
    assertThat(c.get("recorded").asBoolean()).isFalse();

    ObjectNode tied = SwarmJson.decision(d.toBuilder().setChosenGroup(-1).clearChosenResultJson().build());
    assertThat(tied.get("chosen_group").isNull()).isTrue();
    assertThat(tied.get("chosen_result").isNull()).isTrue();

    ObjectNode leader = SwarmJson.task(running().setStrategy("leader-election").build(), Map.of());
    assertThat(leader.get("consensus_threshold").isNull()).isTrue();
    assertThat(leader.get("comparison").isNull()).isTrue();
  }
}
