package net.aitbc.grid.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Block headers of the ledger: what they hold, their hash, and the checks of one header and of a link. */
public final class Blocks {
  /** The prev_hash of block 1. */
  public static final String GENESIS_PREV_HASH = "0".repeat(64);

  private Blocks() {}

  /** An unsigned header (Signatures.sign adds the signature). */
  public static ObjectNode header(long height, byte[] prevHash, long treeSize, byte[] root, int count, long timestampMillis, String keyId) {
    ObjectNode header = JsonNodeFactory.instance.objectNode();
    header.put("count", count);
    header.put("height", height);
    header.put("key_id", keyId);
    header.put("prev_hash", Hex.encode(prevHash));
    header.put("root", Hex.encode(root));
    header.put("timestamp", timestampMillis);
    header.put("tree_size", treeSize);
    header.put("version", "1.0");
    return header;
  }

  /** The header's hash: SHA-256 of its canonical form without the signature. */
  public static byte[] hash(ObjectNode header) {
    return CanonicalJson.sha256(Signatures.message(header));
  }

  /** Problems with one header (empty = valid), each naming the field: signature (against {@code coordinator}), fields and types. */
  public static List<String> check(ObjectNode header, @Nullable VerifyingKey coordinator) {
    List<String> problems = new ArrayList<>(Signatures.check(header, coordinator));
    Fields fields = new Fields("", problems);
    fields.equalTo(header, "version", "1.0");
    fields.integer(header, "height", 1);
    fields.lowerHex(header, "prev_hash", 64);
    fields.lowerHex(header, "root", 64);
    Long count = fields.integer(header, "count", 0);
    Long treeSize = fields.integer(header, "tree_size", 0);
    fields.integer(header, "timestamp", 0);
    String keyId = fields.string(header, "key_id");
    if (count != null && treeSize != null && count > treeSize) {
      fields.problem("count", count + " is more than tree_size " + treeSize);
    }
    JsonNode signature = header.get("signature");
    if (keyId != null && signature != null && signature.has("key_id") && !keyId.equals(signature.get("key_id").textValue())) {
      fields.problem("key_id", "is not signature.key_id");
    }
    return problems;
  }

  /** Problems with a header following {@code previous} (null for height 1): height +1, prev_hash, tree_size = previous + count, timestamp not earlier. */
  public static List<String> checkLink(@Nullable ObjectNode previous, ObjectNode header) {
    List<String> problems = new ArrayList<>();
    Fields fields = new Fields("", problems);
    Long height = fields.integer(header, "height", 1);
    String prevHash = fields.string(header, "prev_hash");
    Long treeSize = fields.integer(header, "tree_size", 0);
    Long count = fields.integer(header, "count", 0);
    Long timestamp = fields.integer(header, "timestamp", 0);
    long expectedHeight = 1;
    String expectedPrevHash = GENESIS_PREV_HASH;
    long previousSize = 0;
    @Nullable Long previousTime = null;
    if (previous != null) {
      Fields before = new Fields("previous.", problems);
      Long previousHeight = before.integer(previous, "height", 1);
      Long size = before.integer(previous, "tree_size", 0);
      previousTime = before.integer(previous, "timestamp", 0);
      if (previousHeight == null || size == null || previousTime == null) {
        return problems;
      }
      expectedHeight = previousHeight + 1;
      expectedPrevHash = Hex.encode(hash(previous));
      previousSize = size;
    }
    if (height != null && height != expectedHeight) {
      fields.problem("height", height + " does not follow " + (expectedHeight - 1));
    }
    if (prevHash != null && !prevHash.equals(expectedPrevHash)) {
      fields.problem("prev_hash", previous == null ? "block 1 must name 64 zeros" : "is not the hash of the previous header");
    }
    if (treeSize != null && count != null && treeSize != previousSize + count) {
      fields.problem("tree_size", treeSize + " is not the previous " + previousSize + " + count " + count);
    }
    if (timestamp != null && previousTime != null && timestamp < previousTime) {
      fields.problem("timestamp", "is earlier than the previous header's");
    }
    return problems;
  }
}
