package net.aitbc.grid.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The receipt of a swarm task that ended, signed and appended to the ledger like a job's receipt, and
 * told apart from one by {@code "type": "swarm_task"}. It names the task, its client, strategy, job
 * type and how it ended, the SHA-256 of its canonical result, for a consensus the decision (reached,
 * threshold, the agreeing, dissenting and missing workers, the chosen result's hash), and in {@code
 * members} every member job by slot and replacement with its worker, state, result hash and vote, and,
 * when the job has one, its receipt's id and leaf hash.
 */
public final class SwarmReceipts {
  /** The value of {@code type} that marks a swarm task's receipt. */
  public static final String TYPE = "swarm_task";
  /** How a task that has a receipt ended. */
  public static final Set<String> STATUSES = Set.of("completed", "failed", "cancelled");
  /** Its strategies, as the CLI spells them. */
  public static final Set<String> STRATEGIES = Set.of("consensus", "leader-election", "distributed");

  private SwarmReceipts() {}

  /** Whether {@code receipt} is a swarm task's. */
  public static boolean isSwarmTask(JsonNode receipt) {
    return TYPE.equals(receipt.path("type").textValue());
  }

  /**
   * Problems with a signed swarm task receipt (empty = valid), each naming the field: its signature
   * against {@code coordinator}, its fields and their types, a result hash exactly when it completed,
   * the decision's fields when there is one, and each member job (a receipt id and leaf hash together,
   * or neither).
   */
  static List<String> check(ObjectNode receipt, @Nullable VerifyingKey coordinator) {
    List<String> problems = new ArrayList<>(Signatures.check(receipt, coordinator));
    Fields fields = new Fields("", problems);
    fields.equalTo(receipt, "version", "1.0");
    fields.lowerHex(receipt, "receipt_id", 32);
    fields.lowerHex(receipt, "task_id", 32);
    fields.string(receipt, "client");
    fields.string(receipt, "job_type");
    String status = fields.string(receipt, "status");
    if (status != null && !STATUSES.contains(status)) {
      fields.problem("status", "must be \"completed\", \"failed\" or \"cancelled\", got \"" + status + "\"");
    }
    String strategy = fields.string(receipt, "strategy");
    if (strategy != null && !STRATEGIES.contains(strategy)) {
      fields.problem("strategy", "must be \"consensus\", \"leader-election\" or \"distributed\", got \"" + strategy
          + "\"");
    }
    fields.integer(receipt, "started_at", 0);
    fields.integer(receipt, "completed_at", 0);
    if ("completed".equals(status)) {
      fields.lowerHex(receipt, "result_sha256", 64);
    } else if (receipt.has("result_sha256")) {
      fields.problem("result_sha256", "only a completed task has a result");
    }
    if (receipt.has("error")) {
      fields.string(receipt, "error");
    }
    JsonNode consensus = receipt.get("consensus");
    if (consensus != null) {
      checkConsensus(consensus, new Fields("consensus.", problems));
    }
    JsonNode members = receipt.get("members");
    if (members == null || !members.isArray()) {
      fields.problem("members", members == null ? "missing" : "must be a list");
      return problems;
    }
    for (int i = 0; i < members.size(); i++) {
      if (members.get(i).isObject()) {
        checkMember(members.get(i), new Fields("members[" + i + "].", problems));
      } else {
        problems.add("members[" + i + "]: must be an object");
      }
    }
    return problems;
  }

  private static void checkConsensus(JsonNode c, Fields fields) {
    if (!c.isObject()) {
      fields.problem("", "must be an object");
      return;
    }
    if (!c.path("reached").isBoolean()) {
      fields.problem("reached", "must be true or false");
    }
    fields.number(c, "threshold");
    fields.string(c, "explanation");
    for (String list : List.of("agreeing", "dissenting", "missing")) {
      if (!c.path(list).isArray()) {
        fields.problem(list, "must be a list of worker ids");
      }
    }
    if (c.has("chosen_sha256")) {
      fields.lowerHex(c, "chosen_sha256", 64);
    }
  }

  private static void checkMember(JsonNode m, Fields fields) {
    fields.integer(m, "slot", 0);
    fields.integer(m, "replacement", 0);
    fields.string(m, "worker");
    fields.lowerHex(m, "job_id", 32);
    fields.string(m, "state");
    if (m.has("result_sha256")) {
      fields.lowerHex(m, "result_sha256", 64);
    }
    if (m.has("vote") && !Set.of("agree", "dissent").contains(m.path("vote").asText())) {
      fields.problem("vote", "must be \"agree\" or \"dissent\"");
    }
    boolean hasId = m.has("receipt_id");
    if (hasId != m.has("leaf_hash")) {
      fields.problem(hasId ? "leaf_hash" : "receipt_id", "missing: a member job's receipt is named by both its id "
          + "and its leaf hash");
    }
    if (hasId) {
      fields.lowerHex(m, "receipt_id", 32);
    }
    if (m.has("leaf_hash")) {
      fields.lowerHex(m, "leaf_hash", 64);
    }
  }
}
