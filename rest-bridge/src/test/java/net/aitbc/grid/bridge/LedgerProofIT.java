package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.document;
import static net.aitbc.grid.bridge.LedgerSteps.hashes;
import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.Signatures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the ledger routes serve holds up as a verifier checks it, with the ledger module alone:
 * every block header is signed by the coordinator's key and chained to the one before; every
 * receipt's inclusion proof leads to a signed root; consistency proofs link the blocks; the leaves
 * recompute every root.
 */
class LedgerProofIT {
  private static Grid grid;
  /** The jobs' receipts, by receipt id. */
  private static final Map<String, JsonNode> receipts = new HashMap<>();

  @BeforeAll
  static void runJobsIntoSeveralBlocks() {
    grid = Grid.startWithLedger(LedgerSteps.SEAL_EVERY);
    // Three batches, each sealed before the next starts: at least three blocks, of 2, 3 and 1 receipts or fewer.
    int n = 0;
    for (int batch : new int[] {2, 3, 1}) {
      List<String> jobs = new ArrayList<>();
      for (int i = 0; i < batch; i++) {
        jobs.add(LedgerSteps.runJob(grid, grid.clientKey, "ledger-proof-" + n++));
      }
      for (String job : jobs) {
        JsonNode item = LedgerSteps.awaitSealed(grid, grid.clientKey, job);
        receipts.put(item.get("receiptId").asText(), item.get("payload"));
      }
    }
    LedgerSteps.awaitSynced(grid);
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  @Test
  void everyBlockHeaderIsSignedAndChained() {
    List<JsonNode> chain = LedgerSteps.chain(grid, grid.clientKey);
    assertThat(chain.size()).isGreaterThanOrEqualTo(3);

    ObjectNode previous = null;
    for (JsonNode block : chain) {
      ObjectNode header = document(block.get("header"));
      assertThat(Signatures.check(header, grid.coordinatorKey)).as(header.toString()).isEmpty();
      assertThat(Blocks.check(header, grid.coordinatorKey)).as(header.toString()).isEmpty();
      assertThat(Blocks.checkLink(previous, header)).as(header.toString()).isEmpty();
      assertThat(block.get("hash").asText()).isEqualTo(Hex.encode(Blocks.hash(header)));
      assertThat(block.get("height").asLong()).isEqualTo(header.get("height").asLong());
      assertThat(ok(grid, "/v1/ledger/blocks/" + block.get("height").asLong(), grid.clientKey)).isEqualTo(block);
      previous = header;
    }
    assertThat(chain.getFirst().get("header").get("prev_hash").asText()).isEqualTo("0".repeat(64));

    // The explorer's summaries say the same as the signed headers.
    JsonNode summaries = ok(grid, "/v1/explorer/blocks?limit=200", grid.clientKey).get("items");
    assertThat(summaries.size()).isEqualTo(chain.size());
    for (JsonNode s : summaries) {
      JsonNode header = chain.get((int) s.get("height").asLong() - 1).get("header");
      assertThat(s.get("hash").asText()).isEqualTo("0x" + chain.get((int) s.get("height").asLong() - 1).get("hash").asText());
      assertThat(s.get("root").asText()).isEqualTo("0x" + header.get("root").asText());
      assertThat(s.get("prevHash").asText()).isEqualTo("0x" + header.get("prev_hash").asText());
      assertThat(s.get("treeSize").asLong()).isEqualTo(header.get("tree_size").asLong());
      assertThat(s.get("txCount").asLong()).isEqualTo(header.get("count").asLong());
      assertThat(s.get("proposer").asText()).isEqualTo(header.get("key_id").asText());
    }
  }

  @Test
  void everyReceiptsInclusionProofLeadsToItsBlocksSignedRoot() {
    List<JsonNode> chain = LedgerSteps.chain(grid, grid.clientKey);
    JsonNode latest = chain.getLast().get("header");
    assertThat(receipts).hasSize(6);

    for (Map.Entry<String, JsonNode> e : receipts.entrySet()) {
      byte[] leafHash = Receipts.leafHash(document(e.getValue()));

      // Against the latest block (no tree_size), by receipt id and by leaf hash.
      JsonNode proof = ok(grid, "/v1/ledger/proofs/inclusion?receipt_id=" + e.getKey(), grid.clientKey);
      assertThat(proof.properties()).extracting(Map.Entry::getKey).containsExactly("leaf_index", "tree_size",
          "leaf_hash", "hashes", "block_height", "root");
      assertThat(ok(grid, "/v1/ledger/proofs/inclusion?leaf_hash=0x" + Hex.encode(leafHash), grid.clientKey))
          .isEqualTo(proof);
      assertThat(proof.get("leaf_hash").asText()).isEqualTo(Hex.encode(leafHash));
      assertThat(proof.get("block_height").asLong()).isEqualTo(latest.get("height").asLong());
      assertThat(proof.get("tree_size").asLong()).isEqualTo(latest.get("tree_size").asLong());
      assertThat(proof.get("root").asText()).isEqualTo(latest.get("root").asText());
      assertProves(proof, leafHash, chain);

      // Against the block that sealed it.
      JsonNode sealedIn = ok(grid, "/v1/explorer/receipts?job_id=" + e.getValue().get("job_id").asText(),
          grid.clientKey).get("items").get(0);
      long height = sealedIn.get("blockHeight").asLong();
      long treeSize = chain.get((int) height - 1).get("header").get("tree_size").asLong();
      JsonNode early = ok(grid, "/v1/ledger/proofs/inclusion?receipt_id=" + e.getKey() + "&tree_size=" + treeSize,
          grid.clientKey);
      assertThat(early.get("block_height").asLong()).isEqualTo(height);
      assertThat(early.get("leaf_index").asLong()).isEqualTo(sealedIn.get("leafIndex").asLong())
          .isEqualTo(proof.get("leaf_index").asLong());
      assertProves(early, leafHash, chain);
    }

    // A tree size that is no block's cannot be proved against.
    long notABlocks = latest.get("tree_size").asLong() + 1;
    String anyId = receipts.keySet().iterator().next();
    assertThat(grid.get("/v1/ledger/proofs/inclusion?receipt_id=" + anyId + "&tree_size=" + notABlocks, grid.clientKey)
        .assertError(422)).isNotBlank();
  }

  @Test
  void consistencyProofsLinkEveryBlockToEveryLaterOne() {
    List<JsonNode> chain = LedgerSteps.chain(grid, grid.clientKey);
    for (int i = 0; i < chain.size(); i++) {
      for (int j = i; j < chain.size(); j++) {
        JsonNode first = chain.get(i).get("header");
        JsonNode second = chain.get(j).get("header");
        long m = first.get("tree_size").asLong();
        long n = second.get("tree_size").asLong();
        JsonNode proof = ok(grid, "/v1/ledger/proofs/consistency?first=" + m + "&second=" + n, grid.clientKey);
        assertThat(proof.get("first").asLong()).isEqualTo(m);
        assertThat(proof.get("second").asLong()).isEqualTo(n);
        assertThat(Merkle.verifyConsistency(m, n, Hex.decode(first.get("root").asText()),
            Hex.decode(second.get("root").asText()), hashes(proof))).as("%d → %d: %s", m, n, proof).isTrue();
      }
    }
  }

  @Test
  void theLeavesRecomputeEveryBlocksRoot() {
    List<JsonNode> chain = LedgerSteps.chain(grid, grid.clientKey);
    JsonNode leaves = ok(grid, "/v1/ledger/leaves?start=0&limit=10000", grid.clientKey).get("items");
    long size = chain.getLast().get("header").get("tree_size").asLong();
    assertThat(leaves.size()).isEqualTo((int) size);

    List<byte[]> hashes = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < leaves.size(); i++) {
      JsonNode leaf = leaves.get(i);
      assertThat(leaf.get("index").asLong()).isEqualTo(i);
      // Nothing was altered after sealing.
      assertThat(leaf.get("entry_hash").asText()).isEqualTo(leaf.get("leaf_hash").asText());
      hashes.add(Hex.decode(leaf.get("leaf_hash").asText()));
      ids.add(leaf.get("receipt_id").asText());
    }
    assertThat(ids).containsExactlyInAnyOrderElementsOf(receipts.keySet());
    for (JsonNode block : chain) {
      JsonNode header = block.get("header");
      int treeSize = (int) header.get("tree_size").asLong();
      assertThat(Hex.encode(Merkle.root(hashes.subList(0, treeSize)))).as(header.toString())
          .isEqualTo(header.get("root").asText());
    }
    assertThat(ok(grid, "/v1/ledger/leaves?start=1&limit=1", grid.clientKey).get("items")).containsExactly(leaves.get(1));
  }

