package net.aitbc.grid.coordinator.swarm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.store.SwarmCandidate;
import net.aitbc.grid.coordinator.store.SwarmMemberJob;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.SwarmStrategy;
import org.jspecify.annotations.Nullable;

/**
 * A task's slots as one pass of the engine sees them: each slot's latest member job, which of them
 * ended without a result, the slots given up, and the member jobs made in this pass.
 */
final class Slots {
  /**
   * A member job to make.
   *
   * @param slot its slot
   * @param replacement 0 first, then 1, 2
   * @param worker the worker it is pinned to
   * @param replaced the member it replaces, or null
   * @param payloadJson its payload
   * @param partFrom distributed: its first item, or null
   * @param partTo distributed: the item after its last, or null
   */
  record Order(int slot, int replacement, SwarmCandidate worker, @Nullable SwarmMemberJob replaced,
      String payloadJson, @Nullable Integer partFrom, @Nullable Integer partTo) {}

  private final StoredSwarmTask task;
  private final List<SwarmMemberJob> members;
  private final SwarmMemberJob[] latest;
  private final Map<UUID, String> gone = new HashMap<>();
  private final String[] givenUp;
  private final @Nullable String listField;
  private final List<Parts.Range> ranges;
  private final ObjectNode payload;
  private @Nullable String leaderRule;

  Slots(StoredSwarmTask task, List<SwarmMemberJob> members) {
    this.task = task;
    this.members = new ArrayList<>(members);
    this.latest = new SwarmMemberJob[task.parts()];
    this.givenUp = new String[task.parts()];
    for (SwarmMemberJob m : members) {
      if (m.slot() < latest.length && (latest[m.slot()] == null || latest[m.slot()].replacement() < m.replacement())) {
        latest[m.slot()] = m;
      }
    }
    this.payload = (ObjectNode) Verdicts.payload(task.payloadJson());
    this.listField = task.strategy() == SwarmStrategy.distributed ? Parts.listField(payload) : null;
    this.ranges = listField == null ? List.of() : Parts.split(payload.get(listField).size(), task.parts());
    this.leaderRule = task.leaderRule() != null ? task.leaderRule() : initialRule(task.candidates());
  }

  private static String initialRule(List<SwarmCandidate> ranked) {
    return ranked.size() < 2 ? Ranking.alone() : Ranking.explain(ranked.get(0), ranked.get(1));
  }

  StoredSwarmTask task() {
    return task;
  }

  /** Every slot's latest member job (null before its first), by slot. */
  List<@Nullable SwarmMemberJob> latest() {
    return Arrays.asList(latest);
  }

  /** Every member job, by slot then replacement. */
  List<SwarmMemberJob> members() {
    return members;
  }

  /** A queued member job that waited for a gone worker, cancelled in this pass. */
  void gone(SwarmMemberJob m, String why) {
    gone.put(m.jobId(), why);
  }

  /** Whether a member job ended without a result (failed, cancelled, expired, or its worker gone). */
  boolean endedWithoutResult(SwarmMemberJob m) {
    return gone.containsKey(m.jobId())
        || m.state() == JobState.FAILED || m.state() == JobState.CANCELED || m.state() == JobState.EXPIRED;
  }

  /** Why a member job ended without a result. */
  String error(SwarmMemberJob m) {
    String why = gone.get(m.jobId());
    return why != null ? why : m.error() != null ? m.error() : "job " + m.state().getLiteral().toLowerCase();
  }

  /** Whether slot {@code s}'s latest member job ended without a result and it was not given up. */
  boolean needsReplacement(int s) {
    return latest[s] != null && givenUp[s] == null && endedWithoutResult(latest[s]);
  }

  /** The slot will have no result: nothing more is tried for it. */
  void giveUp(int s, String why) {
    givenUp[s] = why;
  }

  /** Why slot {@code s} was given up, or null. */
  @Nullable String givenUp(int s) {
    return givenUp[s];
  }

  /** The workers of every member job so far: a replacement is none of them. */
  Set<String> usedWorkers() {
    Set<String> out = new HashSet<>();
    members.forEach(m -> out.add(m.workerId()));
    return out;
  }

  /** The owners of the other slots' latest member jobs. */
  Set<String> ownersBut(int s) {
    Set<String> out = new HashSet<>();
    for (int i = 0; i < latest.length; i++) {
      if (i != s && latest[i] != null) {
        out.add(latest[i].ownerId());
      }
    }
    return out;
  }

  /** A worker's owner as the task knows it ("" when it does not). */
  String ownerOf(String workerId) {
    for (SwarmMemberJob m : members) {
      if (m.workerId().equals(workerId)) {
        return m.ownerId();
      }
    }
    return task.candidates().stream().filter(c -> c.workerId().equals(workerId)).map(SwarmCandidate::ownerId)
        .findFirst().orElse("");
  }

  /** The order of slot {@code s}'s member job number {@code replacement} on {@code worker}. */
  Order order(int s, int replacement, SwarmCandidate worker, @Nullable SwarmMemberJob replaced) {
    if (listField == null) {
      return new Order(s, replacement, worker, replaced, task.payloadJson(), null, null);
    }
    Parts.Range r = ranges.get(s);
    return new Order(s, replacement, worker, replaced, Parts.part(payload, listField, r).toString(), r.from(), r.to());
  }

  /** A member job of this pass was made (as queued) for {@code o}. */
  void submitted(Order o, UUID jobId, String workerId, String ownerId, OffsetDateTime now) {
    SwarmMemberJob m = new SwarmMemberJob(o.slot(), o.replacement(), jobId, workerId, ownerId, o.partFrom(), o.partTo(),
        JobState.QUEUED, null, now, null, null, null, null, null);
    members.add(m);
    latest[o.slot()] = m;
    if (task.strategy() == SwarmStrategy.leader_election && o.replaced() != null) {
      leaderRule = "stand-in after " + o.replaced().workerId() + " ended without a result (" + error(o.replaced())
          + "); rule: " + Ranking.RULE;
    }
  }

  /** Whether every slot has a result or was given up. */
  boolean allEnded() {
    for (int s = 0; s < latest.length; s++) {
      if (givenUp[s] == null && (latest[s] == null || latest[s].state() != JobState.COMPLETED)) {
        return false;
      }
    }
    return true;
  }

  /** Slots that have ended (with a result or given up) over all, 0 to 100. */
  int progress() {
    int ended = 0;
    for (int s = 0; s < latest.length; s++) {
      if (givenUp[s] != null || (latest[s] != null && latest[s].state() == JobState.COMPLETED)) {
        ended++;
      }
    }
    return ended * 100 / latest.length;
  }

  /** The leader now (leader election), or null. */
  @Nullable String leaderWorker() {
    if (task.strategy() != SwarmStrategy.leader_election) {
      return null;
    }
    return latest[0] != null ? latest[0].workerId() : task.candidates().getFirst().workerId();
  }

  /** Why the leader leads (leader election), or null. */
  @Nullable String leaderRule() {
    return task.strategy() == SwarmStrategy.leader_election ? leaderRule : null;
  }

  /** The payload's list field (distributed), or null. */
  @Nullable String listField() {
    return listField;
  }

  /** The payload, parsed. */
  JsonNode payload() {
    return payload;
  }
}
