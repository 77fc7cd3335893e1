package net.aitbc.grid.coordinator.swarm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.store.SwarmMemberJob;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ledger.CanonicalJson;
import org.jspecify.annotations.Nullable;

/**
 * The consensus rule: each result joins the first group whose first result it agrees with (by the
 * type's {@link Comparison}), else starts a group; the consensus is reached when the largest group,
 * alone (a tie decides nothing), holds at least the threshold's share of all the slots, those without
 * a result included. Every member's result, hash and group is kept in the decision.
 */
public final class Consensus {
  private static final ObjectMapper JSON = new ObjectMapper();
  // A share equal to the threshold reaches it whatever the rounding of the division.
  private static final double EPSILON = 1e-9;

  private Consensus() {}

  /**
   * One slot's member as the decision sees it.
   *
   * @param workerId its worker
   * @param jobId its job
   * @param result its result, or null when it has none (failed, lost, timed out)
   */
  public record Entry(String workerId, UUID jobId, @Nullable JsonNode result) {}

  /**
   * Results that agree with the group's first.
   *
   * @param workerIds their workers, in slot order
   * @param jobIds their jobs
   * @param sha256 the hash of the first result
   * @param minSimilarity the least similarity of a member's result to the first
   * @param share workerIds' count over the slots
   */
  public record Group(List<String> workerIds, List<UUID> jobIds, String sha256, double minSimilarity, double share) {}

  /**
   * How the decision judged one member's result.
   *
   * @param jobId the member job
   * @param sha256 its result's hash
   * @param group its group
   * @param agrees whether it is in the largest group
   */
  public record Vote(UUID jobId, String sha256, int group, boolean agrees) {}

  /**
   * What comparing the results decided.
   *
   * @param reached whether the consensus is reached
   * @param threshold the share needed
   * @param groups every group, in the order formed
   * @param chosen the largest group's index; -1 when none or tied
   * @param chosenJobId the job whose result is the largest group's first, or null
   * @param chosenSha256 that result's hash, or null
   * @param agreeing workers in the largest group
   * @param dissenting workers with a result outside it
   * @param missing workers of slots without a result
   * @param rule the comparison rule in words
   * @param explanation the decision in words
   * @param total the slots the shares are of
   * @param votes every result's judgement (not kept in {@link #toJson})
   */
  public record Decision(boolean reached, double threshold, List<Group> groups, int chosen,
      @Nullable UUID chosenJobId, @Nullable String chosenSha256, List<String> agreeing, List<String> dissenting,
      List<String> missing, String rule, String explanation, int total, List<Vote> votes) {}

  /**
   * The entries of a task's slots, in slot order: each slot's latest member job with its result
   * ({@code results} by job, parsed as receipts hash them) when it completed; a slot with no member
   * job yet counts as its chosen worker without a result.
   */
  public static List<Entry> entries(StoredSwarmTask task, List<SwarmMemberJob> members,
      Map<UUID, @Nullable String> results) {
    SwarmMemberJob[] latest = new SwarmMemberJob[task.parts()];
    for (SwarmMemberJob m : members) {
      if (m.slot() < latest.length && (latest[m.slot()] == null || latest[m.slot()].replacement() < m.replacement())) {
        latest[m.slot()] = m;
      }
    }
    List<Entry> out = new ArrayList<>(latest.length);
    for (int s = 0; s < latest.length; s++) {
      SwarmMemberJob m = latest[s];
      if (m == null) {
        out.add(new Entry(task.candidates().get(Math.min(s, task.candidates().size() - 1)).workerId(), NO_JOB, null));
        continue;
      }
      String text = m.state() == JobState.COMPLETED ? results.get(m.jobId()) : null;
      out.add(new Entry(m.workerId(), m.jobId(), text == null ? null : CanonicalJson.parse(text)));
    }
    return out;
  }

  /** The job id of a slot that has no member job yet. */
  public static final UUID NO_JOB = new UUID(0, 0);

