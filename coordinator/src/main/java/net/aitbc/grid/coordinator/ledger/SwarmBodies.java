package net.aitbc.grid.coordinator.ledger;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.MemberJobReceipt;
import net.aitbc.grid.coordinator.store.NewReceipt;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.swarm.Consensus;
import net.aitbc.grid.db.enums.SwarmStrategy;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.SwarmReceipts;

/**
 * The receipt of an ended swarm task ({@link SwarmReceipts}' form): {@code started_at} is when it was
 * started, {@code completed_at} when it ended; {@code consensus} is the decision of a consensus task
 * that got one; the members are its member jobs by slot then replacement, each with its worker, its
 * state when the task ended, its result's hash and vote when the decision recorded them, and its job
 * receipt (id and leaf hash) when it has one.
 */
final class SwarmBodies {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private SwarmBodies() {}

  /** The receipt {@code receiptId} of {@code t}, which has ended, with these member jobs. */
  static NewReceipt receipt(UUID receiptId, StoredSwarmTask t, List<MemberJobReceipt> jobs) {
    ObjectNode body = JSON.objectNode();
    body.put("version", "1.0");
    body.put("type", SwarmReceipts.TYPE);
    body.put("receipt_id", JobIds.format(receiptId));
    body.put("task_id", JobIds.format(t.taskId()));
    body.put("client", t.clientId());
    body.put("status", t.status().getLiteral());
    body.put("strategy", t.strategy() == SwarmStrategy.leader_election ? "leader-election" : t.strategy().getLiteral());
    body.put("job_type", t.jobType());
    body.put("started_at", t.createdAt().toEpochSecond());
    body.put("completed_at", Objects.requireNonNull(t.endedAt(), "endedAt").toEpochSecond());
    if (t.resultSha256() != null) {
      body.put("result_sha256", t.resultSha256());
    }
    body.put("error", t.errorMessage());
    body.put("leader", t.leaderWorkerId());
    if (t.decisionJson() != null) {
      Consensus.Decision d = Consensus.fromJson(t.decisionJson());
      ObjectNode c = body.putObject("consensus");
      c.put("reached", d.reached());
      c.put("threshold", d.threshold());
      c.put("chosen_sha256", d.chosenSha256());
      d.agreeing().forEach(c.putArray("agreeing")::add);
      d.dissenting().forEach(c.putArray("dissenting")::add);
      d.missing().forEach(c.putArray("missing")::add);
      c.put("rule", d.rule());
      c.put("explanation", d.explanation());
    }
    ArrayNode members = body.putArray("members");
    for (MemberJobReceipt j : jobs) {
      ObjectNode m = members.addObject();
      m.put("slot", j.slot());
      m.put("replacement", j.replacement());
      m.put("worker", j.workerId());
      m.put("job_id", JobIds.format(j.jobId()));
      m.put("state", j.state().getLiteral());
      m.put("result_sha256", j.resultSha256());
      m.put("vote", j.vote());
      if (j.receiptId() != null && j.leafHash() != null) {
        m.put("receipt_id", JobIds.format(j.receiptId()));
        m.put("leaf_hash", Hex.encode(j.leafHash()));
      }
    }
    byte[] bytes = CanonicalJson.bytes(body);
    return new NewReceipt(receiptId, null, t.clientId(), null, null, new String(bytes, StandardCharsets.US_ASCII),
        Merkle.leafHash(bytes), t.endedAt(), null, null, t.taskId());
  }
}
