package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.VerifyReceiptResponse;
import org.jspecify.annotations.Nullable;

/**
 * The agent routes' execution receipts: the upstream-shaped answer of {@code GET
 * /api/v1/agents/executions/{id}/receipt} filled from the signed receipt, which it carries as
 * {@code receipt}; and what {@code POST /api/v1/agents/receipts/verify} reads and answers.
 */
final class AgentReceiptJson {
  /** The fields of the answer that restate the signed receipt, as a verifier compares them. */
  private static final List<String> RESTATED = List.of("execution_id", "workflow_id", "status", "receipt_id");

  private AgentReceiptJson() {}

  /**
   * The answer of the receipt route: the contract's fields (§8), from the signed receipt and the
   * coordinator's check of it, and the signed receipt itself. {@code coordinator_attestations} is the
   * coordinator's signature (its key id, the signature, when it was issued); {@code miner_signature}
   * is null, because the workers' signatures are in each step's job receipt, which the receipt names
   * by leaf hash; {@code minted_amount} is 0.0 (the grid mints nothing for an execution: what it cost
   * is {@code receipt.total_cost}); {@code verified} is the coordinator's check; {@code
   * transaction_hash} is the receipt's leaf hash, and {@code block_hash} the hash of the block that
   * sealed it (null until one did).
   */
  static ObjectNode envelope(Receipt r, VerifyReceiptResponse check) {
    ObjectNode signed = (ObjectNode) Objects.requireNonNull(Json.parseStored(r.getReceiptJson()), "receipt");
    ObjectNode o = Json.object();
    o.put("execution_id", r.getExecutionId());
    o.put("workflow_id", signed.path("workflow_id").asText());
    o.put("status", r.getStatus());
    o.put("receipt_id", r.getReceiptId());
    o.putNull("miner_signature");
    String recorded = r.hasIssueTime() ? JobJson.time(r.getIssueTime()) : null;
    o.putArray("coordinator_attestations").addObject()
        .put("coordinator_id", signed.path("signature").path("key_id").asText())
        .put("signature", signed.path("signature").path("sig").asText())
        .put("timestamp", recorded);
    o.put("minted_amount", 0.0);
    o.put("recorded_at", recorded);
    o.put("verified", check.getValid());
    o.put("block_hash", check.getBlockHash().isEmpty() ? null : LedgerJson.hex(check.getBlockHash()));
    o.put("block_height", check.hasBlockHeight() ? check.getBlockHeight() : null);
    o.put("transaction_hash", LedgerJson.hex(r.getLeafHash()));
    o.set("receipt", signed);
    return o;
  }

  /**
   * A receipt sent to be verified: the signed receipt, and the answer it came in when it came in one.
   *
   * @param receipt the signed receipt, as the client wrote it
   * @param envelope the receipt route's answer around it, or null when the signed receipt came alone
   */
  record Held(ObjectNode receipt, @Nullable ObjectNode envelope) {}

  /**
   * The receipt in a verify request: {@code {"receipt": <the receipt route's answer>}} (what {@code
   * aitbc agent receipt --verify} sends), {@code {"receipt": <signed receipt>}}, the answer or the
   * signed receipt alone. 400 when the body is not JSON; 422 when it holds no receipt.
   */
  static Held held(HttpData body) {
    if (body.isEmpty()) {
      throw badRequest("the request body is empty: send {\"receipt\": {...}}");
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body.array());
    } catch (StreamConstraintsException e) {
      throw badRequest("the request body is too deeply nested or too large to read: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw badRequest("the request body is not valid JSON: " + Requests.jacksonMessage(e));
    } catch (IOException e) {
      throw badRequest("the request body cannot be read: " + e.getMessage());
    }
    if (!(root instanceof ObjectNode doc)) {
      throw unprocessable("the body must be a JSON object: {\"receipt\": {...}}");
    }
    ObjectNode envelope = null;
    // At most two wrappers: the request's {"receipt": ...} and the receipt route's answer.
    for (int i = 0; i < 2 && !doc.has("signature") && doc.has("receipt"); i++) {
      JsonNode inner = doc.get("receipt");
      if (inner.isNull()) {
        throw unprocessable("receipt is null: there is no receipt to verify");
      }
      if (!(inner instanceof ObjectNode next)) {
        throw unprocessable("receipt must be a JSON object (a signed execution receipt, or what "
            + "GET /api/v1/agents/executions/{id}/receipt answered)");
      }
      if (RESTATED.stream().anyMatch(doc::has) || doc.has("transaction_hash")) {
        envelope = doc;
      }
      doc = next;
    }
    return new Held(doc, envelope);
  }

