package net.aitbc.grid.coordinator.ledger;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NewReceipt;
import net.aitbc.grid.coordinator.store.StepJobReceipt;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.workflow.StepKeys;
import net.aitbc.grid.db.enums.VerificationLevel;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.ExecutionReceipts;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.PaymentReceipts;

/**
 * The receipt of an ended execution ({@link ExecutionReceipts}' form): {@code started_at} is when it
 * was started (a job receipt's is likewise its submission), {@code completed_at} when it ended; the
 * steps are its step jobs in definition order of their steps, then item order, each with its state
 * when the execution ended and its job receipt (id and leaf hash) when it has one.
 */
final class ExecutionBodies {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private ExecutionBodies() {}

  /** The receipt {@code receiptId} of {@code e}, which has ended, with these step jobs. */
  static NewReceipt receipt(UUID receiptId, StoredExecution e, List<StepJobReceipt> jobs) {
    ObjectNode body = JSON.objectNode();
    body.put("version", "1.0");
    body.put("type", ExecutionReceipts.TYPE);
    body.put("receipt_id", JobIds.format(receiptId));
    body.put("execution_id", JobIds.format(e.executionId()));
    body.put("workflow_id", JobIds.format(e.workflowId()));
    body.put("client", e.clientId());
    body.put("status", e.status().getLiteral());
    body.put("verification_level", level(e.verificationLevel()));
    body.put("total_cost", PaymentReceipts.amount(e.totalCost()));
    body.put("started_at", e.createdAt().toEpochSecond());
    body.put("completed_at", Objects.requireNonNull(e.endedAt(), "endedAt").toEpochSecond());
    if (e.finalResultJson() != null) {
      body.put("result_sha256", CanonicalJson.sha256Hex(CanonicalJson.parse(e.finalResultJson())));
    }
    body.put("error", e.errorMessage());
    ArrayNode steps = body.putArray("steps");
    for (Named job : ordered(e, jobs)) {
      ObjectNode step = steps.addObject();
      step.put("step", job.step());
      step.put("item", job.item());
      step.put("job_id", JobIds.format(job.job().jobId()));
      step.put("state", job.job().state().getLiteral());
      if (job.job().receiptId() != null && job.job().leafHash() != null) {
        step.put("receipt_id", JobIds.format(job.job().receiptId()));
        step.put("leaf_hash", Hex.encode(job.job().leafHash()));
      }
    }
    byte[] bytes = CanonicalJson.bytes(body);
    return new NewReceipt(receiptId, null, e.clientId(), null, null, new String(bytes, StandardCharsets.US_ASCII),
        Merkle.leafHash(bytes), e.endedAt(), null, e.executionId());
  }

  /** The contract's spelling of a level ({@code zero-knowledge}). */
  private static String level(VerificationLevel level) {
    return level == VerificationLevel.zero_knowledge ? "zero-knowledge" : level.getLiteral();
  }

  private record Named(String step, int item, StepJobReceipt job) {}

  /** The jobs by their steps' definition order, then item. */
  private static List<Named> ordered(StoredExecution e, List<StepJobReceipt> jobs) {
    Map<String, Integer> order = new HashMap<>();
    e.steps().forEach(s -> order.putIfAbsent(s.name(), order.size()));
    List<Named> named = new ArrayList<>(jobs.size());
    for (StepJobReceipt job : jobs) {
      // Every step job's request id names its step (the engine made it so).
      StepKeys.Key key = StepKeys.parse(job.requestId()).orElse(new StepKeys.Key(job.requestId(), 0));
      named.add(new Named(key.step(), key.item(), job));
    }
    named.sort(Comparator.comparingInt((Named n) -> order.getOrDefault(n.step(), Integer.MAX_VALUE))
        .thenComparing(Named::step).thenComparingInt(Named::item));
    return named;
  }
}
