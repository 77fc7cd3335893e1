package net.aitbc.grid.ops.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.CompactRange;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.VerifyingKey;
import org.jspecify.annotations.Nullable;

/**
 * The checks of {@code grid verify ledger}: every block header is signed by the coordinator's key
 * and well formed, the blocks form one chain from height 1, every sealed leaf matches its stored
 * receipt, every block's root is recomputed from the leaves, and the server's consistency proofs
 * between consecutive blocks verify. Each problem names the block or leaf.
 */
final class LedgerAudit {
  private static final int BLOCK_PAGE = 1000;
  private static final int LEAF_PAGE = 10_000;

  private final LedgerApi api;
  private final VerifyingKey key;
  private final List<String> problems = new ArrayList<>();
  private final TreeMap<Long, ObjectNode> headers = new TreeMap<>();
  private final Map<Long, @Nullable String> listedHashes = new HashMap<>();
  /** Blocks whose tree_size and root could be read, by tree size (then height). */
  private final List<Seal> seals = new ArrayList<>();
  private long top;
  private long leaves;

  /**
   * What the audit found.
   *
   * @param problems what is wrong, each naming the block or leaf; empty when the ledger verifies
   * @param blocks how many blocks were read
   * @param leaves how many sealed leaves were read
   * @param head the newest block's signed header, or null before the first block
   */
  record Summary(List<String> problems, int blocks, long leaves, @Nullable ObjectNode head) {}

  /** A block's tree size and signed root. */
  private record Seal(long height, long treeSize, byte[] root) {}

  private LedgerAudit(LedgerApi api, VerifyingKey key) {
    this.api = api;
    this.key = key;
  }

  /** Reads the whole ledger from {@code api} and checks it against {@code key}; IOException when it cannot be read. */
  static Summary run(LedgerApi api, VerifyingKey key) throws IOException {
    LedgerAudit audit = new LedgerAudit(api, key);
    audit.readBlocks();
    audit.checkBlocks();
    audit.checkLeaves();
    audit.checkConsistency();
    return new Summary(List.copyOf(audit.problems), audit.headers.size(), audit.leaves, audit.headers.get(audit.top));
  }

  /**
   * Reads every block, newest first, page by page. Blocks sealed meanwhile push older ones to later
   * pages, so some are seen twice (never missed): keep the first sight, and ignore blocks newer
   * than the head seen on the first page.
   */
  private void readBlocks() throws IOException {
    int offset = 0;
    boolean first = true;
    while (true) {
      String route = "/v1/ledger/blocks?limit=" + BLOCK_PAGE + "&offset=" + offset;
      JsonNode page = api.get(route);
      ArrayNode items = Json.items(page, route);
      if (first) {
        for (JsonNode item : items) {
          Long h = Json.integer(item, "height");
          top = Math.max(top, h == null ? 0 : h);
        }
        first = false;
      }
      for (JsonNode item : items) {
        Long height = Json.integer(item, "height");
        if (height == null || height < 1 || !(item.get("header") instanceof ObjectNode header)) {
          problems.add("the server lists a block without a height of at least 1 or a header: " + brief(item));
          continue;
        }
        if (height > top) {
          continue;
        }
        ObjectNode seen = headers.putIfAbsent(height, header);
        if (seen == null) {
          listedHashes.put(height, Json.text(item, "hash"));
        } else if (!seen.equals(header)) {
          problems.add("block " + height + ": the server listed two different headers for it");
        }
      }
      JsonNode next = page.get("next_offset");
      if (items.isEmpty() || next == null || next.isNull()) {
        return;
      }
      if (!next.canConvertToInt() || next.intValue() <= offset) {
        throw new IOException(route + ": next_offset " + next + " does not move forward");
      }
      offset = next.intValue();
    }
  }

