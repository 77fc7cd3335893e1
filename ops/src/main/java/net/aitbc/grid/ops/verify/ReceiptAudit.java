package net.aitbc.grid.ops.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.VerifyingKey;
import org.jspecify.annotations.Nullable;

/**
 * The checks of {@code grid verify receipt}: the receipt's own signature and fields, its worker's
 * signature, and, given a proof, that a block signed by the coordinator includes it.
 */
final class ReceiptAudit {
  private ReceiptAudit() {}

  /**
   * The receipt in what a file holds: the receipt itself, what {@code aitbc client result}, {@code
   * aitbc client payment-receipt} or {@code aitbc agent receipt} prints ({@code {..,"receipt":{..}}}),
   * or an explorer item ({@code {"payload":{..}}}). IllegalArgumentException saying what the file
   * holds instead.
   */
  static ObjectNode receiptIn(JsonNode doc) {
    if (!(doc instanceof ObjectNode object)) {
      throw new IllegalArgumentException("it holds no JSON object");
    }
    if (object.has("signature") || object.has("receipt_id") && !object.has("receipt") && !object.has("payload")) {
      return object;
    }
    for (String wrapper : List.of("receipt", "payload")) {
      JsonNode inner = object.get(wrapper);
      if (inner instanceof ObjectNode receipt) {
        return receipt;
      }
      if (inner != null && inner.isNull()) {
        throw new IllegalArgumentException("its \"" + wrapper + "\" is null: no receipt was issued yet "
            + "(a job has one once it completed, a payment once it was released or refunded, an execution once "
            + "it ended; the coordinator issues none without a signing key)");
      }
    }
    throw new IllegalArgumentException("it holds no receipt: expected a signed receipt, {\"receipt\": {...}} as "
        + "`aitbc client result`, `aitbc client payment-receipt` and `aitbc agent receipt` print it, or an explorer "
        + "item {\"payload\": {...}}");
  }

  /** Problems with the receipt itself (its signature by {@code key}, fields, the worker's signature), each prefixed "receipt ID: ". */
  static List<String> check(ObjectNode receipt, VerifyingKey key) {
    String at = "receipt " + idOf(receipt) + ": ";
    return Receipts.check(receipt, key).stream().map(p -> at + p).toList();
  }

  /**
   * Problems with a proof that the receipt is in the ledger: the inclusion route's answer with the
   * signed header of its block as {@code "block"}. The root and tree size must be the signed header's.
   */
  static List<String> checkProof(ObjectNode receipt, JsonNode proof, VerifyingKey key) {
    List<String> problems = new ArrayList<>();
    if (!(proof.get("block") instanceof ObjectNode header)) {
      problems.add("proof: block: missing (a proof holds the inclusion route's answer and the signed header of "
          + "its block as \"block\")");
      return problems;
    }
    Long height = Json.integer(header, "height");
    String block = "block " + (height == null ? "?" : height);
    Blocks.check(header, key).forEach(p -> problems.add(block + ": " + p));
    Long index = Json.integer(proof, "leaf_index");
    Long size = Json.integer(proof, "tree_size");
    Long provedHeight = Json.integer(proof, "block_height");
    byte[] root = Json.hash(proof, "root");
    List<byte[]> hashes = LedgerAudit.hashes(proof.get("hashes"));
    Long signedSize = Json.integer(header, "tree_size");
    byte[] signedRoot = Json.hash(header, "root");
    if (index == null || index < 0) {
      problems.add("proof: leaf_index: missing or not an integer of at least 0");
    }
    if (hashes == null) {
      problems.add("proof: hashes: missing or not a list of 64-hex-character hashes");
    }
    if (provedHeight != null && height != null && !provedHeight.equals(height)) {
      problems.add("proof: block_height " + provedHeight + " is not the header's height " + height);
    }
    if (size != null && signedSize != null && !size.equals(signedSize)) {
      problems.add("proof: tree_size " + size + " is not " + block + "'s tree_size " + signedSize);
    }
    if (root != null && signedRoot != null && !Arrays.equals(root, signedRoot)) {
      problems.add("proof: root is not " + block + "'s signed root");
    }
    byte[] leafHash = Receipts.leafHash(receipt);
    byte[] provedLeaf = Json.hash(proof, "leaf_hash");
    if (provedLeaf != null && !Arrays.equals(provedLeaf, leafHash)) {
      problems.add("proof: leaf_hash " + Json.brief(Hex.encode(provedLeaf)) + " is not the receipt's leaf hash "
          + Json.brief(Hex.encode(leafHash)) + " (the receipt was altered, or the proof is another receipt's)");
    }
    if (index != null && index >= 0 && hashes != null && signedSize != null && signedRoot != null
        && !Merkle.verifyInclusion(index, signedSize, leafHash, hashes, signedRoot)) {
      problems.add("leaf " + index + ": the inclusion proof does not lead from the receipt's leaf hash to " + block
          + "'s signed root (tree size " + signedSize + ")");
    }
    return problems;
  }

  /**
   * Fetches the proof of a receipt from the bridge: the inclusion route's answer and the signed
   * header of its block. Null, with the server's words in {@code problems}, when the ledger does not
   * hold it (not sealed yet, or unknown).
   */
  static @Nullable ObjectNode fetchProof(LedgerApi api, String receiptId, List<String> problems) throws IOException {
    JsonNode inclusion;
    try {
      inclusion = api.get("/v1/ledger/proofs/inclusion?receipt_id=" + LedgerApi.param(receiptId));
    } catch (LedgerApi.Status e) {
      if (e.code() != 404) {
        throw e;
      }
      problems.add("receipt " + receiptId + ": not in the ledger: " + e.getMessage());
      return null;
    }
    if (!(inclusion instanceof ObjectNode proof)) {
      throw new IOException("the inclusion proof of " + receiptId + " is not a JSON object");
    }
    Long height = Json.integer(proof, "block_height");
    if (height == null) {
      problems.add("proof: block_height: missing in the server's answer");
      return null;
    }
    JsonNode block;
    try {
      block = api.get("/v1/ledger/blocks/" + height);
    } catch (LedgerApi.Status e) {
      if (e.code() != 404) {
        throw e;
      }
      problems.add("block " + height + ": the proof names it but the server has no such block");
      return null;
    }
    ObjectNode full = proof.deepCopy();
    full.set("block", block.get("header"));
    return full;
  }

  /** The receipt's id for messages. */
  static String idOf(ObjectNode receipt) {
    String id = Json.text(receipt, "receipt_id");
    return id == null ? "(no receipt_id)" : id;
  }
}