  /** Decides over the slots' members ({@code entries}, one per slot, in slot order). */
  public static Decision decide(List<Entry> entries, double threshold, Comparison rule) {
    int total = entries.size();
    List<List<Integer>> members = new ArrayList<>();
    List<Double> least = new ArrayList<>();
    List<String> hashes = new ArrayList<>(total);
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      Entry e = entries.get(i);
      if (e.result() == null) {
        hashes.add(null);
        missing.add(e.workerId());
        continue;
      }
      String hash = Comparison.sha256(e.result());
      hashes.add(hash);
      int joined = -1;
      for (int g = 0; g < members.size() && joined < 0; g++) {
        int first = members.get(g).getFirst();
        double s = hash.equals(hashes.get(first)) ? 1 : rule.similarity(entries.get(first).result(), e.result());
        if (s >= rule.bound()) {
          joined = g;
          least.set(g, Math.min(least.get(g), s));
        }
      }
      if (joined < 0) {
        members.add(new ArrayList<>(List.of(i)));
        least.add(1.0);
      } else {
        members.get(joined).add(i);
      }
    }
    int chosen = -1;
    boolean tied = false;
    for (int g = 0; g < members.size(); g++) {
      if (chosen < 0 || members.get(g).size() > members.get(chosen).size()) {
        chosen = g;
        tied = false;
      } else if (members.get(g).size() == members.get(chosen).size()) {
        tied = true;
      }
    }
    if (tied) {
      chosen = -1;
    }
    List<Group> groups = new ArrayList<>(members.size());
    List<Vote> votes = new ArrayList<>();
    List<String> agreeing = new ArrayList<>();
    List<String> dissenting = new ArrayList<>();
    for (int g = 0; g < members.size(); g++) {
      List<String> workers = new ArrayList<>();
      List<UUID> jobs = new ArrayList<>();
      for (int i : members.get(g)) {
        Entry e = entries.get(i);
        workers.add(e.workerId());
        jobs.add(e.jobId());
        votes.add(new Vote(e.jobId(), hashes.get(i), g, g == chosen));
        if (g == chosen) {
          agreeing.add(e.workerId());
        } else if (chosen >= 0) {
          dissenting.add(e.workerId());
        }
      }
      groups.add(new Group(workers, jobs, hashes.get(members.get(g).getFirst()), least.get(g),
          (double) workers.size() / total));
    }
    boolean reached = chosen >= 0 && members.get(chosen).size() >= threshold * total - EPSILON;
    Integer first = chosen < 0 ? null : members.get(chosen).getFirst();
    return new Decision(reached, threshold, groups, chosen, first == null ? null : entries.get(first).jobId(),
        first == null ? null : hashes.get(first), agreeing, dissenting, missing, rule.describe(),
        explain(reached, tied, chosen < 0 ? 0 : members.get(chosen).size(), groups.size(), total, threshold, missing),
        total, votes);
  }

  private static String explain(boolean reached, boolean tied, int largest, int groups, int total, double threshold,
      List<String> missing) {
    String why;
    if (groups == 0) {
      why = "no consensus: none of the " + total + " members returned a result";
    } else if (tied) {
      why = "no consensus: the largest groups tie with " + largest + " of " + total + " results each";
    } else {
      String share = String.format(Locale.ROOT, "share %.3f %s threshold %.3f", (double) largest / total,
          reached ? ">=" : "<", threshold);
      why = reached ? largest + " of " + total + " results agree (" + share + ")"
          : "no consensus: the largest agreeing group holds " + largest + " of " + total + " results (" + share + ")";
    }
    return missing.isEmpty() ? why : why + "; " + missing.size() + " without a result (" + String.join(", ", missing)
        + ")";
  }

  /** The decision as the task row keeps it (votes live on the member rows). */
  public static String toJson(Decision d) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("reached", d.reached());
    o.put("threshold", d.threshold());
    ArrayNode groups = o.putArray("groups");
    for (Group g : d.groups()) {
      ObjectNode go = groups.addObject();
      g.workerIds().forEach(go.putArray("worker_ids")::add);
      ArrayNode jobs = go.putArray("job_ids");
      g.jobIds().forEach(j -> jobs.add(j.toString()));
      go.put("sha256", g.sha256());
      go.put("min_similarity", g.minSimilarity());
      go.put("share", g.share());
    }
    o.put("chosen", d.chosen());
    o.put("chosen_job_id", d.chosenJobId() == null ? null : d.chosenJobId().toString());
    o.put("chosen_sha256", d.chosenSha256());
    d.agreeing().forEach(o.putArray("agreeing")::add);
    d.dissenting().forEach(o.putArray("dissenting")::add);
    d.missing().forEach(o.putArray("missing")::add);
    o.put("rule", d.rule());
    o.put("explanation", d.explanation());
    o.put("total", d.total());
    return o.toString();
  }

  /** A decision read back from {@link #toJson}. */
  public static Decision fromJson(String json) {
    JsonNode o;
    try {
      o = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a stored decision is not JSON: " + e.getOriginalMessage(), e);
    }
    List<Group> groups = new ArrayList<>();
    for (JsonNode g : o.path("groups")) {
      List<UUID> jobs = new ArrayList<>();
      g.path("job_ids").forEach(j -> jobs.add(UUID.fromString(j.asText())));
      groups.add(new Group(texts(g.path("worker_ids")), jobs, g.path("sha256").asText(),
          g.path("min_similarity").asDouble(), g.path("share").asDouble()));
    }
    JsonNode chosenJob = o.get("chosen_job_id");
    JsonNode chosenSha = o.get("chosen_sha256");
    return new Decision(o.path("reached").asBoolean(), o.path("threshold").asDouble(), groups,
        o.path("chosen").asInt(-1), chosenJob == null || chosenJob.isNull() ? null : UUID.fromString(chosenJob.asText()),
        chosenSha == null || chosenSha.isNull() ? null : chosenSha.asText(), texts(o.path("agreeing")),
        texts(o.path("dissenting")), texts(o.path("missing")), o.path("rule").asText(),
        o.path("explanation").asText(), o.path("total").asInt(), List.of());
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