  /** Each header alone (signature, fields), its place in the chain, and no height missing. */
  private void checkBlocks() {
    long missingFrom = -1;
    for (long h = 1; h <= top + 1; h++) {
      ObjectNode header = h <= top ? headers.get(h) : null;
      if (header == null && h <= top) {
        missingFrom = missingFrom < 0 ? h : missingFrom;
        continue;
      }
      if (missingFrom >= 0) {
        problems.add((missingFrom == h - 1 ? "block " + missingFrom : "blocks " + missingFrom + ".." + (h - 1))
            + ": missing (the server lists blocks up to " + top + ")");
        missingFrom = -1;
      }
      if (header == null) {
        break;
      }
      checkBlock(h, header);
    }
  }

  private void checkBlock(long h, ObjectNode header) {
    String at = "block " + h + ": ";
    Blocks.check(header, key).forEach(p -> problems.add(at + p));
    Long stated = Json.integer(header, "height");
    if (stated != null && stated != h) {
      problems.add(at + "the server lists it at height " + h + " but its header says " + stated);
    }
    String hash = Hex.encode(Blocks.hash(header));
    String listed = Json.plainHex(listedHashes.get(h));
    if (listed != null && !listed.equals(hash)) {
      problems.add(at + "hash: the server lists " + Json.brief(listed) + " but the header hashes to " + Json.brief(hash));
    }
    if (h == 1 || headers.containsKey(h - 1)) {
      Blocks.checkLink(h == 1 ? null : headers.get(h - 1), header).forEach(p -> problems.add(at + p));
    }
    Long treeSize = Json.integer(header, "tree_size");
    byte[] root = Json.hash(header, "root");
    if (treeSize != null && treeSize >= 0 && root != null) {
      seals.add(new Seal(h, treeSize, root));
    }
  }

  /**
   * Every sealed leaf, in index order: its stored receipt must hash to the sealed leaf hash, and the
   * sealed hashes must lead to each block's signed root (recomputed in O(log n) memory as the
   * leaves stream by).
   */
  private void checkLeaves() throws IOException {
    seals.sort(Comparator.comparingLong(Seal::treeSize).thenComparingLong(Seal::height));
    ObjectNode head = headers.get(top);
    Long headSize = head == null ? null : Json.integer(head, "tree_size");
    long size = headSize != null ? headSize : seals.isEmpty() ? 0 : seals.getLast().treeSize();
    CompactRange range = CompactRange.empty();
    int nextSeal = compareRoots(range, 0);
    long expected = 0;
    long unrecomputable = -1;
    while (expected < size) {
      String route = "/v1/ledger/leaves?start=" + expected + "&limit=" + LEAF_PAGE;
      ArrayNode items = Json.items(api.get(route), route);
      long before = expected;
      for (JsonNode item : items) {
        Long index = Json.integer(item, "index");
        if (index == null) {
          problems.add("the server lists a leaf without an index: " + brief(item));
          continue;
        }
        if (index >= size) {
          break; // sealed after the head block was read
        }
        if (index < expected) {
          problems.add("leaf " + index + ": listed twice");
          continue;
        }
        if (index > expected) {
          problems.add(leafRange(expected, index - 1) + ": missing (sealed in block " + sealingBlock(expected)
              + "); the server lists leaf " + index + " next");
          unrecomputable = unrecomputable < 0 ? expected : unrecomputable;
          expected = index;
        }
        byte[] sealed = checkLeaf(index, item);
        if (sealed == null) {
          unrecomputable = unrecomputable < 0 ? index : unrecomputable;
        } else if (unrecomputable < 0) {
          range.append(sealed);
          nextSeal = compareRoots(range, nextSeal);
        }
        expected = index + 1;
      }
      if (expected == before) {
        problems.add(leafRange(expected, size - 1) + ": missing (block " + top + " seals " + size
            + " leaves; the server lists none from " + expected + ")");
        unrecomputable = unrecomputable < 0 ? expected : unrecomputable;
        break;
      }
    }
    leaves = expected;
    if (unrecomputable >= 0 && nextSeal < seals.size()) {
      long from = seals.get(nextSeal).height();
      long to = seals.getLast().height();
      problems.add((from == to ? "block " + from : "blocks " + from + ".." + to)
          + ": root not recomputed: leaf " + unrecomputable + " cannot be read");
    }
  }

