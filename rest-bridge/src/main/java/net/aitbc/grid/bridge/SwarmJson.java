package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.v1.ComputeConsensusResponse;
import net.aitbc.grid.v1.ConsensusDecision;
import net.aitbc.grid.v1.CoordinateResponse;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.JoinResponse;
import net.aitbc.grid.v1.LeaveResponse;
import net.aitbc.grid.v1.ListSwarmsResponse;
import net.aitbc.grid.v1.ResultGroup;
import net.aitbc.grid.v1.Swarm;
import net.aitbc.grid.v1.SwarmCandidate;
import net.aitbc.grid.v1.SwarmMember;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import org.jspecify.annotations.Nullable;

/**
 * The one JSON mapping of swarms (contract §9): what {@code swarm join} ({@code swarm_id}) and
 * {@code swarm coordinate} ({@code task_id}) read, the swarm list, a task's status (the lower-case
 * {@code status}, {@code progress}, {@code active_collaborators} and {@code total_collaborators} that
 * {@code swarm status --real-time} reads, every member with its result's hash and vote, and the
 * decision), and a recomputed consensus ({@code consensus_reached}). Times are naive UTC; absent
 * values are null, never left out.
 */
final class SwarmJson {
  private SwarmJson() {}

  /**
   * {@code POST /swarm/join}: {@code swarm_id} (what {@code swarm leave} takes), {@code role},
   * {@code status: "joined"}, the swarm's name, capability and region, {@code existing} (a member
   * already: role and priority were updated), the membership and the swarm.
   */
  static ObjectNode joined(JoinResponse r) {
    ObjectNode o = Json.object();
    o.put("swarm_id", r.getSwarmId());
    o.put("role", r.getMember().getRole());
    o.put("status", r.getStatus());
    o.put("name", r.getSwarm().getName());
    o.put("capability", r.getSwarm().getCapability());
    o.put("region", orNull(r.getSwarm().getRegion()));
    o.put("priority", r.getMember().getPriority());
    o.put("member_id", r.getMember().getMemberId());
    o.put("existing", r.getExisting());
    o.set("member", member(r.getMember()));
    o.set("swarm", swarm(r.getSwarm(), false));
    return o;
  }

  /** {@code POST /swarm/{id}/leave}: {@code {"swarm_id","status":"left","left":[memberships removed]}}. */
  static ObjectNode left(LeaveResponse r) {
    ObjectNode o = Json.object();
    o.put("swarm_id", r.getSwarmId());
    o.put("status", r.getStatus());
    ArrayNode left = o.putArray("left");
    r.getLeftList().forEach(m -> left.add(member(m)));
    return o;
  }

  /** {@code GET /swarm/list}: {@code {"swarms":[swarm with members], "next_offset"}} (null on the last page). */
  static ObjectNode list(ListSwarmsResponse r) {
    ObjectNode o = Json.object();
    ArrayNode swarms = o.putArray("swarms");
    r.getSwarmsList().forEach(s -> swarms.add(swarm(s, true)));
    o.put("next_offset", r.hasNextOffset() ? r.getNextOffset() : null);
    return o;
  }

  /** A swarm: its id, name, capability, region, status (active or empty), counts, and its members if asked. */
  static ObjectNode swarm(Swarm s, boolean withMembers) {
    ObjectNode o = Json.object();
    o.put("swarm_id", s.getSwarmId());
    o.put("name", s.getName());
    o.put("capability", s.getCapability());
    o.put("region", orNull(s.getRegion()));
    o.put("status", s.getStatus());
    o.put("member_count", s.getMemberCount());
    o.put("connected_workers", s.getConnectedWorkers());
    o.put("created_at", s.hasCreateTime() ? JobJson.time(s.getCreateTime()) : null);
    if (withMembers) {
      ArrayNode members = o.putArray("members");
      s.getMembersList().forEach(m -> members.add(member(m)));
    }
    return o;
  }

  /**
   * A membership: who ({@code kind} client, owner or worker; {@code client_id}, {@code worker_id}),
   * its role and priority, and what its workers earned: {@code reputation} (0 to 1), agreements and
   * dissents with accepted consensuses, the workers connected now.
   */
  static ObjectNode member(SwarmMember m) {
    ObjectNode o = Json.object();
    o.put("member_id", m.getMemberId());
    o.put("swarm_id", m.getSwarmId());
    o.put("kind", m.getKind());
    o.put("client_id", m.getClientId());
    o.put("worker_id", orNull(m.getWorkerId()));
    o.put("role", m.getRole());
    o.put("priority", m.getPriority());
    o.put("status", m.getStatus());
    o.put("reputation", m.getReputation());
    o.put("agreements", m.getAgreements());
    o.put("dissents", m.getDissents());
    strings(o.putArray("connected_workers"), m.getConnectedWorkersList());
    o.put("joined_at", m.hasJoinTime() ? JobJson.time(m.getJoinTime()) : null);
    return o;
  }

