package net.aitbc.grid.coordinator.swarm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.LockedSwarmTask;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.store.SwarmEngineStore;
import net.aitbc.grid.coordinator.store.SwarmEngineStore.Decided;
import net.aitbc.grid.coordinator.store.SwarmMemberJob;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ledger.CanonicalJson;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a swarm task ends, once every slot has ended or its deadline passed: consensus compares the
 * results ({@link Consensus}), records every member's hash, group and vote, and, when the consensus
 * is reached, moves the reputations of those that agreed and dissented; leader election takes the
 * leader's result; distributed joins the parts in order ({@link Parts}). Every completed member job's
 * run time goes into its worker's measured latency.
 */
final class Verdicts {
  private static final Logger logger = LoggerFactory.getLogger(Verdicts.class);
  // Payload decimals stay as the client wrote them when a distributed list is split.
  private static final ObjectMapper PAYLOADS = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .build();

  private Verdicts() {}

  /** Ends the task from its slots; {@code timedOut} says why it ends early, or is null. */
  static void end(LockedSwarmTask locked, Slots slots, @Nullable String timedOut) {
    StoredSwarmTask t = slots.task();
    List<SwarmMemberJob> done = new ArrayList<>();
    for (SwarmMemberJob m : slots.members()) {
      if (m.state() == JobState.COMPLETED) {
        done.add(m);
        if (m.startedAt() != null && m.finishedAt() != null) {
          locked.ran(m.workerId(), m.ownerId(), Duration.between(m.startedAt(), m.finishedAt()).toMillis());
        }
      }
    }
    Map<UUID, @Nullable String> texts = locked.results(done.stream().map(SwarmMemberJob::jobId).toList());
    switch (t.strategy()) {
      case consensus -> consensus(locked, slots, texts, timedOut);
      case leader_election -> leader(locked, slots, texts, timedOut);
      case distributed -> distributed(locked, slots, texts, timedOut);
    }
  }

  /** Ends the task as failed for {@code why}. */
  static void fail(LockedSwarmTask locked, Slots slots, String why) {
    save(locked, slots, ExecutionStatus.failed, null, null, null, why);
  }

  private static void consensus(LockedSwarmTask locked, Slots slots, Map<UUID, @Nullable String> texts,
      @Nullable String timedOut) {
    StoredSwarmTask t = slots.task();
    Consensus.Decision d = Consensus.decide(Consensus.entries(t, slots.members(), texts), t.threshold().doubleValue(),
        Comparison.forType(t.jobType(), t.similarity()));
    List<SwarmEngineStore.Vote> votes = new ArrayList<>();
    for (Consensus.Vote v : d.votes()) {
      votes.add(new SwarmEngineStore.Vote(v.jobId(), v.sha256(), v.group(),
          d.chosen() < 0 ? null : v.agrees() ? "agree" : "dissent"));
    }
    locked.votes(votes);
    String decision = Consensus.toJson(d);
    if (!d.reached()) {
      String why = timedOut == null ? d.explanation() : timedOut + "; " + d.explanation();
      save(locked, slots, ExecutionStatus.failed, null, false, decision, why);
      return;
    }
    for (SwarmMemberJob m : slots.latest()) {
      if (m != null && m.state() == JobState.COMPLETED) {
        locked.judged(m.workerId(), m.ownerId(), d.agreeing().contains(m.workerId()));
      }
    }
    String result = texts.get(d.chosenJobId());
    save(locked, slots, ExecutionStatus.completed, result, true, decision, null);
  }

  private static void leader(LockedSwarmTask locked, Slots slots, Map<UUID, @Nullable String> texts,
      @Nullable String timedOut) {
    SwarmMemberJob m = slots.latest().getFirst();
    if (m != null && m.state() == JobState.COMPLETED) {
      save(locked, slots, ExecutionStatus.completed, texts.get(m.jobId()), null, null, null);
      return;
    }
    String why = timedOut != null ? timedOut + (m == null ? "" : " while leader " + m.workerId() + " ran it")
        : "no leader returned a result: " + (slots.givenUp(0) != null ? slots.givenUp(0) : "")
            + (m == null ? "" : "; the last, " + m.workerId() + ": " + slots.error(m));
    save(locked, slots, ExecutionStatus.failed, null, null, null, why);
  }

  private static void distributed(LockedSwarmTask locked, Slots slots, Map<UUID, @Nullable String> texts,
      @Nullable String timedOut) {
    List<JsonNode> parts = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    for (int s = 0; s < slots.latest().size(); s++) {
      SwarmMemberJob m = slots.latest().get(s);
      String text = m != null && m.state() == JobState.COMPLETED ? texts.get(m.jobId()) : null;
      if (text == null) {
        missing.add("part " + s + (m == null ? "" : " (items " + m.partFrom() + " to " + m.partTo() + ", worker "
            + m.workerId() + ": " + (m.unfinished() ? "unfinished" : slots.error(m)) + ")"));
      } else {
        parts.add(parse(text));
      }
    }
    if (!missing.isEmpty()) {
      String why = (timedOut == null ? "" : timedOut + "; ") + "no result for " + String.join("; ", missing);
      save(locked, slots, ExecutionStatus.failed, null, null, null, why);
      return;
    }
    save(locked, slots, ExecutionStatus.completed, Parts.join(parts).toString(), null, null, null);
  }

  private static void save(LockedSwarmTask locked, Slots slots, ExecutionStatus status,
      @Nullable String result, @Nullable Boolean reached, @Nullable String decision, @Nullable String error) {
    String hash = result == null ? null : CanonicalJson.sha256Hex(parse(result));
    locked.save(new Decided(status, status == ExecutionStatus.completed ? 100 : slots.progress(),
        slots.leaderWorker(), slots.leaderRule(), result, hash, reached, decision, error));
    logger.info("[swarm task={}] {}{}", JobIds.format(slots.task().taskId()), status, error == null ? "" : ": " + error);
  }

  /** A result as receipts hash it (floats as doubles, as the ledger's canonical JSON reads them). */
  static JsonNode parse(String json) {
    return CanonicalJson.parse(json);
  }

  /** A payload with its decimals as written. */
  static JsonNode payload(String json) {
    try {
      return PAYLOADS.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a stored payload is not JSON: " + e.getOriginalMessage(), e);
    }
  }
}
