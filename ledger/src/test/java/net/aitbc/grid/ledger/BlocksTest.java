package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Block headers: a valid chain of five, then each broken link named. */
class BlocksTest {
  private final SigningKey coordinator = ContractVectorTest.vectorKey();
  private final SigningKey stranger = SigningKey.fromHex("99".repeat(32));

  /** Five signed headers over a growing tree of receipts, 3, 0, 5, 1 and 2 a block. */
  private List<ObjectNode> chain() {
    MemoryTree tree = new MemoryTree();
    List<ObjectNode> headers = new ArrayList<>();
    byte[] prev = new byte[32];
    long time = 1_772_712_000_000L;
    int[] counts = {3, 0, 5, 1, 2};
    for (int h = 1; h <= counts.length; h++) {
      for (int i = 0; i < counts[h - 1]; i++) {
        ObjectNode receipt = ContractVectorTest.vectorReceipt().put("receipt_id", "%032x".formatted(tree.size()));
        tree.append(Receipts.leafHash(Signatures.sign(receipt, coordinator)));
      }
      ObjectNode header = Signatures.sign(
          Blocks.header(h, prev, tree.size(), tree.root(tree.size()), counts[h - 1], time + h * 1000L, coordinator.keyId()), coordinator);
      headers.add(header);
      prev = Blocks.hash(header);
    }
    return headers;
  }

  @Test
  void aValidChainHasNoProblems() {
    List<ObjectNode> chain = chain();
    ObjectNode previous = null;
    for (ObjectNode header : chain) {
      assertThat(Blocks.check(header, coordinator.verifyingKey())).isEmpty();
      assertThat(Blocks.checkLink(previous, header)).isEmpty();
      previous = header;
    }
    assertThat(chain.getFirst().get("prev_hash").textValue()).isEqualTo("0".repeat(64));
    assertThat(chain.getLast().get("tree_size").longValue()).isEqualTo(11);
  }

  @Test
  void theHeaderIsCanonicalAndItsHashLeavesOutTheSignature() {
    ObjectNode header = Blocks.header(2, new byte[32], 5, new byte[32], 3, 1000, "kid");
    assertThat(CanonicalJson.write(header)).isEqualTo("{\"count\":3,\"height\":2,\"key_id\":\"kid\",\"prev_hash\":\""
        + "0".repeat(64) + "\",\"root\":\"" + "0".repeat(64) + "\",\"timestamp\":1000,\"tree_size\":5,\"version\":\"1.0\"}");
    assertThat(Blocks.hash(header)).isEqualTo(CanonicalJson.sha256(CanonicalJson.bytes(header)));
    assertThat(Blocks.hash(Signatures.sign(header, coordinator))).isEqualTo(Blocks.hash(header));
  }

  @Test
  void brokenLinksAreNamed() {
    List<ObjectNode> chain = chain();
    assertThat(Blocks.checkLink(chain.get(1), chain.get(3))).containsExactly(
        "height: 4 does not follow 2",
        "prev_hash: is not the hash of the previous header",
        "tree_size: 9 is not the previous 3 + count 1");
    assertThat(Blocks.checkLink(chain.get(3), chain.get(2))).containsExactly(
        "height: 3 does not follow 4",
        "prev_hash: is not the hash of the previous header",
        "tree_size: 8 is not the previous 9 + count 5",
        "timestamp: is earlier than the previous header's");
    assertThat(Blocks.checkLink(null, chain.get(1))).containsExactly(
        "height: 2 does not follow 0",
        "prev_hash: block 1 must name 64 zeros",
        "tree_size: 3 is not the previous 0 + count 0");

    assertLinkProblem(chain, 3, h -> h.put("prev_hash", "ab".repeat(32)), "prev_hash: is not the hash of the previous header");
    assertLinkProblem(chain, 3, h -> h.put("tree_size", 10), "tree_size: 10 is not the previous 8 + count 1");
    assertLinkProblem(chain, 3, h -> h.put("timestamp", 1), "timestamp: is earlier than the previous header's");
    assertLinkProblem(chain, 3, h -> h.put("height", 5), "height: 5 does not follow 3");
    assertLinkProblem(chain, 3, h -> h.remove("count"), "count: missing");
    // A changed block breaks the link to the next one, even when re-signed.
    ObjectNode changed = chain.get(2).deepCopy();
    changed.put("root", "cd".repeat(32));
    assertThat(Blocks.checkLink(Signatures.sign(changed, coordinator), chain.get(3)))
        .containsExactly("prev_hash: is not the hash of the previous header");
  }

  @Test
  void oneHeadersProblemsAreNamed() {
    ObjectNode header = chain().get(2);
    assertThat(Blocks.check(header, stranger.verifyingKey())).containsExactly(
        "signature.key_id: " + coordinator.keyId() + " is not the expected key " + stranger.keyId());
    ObjectNode tampered = header.deepCopy().put("count", 4);
    assertThat(Blocks.check(tampered, coordinator.verifyingKey())).containsExactly("signature.sig: the signature does not verify");

    assertHeaderProblem(header, h -> h.put("root", "AB".repeat(32)), "root: must be 64 lowercase hex characters");
    assertHeaderProblem(header, h -> h.put("prev_hash", "00"), "prev_hash: must be 64 lowercase hex characters");
    assertHeaderProblem(header, h -> h.put("height", 0), "height: must be at least 1, got 0");
    assertHeaderProblem(header, h -> h.put("timestamp", "now"), "timestamp: must be an integer");
    assertHeaderProblem(header, h -> h.put("count", 9), "count: 9 is more than tree_size 8");
    assertHeaderProblem(header, h -> h.put("version", "2"), "version: must be \"1.0\", got \"2\"");
    assertHeaderProblem(header, h -> h.put("key_id", stranger.keyId()), "key_id: is not signature.key_id");
  }

  private void assertLinkProblem(List<ObjectNode> chain, int at, Consumer<ObjectNode> change, String problem) {
    ObjectNode header = chain.get(at).deepCopy();
    change.accept(header);
    ObjectNode signed = Signatures.sign(header, coordinator);
    assertThat(Blocks.checkLink(chain.get(at - 1), signed)).containsExactly(problem);
  }

  private void assertHeaderProblem(ObjectNode header, Consumer<ObjectNode> change, String problem) {
    ObjectNode copy = header.deepCopy();
    change.accept(copy);
    assertThat(Blocks.check(Signatures.sign(copy, coordinator), coordinator.verifyingKey())).containsExactly(problem);
  }
}