  /**
   * {@code POST /swarm/coordinate}: {@code task_id}, {@code status: "started"}, {@code strategy}, and
   * what was decided at the start: the job type, whether it is a probe, the collaborators and slots,
   * the threshold and comparison rule, the deadline and the workers chosen; {@code existing} when its
   * request id had started it before.
   */
  static ObjectNode coordinated(CoordinateResponse r) {
    SwarmTask t = r.getTask();
    ObjectNode o = Json.object();
    o.put("task_id", r.getTaskId());
    o.put("status", r.getStatus());
    o.put("strategy", r.getStrategy());
    o.put("job_type", t.getJobType());
    o.put("probe", t.getProbe());
    o.put("collaborators", t.getCollaborators());
    o.put("total_collaborators", t.getTotalCollaborators());
    consensusRule(o, t);
    o.put("timeout_seconds", t.getTimeout().getSeconds());
    o.put("swarm_id", orNull(t.getSwarmId()));
    o.put("created_at", JobJson.time(t.getCreateTime()));
    o.put("deadline", t.hasDeadline() ? JobJson.time(t.getDeadline()) : null);
    candidates(o.putArray("candidates"), t.getCandidatesList());
    o.put("existing", r.getExisting());
    return o;
  }

  /**
   * {@code GET /swarm/tasks/{id}/status}: the task now. {@code task} is the member jobs' payload;
   * {@code members} every member job (by slot, then replacement) with its state, result hash, vote
   * and worker's reputation, and its result when {@code results} has it (by job id); {@code decision}
   * what the comparison decided (null before), with {@code consensus_reached} repeated at the top;
   * {@code result} the agreed, leader's or joined result once completed.
   */
  static ObjectNode task(SwarmTask t, Map<String, String> results) {
    ObjectNode o = Json.object();
    o.put("task_id", t.getTaskId());
    o.put("status", AgentJson.status(t.getStatus()));
    o.put("strategy", t.getStrategy());
    o.put("progress", t.getProgress());
    o.put("active_collaborators", t.getActiveCollaborators());
    o.put("total_collaborators", t.getTotalCollaborators());
    o.put("collaborators", t.getCollaborators());
    o.put("job_type", t.getJobType());
    o.put("probe", t.getProbe());
    o.set("task", Json.parseStored(t.getPayloadJson()));
    consensusRule(o, t);
    o.put("consensus_reached", t.hasDecision() ? t.getDecision().getConsensusReached() : null);
    o.set("decision", t.hasDecision() ? decision(t.getDecision()) : null);
    o.set("leader", t.hasLeader() ? Json.object().put("worker_id", t.getLeader().getWorkerId())
        .put("rule", t.getLeader().getRule()) : null);
    o.set("result", Json.parseStored(t.getResultJson()));
    o.put("result_sha256", orNull(t.getResultSha256()));
    o.put("error_message", orNull(t.getErrorMessage()));
    ArrayNode members = o.putArray("members");
    boolean distributed = "distributed".equals(t.getStrategy());
    t.getMembersList().forEach(m -> members.add(member(m, distributed, results)));
    candidates(o.putArray("candidates"), t.getCandidatesList());
    o.put("swarm_id", orNull(t.getSwarmId()));
    o.put("timeout_seconds", t.getTimeout().getSeconds());
    o.put("created_at", JobJson.time(t.getCreateTime()));
    o.put("started_at", t.hasStartTime() ? JobJson.time(t.getStartTime()) : null);
    o.put("completed_at", t.hasEndTime() ? JobJson.time(t.getEndTime()) : null);
    o.put("deadline", t.hasDeadline() ? JobJson.time(t.getDeadline()) : null);
    o.put("receipt_id", orNull(t.getReceiptId()));
    return o;
  }

  /**
   * {@code POST /swarm/tasks/{id}/consensus}: {@code task_id}, {@code consensus_reached}, then the
   * decision's fields (the groups, the chosen result, who agreed, dissented or returned nothing, and
   * why); {@code recorded: false}, since only the task's own decision moves reputations.
   */
  static ObjectNode consensus(ComputeConsensusResponse r) {
    ObjectNode o = Json.object();
    o.put("task_id", r.getTaskId());
    o.put("consensus_reached", r.getConsensusReached());
    o.setAll(decision(r.getDecision()));
    o.put("recorded", false);
    return o;
  }