  /**
   * The verdict: the coordinator's problems with the signed receipt, and where an answer around it
   * restates it differently (an altered copy), each a reason; valid when there are none.
   */
  static ObjectNode verification(Held held, VerifyReceiptResponse check) {
    List<String> reasons = new ArrayList<>(check.getProblemsList());
    ObjectNode receipt = held.receipt();
    JsonNode type = receipt.path("type");
    if (!"execution".equals(type.textValue())) {
      reasons.add("type: " + (type.isMissingNode() ? "missing" : "must be \"execution\", got " + type)
          + ": not an execution's receipt");
    }
    if (held.envelope() != null) {
      reasons.addAll(restatements(held.envelope(), receipt, check));
    }
    ObjectNode o = Json.object();
    o.put("valid", reasons.isEmpty());
    ArrayNode list = o.putArray("reasons");
    reasons.forEach(list::add);
    o.put("execution_id", receipt.path("execution_id").isTextual() ? receipt.get("execution_id").asText() : null);
    o.put("receipt_id", receipt.path("receipt_id").isTextual() ? receipt.get("receipt_id").asText() : null);
    o.put("coordinator_id", receipt.path("signature").path("key_id").isTextual()
        ? receipt.get("signature").get("key_id").asText() : null);
    o.put("transaction_hash", check.getLeafHash().isEmpty() ? null : LedgerJson.hex(check.getLeafHash()));
    o.put("leaf_index", check.hasLeafIndex() ? check.getLeafIndex() : null);
    o.put("block_height", check.hasBlockHeight() ? check.getBlockHeight() : null);
    o.put("block_hash", check.getBlockHash().isEmpty() ? null : LedgerJson.hex(check.getBlockHash()));
    return o;
  }

  /** Where the answer around the signed receipt says something else than the receipt and the ledger. */
  private static List<String> restatements(ObjectNode envelope, ObjectNode receipt, VerifyReceiptResponse check) {
    List<String> reasons = new ArrayList<>();
    for (String field : RESTATED) {
      JsonNode stated = envelope.get(field);
      if (stated != null && !stated.isNull() && !stated.equals(receipt.get(field))) {
        reasons.add(field + ": the answer says " + stated + ", the signed receipt " + receipt.get(field));
      }
    }
    JsonNode transaction = envelope.get("transaction_hash");
    if (transaction != null && !transaction.isNull()
        && !transaction.asText().equals(LedgerJson.hex(check.getLeafHash()))) {
      reasons.add("transaction_hash: " + transaction + " is not the signed receipt's leaf hash");
    }
    JsonNode block = envelope.get("block_hash");
    if (block != null && !block.isNull()
        && (check.getBlockHash().isEmpty() || !block.asText().equals(LedgerJson.hex(check.getBlockHash())))) {
      reasons.add("block_hash: " + block + " is not the hash of a block that sealed the receipt");
    }
    JsonNode signature = receipt.path("signature");
    JsonNode attestations = envelope.path("coordinator_attestations");
    for (int i = 0; i < attestations.size(); i++) {
      JsonNode a = attestations.get(i);
      if (!a.path("signature").equals(signature.path("sig")) || !a.path("coordinator_id").equals(signature.path("key_id"))) {
        reasons.add("coordinator_attestations[" + i + "]: is not the signed receipt's signature and key id");
      }
    }
    return reasons;
  }
}
