package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.coordinator.rpc.JobProtos.timestamp;

import com.google.protobuf.util.Durations;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.store.SwarmCandidate;
import net.aitbc.grid.coordinator.store.SwarmMemberJob;
import net.aitbc.grid.coordinator.store.SwarmReads;
import net.aitbc.grid.coordinator.store.SwarmStore;
import net.aitbc.grid.coordinator.swarm.Comparison;
import net.aitbc.grid.coordinator.swarm.Consensus;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.KeyRole;
import net.aitbc.grid.db.enums.SwarmStrategy;
import net.aitbc.grid.v1.ConsensusDecision;
import net.aitbc.grid.v1.LeaderElection;
import net.aitbc.grid.v1.ResultGroup;
import net.aitbc.grid.v1.Swarm;
import net.aitbc.grid.v1.SwarmMember;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import org.jspecify.annotations.Nullable;

/** The one mapping from swarms, memberships, tasks and decisions to their protocol messages. */
final class SwarmProtos {
  private SwarmProtos() {}

  /** A swarm; members only when {@code withMembers}. */
  static Swarm swarm(SwarmReads.SwarmView v, boolean withMembers) {
    Swarm.Builder b = Swarm.newBuilder()
        .setSwarmId(JobIds.format(v.swarm().swarmId()))
        .setName(v.swarm().name())
        .setCapability(v.swarm().capability())
        .setRegion(v.swarm().region())
        .setStatus(v.memberCount() > 0 ? "active" : "empty")
        .setMemberCount(v.memberCount())
        .setConnectedWorkers(v.connectedWorkers())
        .setCreateTime(timestamp(v.swarm().createdAt()));
    if (withMembers) {
      v.members().forEach(m -> b.addMembers(member(m)));
    }
    return b.build();
  }

  static SwarmMember member(SwarmReads.MemberView v) {
    return member(v.member()).toBuilder()
        .setReputation(v.reputation())
        .setAgreements(v.agreements())
        .setDissents(v.dissents())
        .addAllConnectedWorkers(v.connectedWorkers())
        .build();
  }

  /** A membership without what its workers earned. */
  static SwarmMember member(SwarmStore.StoredMember m) {
    SwarmMember.Builder b = SwarmMember.newBuilder()
        .setMemberId(JobIds.format(m.memberId()))
        .setSwarmId(JobIds.format(m.swarmId()))
        .setClientId(m.clientId())
        .setRole(m.role())
        .setPriority(m.priority())
        .setStatus("joined")
        .setReputation(SwarmReads.INITIAL_REPUTATION)
        .setKind(m.workerId() != null ? "worker" : m.keyRole() == KeyRole.worker ? "owner" : "client")
        .setJoinTime(timestamp(m.joinedAt()));
    if (m.workerId() != null) {
      b.setWorkerId(m.workerId());
    }
    return b.build();
  }

  /**
   * A task with its members; {@code standings} are the reputations of its workers, {@code chosenResult}
   * the decision's chosen result (or null).
   */
  static SwarmTask task(StoredSwarmTask t, List<SwarmMemberJob> members, Map<String, SwarmReads.Standing> standings,
      @Nullable String chosenResult) {
    SwarmTask.Builder b = SwarmTask.newBuilder()
        .setTaskId(JobIds.format(t.taskId()))
        .setClientId(t.clientId())
        .setStatus(WorkflowProtos.status(t.status()))
        .setStrategy(SwarmRequests.strategyName(t.strategy()))
        .setJobType(t.jobType())
        .setPayloadJson(t.payloadJson())
        .setProbe(t.probe())
        .setProgress(t.progress())
        .setTotalCollaborators(t.parts())
        .setCollaborators(t.collaborators())
        .setConsensusThreshold(t.threshold().doubleValue())
        .setTimeout(Durations.fromSeconds(t.timeoutSeconds()))
        .setCreateTime(timestamp(t.createdAt()))
        .setDeadline(timestamp(t.deadline()));
    if (t.strategy() == SwarmStrategy.consensus) {
      b.setComparison(Comparison.forType(t.jobType(), t.similarity()).describe());
    }
    for (SwarmCandidate c : t.candidates()) {
      b.addCandidates(candidate(c));
    }
    int active = 0;
    Map<Integer, SwarmMemberJob> latest = new java.util.HashMap<>();
    for (SwarmMemberJob m : members) {
      latest.merge(m.slot(), m, (a, c) -> a.replacement() >= c.replacement() ? a : c);
    }
    for (SwarmMemberJob m : latest.values()) {
      if (m.unfinished() && !t.ended()) {
        active++;
      }
    }
    b.setActiveCollaborators(active);
    Set<String> running = new HashSet<>();
    for (SwarmMemberJob m : members) {
      running.add(m.workerId());
      b.addMembers(member(t, m, members, standings));
    }
    if (t.strategy() == SwarmStrategy.leader_election && !t.ended()) {
      for (SwarmCandidate c : t.candidates()) {
        if (!running.contains(c.workerId())) {
          b.addMembers(SwarmTaskMember.newBuilder().setWorkerId(c.workerId()).setOwnerId(c.ownerId())
              .setRole("standby").setGroup(-1)
              .setReputation(standings.getOrDefault(c.workerId(), SwarmReads.Standing.NEW).reputation()));
        }
      }
    }
    if (t.decisionJson() != null) {
      b.setDecision(decision(Consensus.fromJson(t.decisionJson()), chosenResult));
    }
    if (t.leaderWorkerId() != null) {
      b.setLeader(LeaderElection.newBuilder().setWorkerId(t.leaderWorkerId())
          .setRule(t.leaderRule() == null ? "" : t.leaderRule()));
    }
    if (t.resultJson() != null) {
      b.setResultJson(t.resultJson());
    }
    if (t.resultSha256() != null) {
      b.setResultSha256(t.resultSha256());
    }
    if (t.errorMessage() != null) {
      b.setErrorMessage(t.errorMessage());
    }
    if (t.swarmId() != null) {
      b.setSwarmId(JobIds.format(t.swarmId()));
    }
    if (t.startedAt() != null) {
      b.setStartTime(timestamp(t.startedAt()));
    }
    if (t.endedAt() != null) {
      b.setEndTime(timestamp(t.endedAt()));
    }
    if (t.receiptId() != null) {
      b.setReceiptId(JobIds.format(t.receiptId()));
    }
    return b.build();
  }

