package net.aitbc.grid.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The receipt of an agent workflow execution that ended, signed and appended to the ledger like a
 * job's receipt, and told apart from one by {@code "type": "execution"}. It names the execution, its
 * workflow and client, how it ended, its cost (an exact decimal string with 8 places, as a payment's
 * amounts), the SHA-256 of its canonical result, and in {@code steps} every step job in step and item
 * order with its state and, when the job has one, its receipt's id and leaf hash.
 */
public final class ExecutionReceipts {
  /** The value of {@code type} that marks an execution's receipt. */
  public static final String TYPE = "execution";
  /** How an execution that has a receipt ended. */
  public static final Set<String> STATUSES = Set.of("completed", "failed", "cancelled");
  /** Verification levels, as the REST contract spells them. */
  public static final Set<String> LEVELS = Set.of("basic", "full", "zero-knowledge");

  private static final Pattern AMOUNT = Pattern.compile("(0|[1-9][0-9]{0,11})\\.[0-9]{" + PaymentReceipts.SCALE + "}");

  private ExecutionReceipts() {}

  /** Whether {@code receipt} is an execution's. */
  public static boolean isExecution(JsonNode receipt) {
    return TYPE.equals(receipt.path("type").textValue());
  }

  /**
   * Problems with a signed execution receipt (empty = valid), each naming the field: its signature
   * against {@code coordinator}, its fields and their types, a result hash exactly when it completed,
   * and each listed step job (a receipt id and leaf hash together, or neither).
   */
  static List<String> check(ObjectNode receipt, @Nullable VerifyingKey coordinator) {
    List<String> problems = new ArrayList<>(Signatures.check(receipt, coordinator));
    Fields fields = new Fields("", problems);
    fields.equalTo(receipt, "version", "1.0");
    fields.lowerHex(receipt, "receipt_id", 32);
    fields.lowerHex(receipt, "execution_id", 32);
    fields.lowerHex(receipt, "workflow_id", 32);
    fields.string(receipt, "client");
    String status = fields.string(receipt, "status");
    if (status != null && !STATUSES.contains(status)) {
      fields.problem("status", "must be \"completed\", \"failed\" or \"cancelled\", got \"" + status + "\"");
    }
    String level = fields.string(receipt, "verification_level");
    if (level != null && !LEVELS.contains(level)) {
      fields.problem("verification_level", "must be \"basic\", \"full\" or \"zero-knowledge\", got \"" + level + "\"");
    }
    String cost = fields.string(receipt, "total_cost");
    if (cost != null && !AMOUNT.matcher(cost).matches()) {
      fields.problem("total_cost", "must be a decimal string with exactly " + PaymentReceipts.SCALE
          + " places, got \"" + cost + "\"");
    }
    fields.integer(receipt, "started_at", 0);
    fields.integer(receipt, "completed_at", 0);
    if ("completed".equals(status)) {
      fields.lowerHex(receipt, "result_sha256", 64);
    } else if (receipt.has("result_sha256")) {
      fields.problem("result_sha256", "only a completed execution has a result");
    }
    if (receipt.has("error")) {
      fields.string(receipt, "error");
    }
    JsonNode steps = receipt.get("steps");
    if (steps == null || !steps.isArray()) {
      fields.problem("steps", steps == null ? "missing" : "must be a list");
      return problems;
    }
    for (int i = 0; i < steps.size(); i++) {
      if (steps.get(i).isObject()) {
        checkStep(steps.get(i), new Fields("steps[" + i + "].", problems));
      } else {
        problems.add("steps[" + i + "]: must be an object");
      }
    }
    return problems;
  }

  private static void checkStep(JsonNode step, Fields fields) {
    fields.string(step, "step");
    fields.integer(step, "item", 0);
    fields.lowerHex(step, "job_id", 32);
    fields.string(step, "state");
    boolean hasId = step.has("receipt_id");
    if (hasId != step.has("leaf_hash")) {
      fields.problem(hasId ? "leaf_hash" : "receipt_id", "missing: a step job's receipt is named by both its id and "
          + "its leaf hash");
    }
    if (hasId) {
      fields.lowerHex(step, "receipt_id", 32);
    }
    if (step.has("leaf_hash")) {
      fields.lowerHex(step, "leaf_hash", 64);
    }
  }
}