  /**
   * A decision: reached or not at which threshold, every group (its workers and jobs, share, result
   * hash, least similarity), the chosen (largest) group and its result, never hidden when the share
   * falls short; agreeing, dissenting and missing workers; the rule and the explanation in words.
   */
  static ObjectNode decision(ConsensusDecision d) {
    ObjectNode o = Json.object();
    o.put("consensus_reached", d.getConsensusReached());
    o.put("consensus_threshold", d.getThreshold());
    o.put("total", d.getTotal());
    ArrayNode groups = o.putArray("groups");
    for (ResultGroup g : d.getGroupsList()) {
      ObjectNode group = groups.addObject();
      strings(group.putArray("worker_ids"), g.getWorkerIdsList());
      strings(group.putArray("job_ids"), g.getJobIdsList());
      group.put("share", g.getShare());
      group.put("result_sha256", g.getResultSha256());
      group.put("min_similarity", g.getMinSimilarity());
    }
    o.put("chosen_group", d.getChosenGroup() < 0 ? null : d.getChosenGroup());
    o.set("chosen_result", Json.parseStored(d.getChosenResultJson()));
    o.put("chosen_result_sha256", orNull(d.getChosenResultSha256()));
    strings(o.putArray("agreeing_workers"), d.getAgreeingWorkersList());
    strings(o.putArray("dissenting_workers"), d.getDissentingWorkersList());
    strings(o.putArray("missing_workers"), d.getMissingWorkersList());
    o.put("rule", d.getRule());
    o.put("explanation", d.getExplanation());
    o.put("decided_at", d.hasDecideTime() ? JobJson.time(d.getDecideTime()) : null);
    return o;
  }

  /** The completed member jobs of a task, whose results {@code include_results} fetches. */
  static List<String> completedJobs(SwarmTask t) {
    return t.getMembersList().stream().filter(m -> m.getJobState() == JobState.JOB_STATE_COMPLETED)
        .map(SwarmTaskMember::getJobId).toList();
  }

  private static ObjectNode member(SwarmTaskMember m, boolean distributed, Map<String, String> results) {
    ObjectNode o = Json.object();
    o.put("slot", m.getSlot());
    o.put("replacement", m.getReplacement());
    o.put("worker_id", m.getWorkerId());
    o.put("owner_id", m.getOwnerId());
    o.put("role", m.getRole());
    o.put("job_id", orNull(m.getJobId()));
    o.put("state", m.getJobState() == JobState.JOB_STATE_UNSPECIFIED ? null : JobJson.state(m.getJobState()));
    o.put("result_sha256", orNull(m.getResultSha256()));
    o.put("vote", orNull(m.getVote()));
    o.put("group", m.getGroup() < 0 ? null : m.getGroup());
    o.put("reputation", m.getReputation());
    o.put("error", orNull(m.getError()));
    o.put("part_from", distributed && !m.getJobId().isEmpty() ? m.getPartFrom() : null);
    o.put("part_to", distributed && !m.getJobId().isEmpty() ? m.getPartTo() : null);
    o.put("replaced_worker_id", orNull(m.getReplacedWorkerId()));
    o.put("started_at", m.hasStartTime() ? JobJson.time(m.getStartTime()) : null);
    o.put("completed_at", m.hasEndTime() ? JobJson.time(m.getEndTime()) : null);
    String result = results.get(m.getJobId());
    if (result != null) {
      o.set("result", Json.parseStored(result));
    }
    return o;
  }

  /** The consensus threshold and comparison rule, null for the other strategies. */
  private static void consensusRule(ObjectNode o, SwarmTask t) {
    boolean consensus = "consensus".equals(t.getStrategy());
    o.put("consensus_threshold", consensus ? t.getConsensusThreshold() : null);
    o.put("comparison", consensus ? orNull(t.getComparison()) : null);
  }

  private static void candidates(ArrayNode out, List<SwarmCandidate> candidates) {
    for (SwarmCandidate c : candidates) {
      out.addObject()
          .put("worker_id", c.getWorkerId())
          .put("owner_id", c.getOwnerId())
          .put("tier", c.getTier())
          .put("reputation", c.getReputation())
          .put("latency_ms", c.hasLatencyMs() ? c.getLatencyMs() : null)
          .put("price", c.getPrice());
    }
  }

  private static void strings(ArrayNode out, List<String> values) {
    values.forEach(out::add);
  }

  private static @Nullable String orNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