  /** The hash sealed for one leaf, after checking its stored receipt against it; null if none is listed. */
  private byte @Nullable [] checkLeaf(long index, JsonNode item) {
    String receipt = Json.text(item, "receipt_id");
    String at = "leaf " + index + " (receipt " + (receipt == null ? "unknown" : receipt) + "): ";
    byte[] sealed = Json.hash(item, "leaf_hash");
    byte[] entry = Json.hash(item, "entry_hash");
    if (sealed == null) {
      problems.add(at + "no sealed leaf hash is listed (block " + sealingBlock(index) + ")");
      // The stored receipt's hash still lets the roots be recomputed: they say whether it is the sealed one.
      return entry;
    }
    if (entry == null) {
      problems.add(at + "its stored receipt is missing (sealed in block " + sealingBlock(index) + ")");
    } else if (!Arrays.equals(sealed, entry)) {
      problems.add(at + "the stored receipt does not match the hash sealed in block " + sealingBlock(index));
    }
    return sealed;
  }

  /** Compares the roots of the blocks whose tree size the range has reached; returns the next block to compare. */
  private int compareRoots(CompactRange range, int next) {
    while (next < seals.size() && seals.get(next).treeSize() <= range.size()) {
      Seal seal = seals.get(next++);
      if (seal.treeSize() == range.size() && !Arrays.equals(seal.root(), range.root())) {
        problems.add("block " + seal.height() + ": root: the root of leaves 0.." + (seal.treeSize() - 1)
            + " recomputed from the sealed leaf hashes is not the signed root");
      }
    }
    return next;
  }

  /** The height of the first block whose tree covers leaf {@code index}, or "?" when none does. */
  private String sealingBlock(long index) {
    for (Seal s : seals) {
      if (s.treeSize() > index) {
        return Long.toString(s.height());
      }
    }
    return "?";
  }

  /** The server's consistency proof between each two consecutive blocks verifies against their signed roots. */
  private void checkConsistency() throws IOException {
    Map<Long, Seal> byHeight = new HashMap<>();
    seals.forEach(s -> byHeight.put(s.height(), s));
    for (long h = 2; h <= top; h++) {
      Seal a = byHeight.get(h - 1);
      Seal b = byHeight.get(h);
      if (a == null || b == null || a.treeSize() == 0 || a.treeSize() > b.treeSize()) {
        continue; // nothing to prove, or already reported as a bad header or link
      }
      String at = "blocks " + (h - 1) + " → " + h + ": ";
      String route = "/v1/ledger/proofs/consistency?first=" + a.treeSize() + "&second=" + b.treeSize();
      JsonNode answer;
      try {
        answer = api.get(route);
      } catch (LedgerApi.Status e) {
        if (e.code() == 401 || e.code() == 403) {
          throw e;
        }
        problems.add(at + "the server gives no consistency proof (" + e.getMessage() + ")");
        continue;
      }
      List<byte[]> proof = hashes(answer.get("hashes"));
      if (proof == null) {
        problems.add(at + "the server's consistency proof is not a list of 64-hex-character hashes");
      } else if (!Merkle.verifyConsistency(a.treeSize(), b.treeSize(), a.root(), b.root(), proof)) {
        problems.add(at + "the consistency proof from tree size " + a.treeSize() + " to " + b.treeSize()
            + " does not verify against their signed roots");
      }
    }
  }

  /** A JSON list of hex hashes, or null if it is not one. */
  static @Nullable List<byte[]> hashes(@Nullable JsonNode list) {
    if (list == null || !list.isArray()) {
      return null;
    }
    List<byte[]> out = new ArrayList<>();
    for (JsonNode h : list) {
      byte[] bytes = Json.hash(h.isTextual() ? h.textValue() : null);
      if (bytes == null) {
        return null;
      }
      out.add(bytes);
    }
    return out;
  }

  private static String leafRange(long from, long to) {
    return from == to ? "leaf " + from : "leaves " + from + ".." + to;
  }

  private static String brief(JsonNode item) {
    String text = item.toString();
    return text.length() > 120 ? text.substring(0, 120) + "…" : text;
  }
}