  private static SwarmTaskMember member(StoredSwarmTask t, SwarmMemberJob m, List<SwarmMemberJob> all,
      Map<String, SwarmReads.Standing> standings) {
    String role = t.strategy() == SwarmStrategy.leader_election ? "leader"
        : m.replacement() == 0 ? "member" : "replacement";
    SwarmTaskMember.Builder b = SwarmTaskMember.newBuilder()
        .setSlot(m.slot())
        .setReplacement(m.replacement())
        .setWorkerId(m.workerId())
        .setOwnerId(m.ownerId())
        .setJobId(JobIds.format(m.jobId()))
        .setRole(role)
        .setGroup(m.groupNo() == null ? -1 : m.groupNo())
        .setReputation(standings.getOrDefault(m.workerId(), SwarmReads.Standing.NEW).reputation());
    if (m.state() != null) {
      b.setJobState(JobProtos.state(m.state()));
    }
    if (m.resultSha256() != null) {
      b.setResultSha256(m.resultSha256());
    }
    if (m.vote() != null) {
      b.setVote(m.vote());
    }
    if (m.error() != null && m.state() != JobState.COMPLETED) {
      b.setError(m.error());
    }
    if (m.partFrom() != null && m.partTo() != null) {
      b.setPartFrom(m.partFrom()).setPartTo(m.partTo());
    }
    for (SwarmMemberJob before : all) {
      if (before.slot() == m.slot() && before.replacement() == m.replacement() - 1) {
        b.setReplacedWorkerId(before.workerId());
      }
    }
    if (m.startedAt() != null) {
      b.setStartTime(timestamp(m.startedAt()));
    }
    if (m.finishedAt() != null) {
      b.setEndTime(timestamp(m.finishedAt()));
    }
    return b.build();
  }

  static net.aitbc.grid.v1.SwarmCandidate candidate(SwarmCandidate c) {
    var b = net.aitbc.grid.v1.SwarmCandidate.newBuilder()
        .setWorkerId(c.workerId())
        .setOwnerId(c.ownerId())
        .setTier(c.tier())
        .setReputation(c.reputation())
        .setPrice(c.price());
    if (c.latencyMs() != null) {
      b.setLatencyMs(c.latencyMs());
    }
    return b.build();
  }

  /** A decision; {@code chosenResult} is its chosen job's result, or null. */
  static ConsensusDecision decision(Consensus.Decision d, @Nullable String chosenResult) {
    ConsensusDecision.Builder b = ConsensusDecision.newBuilder()
        .setConsensusReached(d.reached())
        .setThreshold(d.threshold())
        .setChosenGroup(d.chosen())
        .addAllAgreeingWorkers(d.agreeing())
        .addAllDissentingWorkers(d.dissenting())
        .addAllMissingWorkers(d.missing())
        .setRule(d.rule())
        .setExplanation(d.explanation())
        .setTotal(d.total());
    for (Consensus.Group g : d.groups()) {
      List<String> jobs = new ArrayList<>(g.jobIds().size());
      for (UUID j : g.jobIds()) {
        jobs.add(JobIds.format(j));
      }
      b.addGroups(ResultGroup.newBuilder().addAllWorkerIds(g.workerIds()).addAllJobIds(jobs).setShare(g.share())
          .setResultSha256(g.sha256()).setMinSimilarity(g.minSimilarity()));
    }
    if (d.chosenSha256() != null) {
      b.setChosenResultSha256(d.chosenSha256());
    }
    if (chosenResult != null) {
      b.setChosenResultJson(chosenResult);
    }
    return b.build();
  }
}