  @Test
  void syncStatusIsTheNewestBlock() {
    JsonNode newest = LedgerSteps.chain(grid, grid.clientKey).getLast();
    JsonNode status = ok(grid, "/v1/sync-status", grid.clientKey);

    assertThat(status.get("height").asLong()).isEqualTo(newest.get("height").asLong());
    assertThat(status.get("hash").asText()).isEqualTo("0x" + newest.get("hash").asText());
    assertThat(status.get("tree_size").asLong()).isEqualTo(newest.get("header").get("tree_size").asLong());
    assertThat(status.get("key_id").asText()).isEqualTo(grid.coordinatorKey.keyId());
  }

  /** The proof leads from the leaf to the root it names, which is the signed root of the block it names. */
  private static void assertProves(JsonNode proof, byte[] leafHash, List<JsonNode> chain) {
    long index = proof.get("leaf_index").asLong();
    long size = proof.get("tree_size").asLong();
    byte[] root = Hex.decode(proof.get("root").asText());
    List<byte[]> path = hashes(proof);
    assertThat(Merkle.verifyInclusion(index, size, leafHash, path, root)).as(proof.toString()).isTrue();
    if (!path.isEmpty()) {
      // A proof with one hash changed proves nothing.
      List<byte[]> tampered = new ArrayList<>(path);
      byte[] first = tampered.getFirst().clone();
      first[0] ^= 1;
      tampered.set(0, first);
      assertThat(Merkle.verifyInclusion(index, size, leafHash, tampered, root)).isFalse();
    }
    ObjectNode header = document(chain.get((int) proof.get("block_height").asLong() - 1).get("header"));
    assertThat(Signatures.check(header, grid.coordinatorKey)).isEmpty();
    assertThat(header.get("root").asText()).isEqualTo(proof.get("root").asText());
    assertThat(header.get("tree_size").asLong()).isEqualTo(size);
  }
}
