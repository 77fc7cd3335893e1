package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import java.util.HexFormat;
import net.aitbc.grid.v1.Block;
import net.aitbc.grid.v1.GetConsistencyProofRequest;
import net.aitbc.grid.v1.GetConsistencyProofResponse;
import net.aitbc.grid.v1.GetInclusionProofResponse;
import net.aitbc.grid.v1.GetSyncStatusResponse;
import net.aitbc.grid.v1.Leaf;
import net.aitbc.grid.v1.ListBlocksResponse;
import net.aitbc.grid.v1.ListLeavesResponse;
import net.aitbc.grid.v1.ListReceiptsResponse;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.VerifyReceiptResponse;
import org.junit.jupiter.api.Test;

/** Receipts, blocks and proofs as the REST routes write them, from the coordinator's messages. */
class LedgerJsonTest {
  /** A signed receipt as the coordinator stores it: canonical, with Python's float digits. */
  private static final String RECEIPT_JSON = "{\"client\":\"client-a\",\"completed_at\":1772712003,"
      + "\"job_id\":\"5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b\",\"metadata\":{\"result\":{\"output\":\"hello\"}},"
      + "\"price\":0.05,\"provider\":\"w-1\",\"receipt_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\","
      + "\"signature\":{\"alg\":\"Ed25519\",\"key_id\":\"6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw\",\"sig\":\"u6Ly\"},"
      + "\"started_at\":1772712000,\"status\":\"COMPLETED\",\"unit_price\":0.02,\"unit_type\":\"gpu_seconds\","
      + "\"units\":2.0,\"version\":\"1.0\"}";
  private static final String HEADER_JSON = "{\"count\":2,\"height\":3,\"key_id\":\"6kps\",\"prev_hash\":\""
      + "00".repeat(32) + "\",\"root\":\"" + "ab".repeat(32) + "\",\"signature\":{\"alg\":\"Ed25519\",\"key_id\":\"6kps\","
      + "\"sig\":\"c2ln\"},\"timestamp\":1772712004000,\"tree_size\":5,\"version\":\"1.0\"}";
  /** 2026-03-05T12:00:03.250000 UTC. */
  private static final Timestamp ISSUED = Timestamp.newBuilder().setSeconds(1772712003L).setNanos(250_000_000).build();
  private static final String ISSUED_TEXT = "2026-03-05T12:00:03.250000";

  @Test
  void explorerReceiptsHaveTheCliServersShapeAndTheLedgerPosition() throws Exception {
    ListReceiptsResponse page = ListReceiptsResponse.newBuilder()
        .addReceipts(receipt().setLeafIndex(4).setBlockHeight(3))
        .addReceipts(receipt().setReceiptId("1".repeat(32)).clearLeafIndex().clearBlockHeight())
        .setNextOffset(2)
        .build();

    JsonNode json = LedgerJson.explorerReceipts(page, "5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b");

    assertThat(json.get("jobId").asText()).isEqualTo("5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b");
    assertThat(json.get("next_offset").asInt()).isEqualTo(2);
    JsonNode first = json.get("items").get(0);
    assertThat(first.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("receiptId", "jobId",
        "miner", "coordinator", "issuedAt", "status", "payload", "leafHash", "leafIndex", "blockHeight");
    assertThat(first.get("receiptId").asText()).isEqualTo("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    assertThat(first.get("miner").asText()).isEqualTo("w-1");
    assertThat(first.get("coordinator").asText()).isEqualTo("client-a");
    assertThat(first.get("issuedAt").asText()).isEqualTo(ISSUED_TEXT);
    assertThat(first.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(first.get("payload").isObject()).isTrue();
    assertThat(first.get("payload")).isEqualTo(Json.MAPPER.readTree(RECEIPT_JSON));
    assertThat(first.get("leafHash").asText()).isEqualTo("0a".repeat(32));
    assertThat(first.get("leafIndex").asLong()).isEqualTo(4);
    assertThat(first.get("blockHeight").asLong()).isEqualTo(3);
    JsonNode unsealed = json.get("items").get(1);
    assertThat(unsealed.get("leafIndex").isNull()).isTrue();
    assertThat(unsealed.get("blockHeight").isNull()).isTrue();
    // The signed digits come through as the coordinator signed them: 2.0 stays 2.0, 0.05 stays 0.05.
    String text = Json.text(json);
    assertThat(text).contains("\"units\":2.0,").contains("\"price\":0.05,").contains("\"unit_price\":0.02,");
  }

  @Test
  void anUnfilteredListIsAllsAndTheLastPageHasNoNextOffset() {
    JsonNode json = LedgerJson.explorerReceipts(ListReceiptsResponse.getDefaultInstance(), null);

    assertThat(json.get("jobId").asText()).isEqualTo("all");
    assertThat(json.get("items").isArray()).isTrue();
    assertThat(json.get("items").size()).isZero();
    assertThat(json.has("next_offset")).isTrue();
    assertThat(json.get("next_offset").isNull()).isTrue();
  }

  @Test
  void aJobsReceiptIsTheSignedObjectItself() throws Exception {
    assertThat(LedgerJson.signed(receipt().build())).isEqualTo(Json.MAPPER.readTree(RECEIPT_JSON));
    assertThat(Json.text(LedgerJson.signed(receipt().build()))).isEqualTo(RECEIPT_JSON);
    assertThatThrownBy(() -> LedgerJson.signed(receipt().setReceiptJson("").build()))
        .isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
          assertThat(e.status().code()).isEqualTo(404);
          assertThat(e.getMessage()).isEqualTo("receipt not available");
        });

    JsonNode list = LedgerJson.jobReceipts(ListReceiptsResponse.newBuilder().addReceipts(receipt()).build());
    assertThat(list.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("items");
    assertThat(list.get("items").get(0)).isEqualTo(Json.MAPPER.readTree(RECEIPT_JSON));
  }

  @Test
  void aTransactionIsTheReceiptFoundByItsLeafHash() throws Exception {
    JsonNode json = LedgerJson.transaction(receipt().setLeafIndex(0).setBlockHeight(1).build());

    assertThat(json.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("hash", "receiptId",
        "jobId", "status", "issuedAt", "leafIndex", "blockHeight", "receipt");
    assertThat(json.get("hash").asText()).isEqualTo("0x" + "0a".repeat(32));
    assertThat(json.get("receiptId").asText()).isEqualTo("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    assertThat(json.get("jobId").asText()).isEqualTo("5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b");
    assertThat(json.get("issuedAt").asText()).isEqualTo(ISSUED_TEXT);
    assertThat(json.get("leafIndex").asLong()).isZero();
    assertThat(json.get("blockHeight").asLong()).isEqualTo(1);
    assertThat(json.get("receipt")).isEqualTo(Json.MAPPER.readTree(RECEIPT_JSON));

    JsonNode unsealed = LedgerJson.transaction(receipt().build());
    assertThat(unsealed.get("leafIndex").isNull()).isTrue();
    assertThat(unsealed.get("blockHeight").isNull()).isTrue();
  }

  @Test
  void aVerdictListsItsProblemsAndWhereTheLedgerHoldsIt() {
    JsonNode valid = LedgerJson.verification(VerifyReceiptResponse.newBuilder().setValid(true).setLeafIndex(7)
        .setBlockHeight(2).build());
    assertThat(Json.text(valid)).isEqualTo("{\"valid\":true,\"problems\":[],\"leaf_index\":7,\"block_height\":2}");

    JsonNode invalid = LedgerJson.verification(VerifyReceiptResponse.newBuilder().setValid(false)
        .addProblems("signature.sig: the signature does not verify")
        .addProblems("the ledger holds no receipt with this content").build());
    assertThat(Json.text(invalid)).isEqualTo("{\"valid\":false,\"problems\":[\"signature.sig: the signature does not"
        + " verify\",\"the ledger holds no receipt with this content\"],\"leaf_index\":null,\"block_height\":null}");
  }

  @Test
  void explorerBlocksAreSummariesWithPrefixedHashes() {
    ListBlocksResponse page = ListBlocksResponse.newBuilder().addBlocks(block()).setNextOffset(20).build();

    JsonNode json = LedgerJson.explorerBlocks(page);

    JsonNode b = json.get("items").get(0);
    assertThat(b.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("height", "hash", "timestamp",
        "txCount", "proposer", "treeSize", "root", "prevHash");
    assertThat(b.get("height").asLong()).isEqualTo(3);
    assertThat(b.get("hash").asText()).isEqualTo("0x" + "cd".repeat(32));
    assertThat(b.get("timestamp").asText()).isEqualTo(ISSUED_TEXT);
    assertThat(b.get("txCount").asInt()).isEqualTo(2);
    assertThat(b.get("proposer").asText()).isEqualTo("6kps");
    assertThat(b.get("treeSize").asLong()).isEqualTo(5);
    assertThat(b.get("root").asText()).isEqualTo("0x" + "ab".repeat(32));
    assertThat(b.get("prevHash").asText()).isEqualTo("0x" + "00".repeat(32));
    assertThat(json.get("next_offset").asInt()).isEqualTo(20);
  }

  @Test
  void ledgerBlocksCarryTheSignedHeader() throws Exception {
    JsonNode page = LedgerJson.ledgerBlocks(ListBlocksResponse.newBuilder().addBlocks(block()).build());
    JsonNode one = LedgerJson.ledgerBlock(block().build());

    assertThat(page.get("items").get(0)).isEqualTo(one);
    assertThat(page.get("next_offset").isNull()).isTrue();
    assertThat(one.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("height", "hash", "header");
    assertThat(one.get("height").asLong()).isEqualTo(3);
    assertThat(one.get("hash").asText()).isEqualTo("cd".repeat(32));
    assertThat(one.get("header")).isEqualTo(Json.MAPPER.readTree(HEADER_JSON));
    assertThat(Json.text(one.get("header"))).isEqualTo(HEADER_JSON);
  }

  @Test
  void proofsAreHexHashes() {
    GetInclusionProofResponse inclusion = GetInclusionProofResponse.newBuilder().setLeafIndex(4).setTreeSize(5)
        .setLeafHash(bytes("0a")).addHashes(bytes("01")).addHashes(bytes("02")).setBlockHeight(3)
        .setRoot(bytes("ab")).build();
    assertThat(Json.text(LedgerJson.inclusion(inclusion))).isEqualTo("{\"leaf_index\":4,\"tree_size\":5,"
        + "\"leaf_hash\":\"" + "0a".repeat(32) + "\",\"hashes\":[\"" + "01".repeat(32) + "\",\"" + "02".repeat(32)
        + "\"],\"block_height\":3,\"root\":\"" + "ab".repeat(32) + "\"}");

    GetConsistencyProofRequest asked = GetConsistencyProofRequest.newBuilder().setFirstSize(2).setSecondSize(5).build();
    GetConsistencyProofResponse consistency = GetConsistencyProofResponse.newBuilder().addHashes(bytes("03")).build();
    assertThat(Json.text(LedgerJson.consistency(asked, consistency)))
        .isEqualTo("{\"first\":2,\"second\":5,\"hashes\":[\"" + "03".repeat(32) + "\"]}");
  }

  @Test
  void leavesNameTheirReceiptWhenItIsStillThere() {
    ListLeavesResponse r = ListLeavesResponse.newBuilder()
        .addLeaves(Leaf.newBuilder().setIndex(0).setLeafHash(bytes("0a")).setEntryHash(bytes("0a"))
            .setReceiptId("0f1e2d3c4b5a69788796a5b4c3d2e1f0"))
        .addLeaves(Leaf.newBuilder().setIndex(1).setLeafHash(bytes("0b")))
        .build();

    assertThat(Json.text(LedgerJson.leaves(r))).isEqualTo("{\"items\":["
        + "{\"index\":0,\"leaf_hash\":\"" + "0a".repeat(32) + "\",\"entry_hash\":\"" + "0a".repeat(32)
        + "\",\"receipt_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\"},"
        + "{\"index\":1,\"leaf_hash\":\"" + "0b".repeat(32) + "\",\"entry_hash\":null,\"receipt_id\":null}]}");
  }

  @Test
  void syncStatusSaysHowFarSealingLags() {
    GetSyncStatusResponse behind = GetSyncStatusResponse.newBuilder().setHeight(3).setHeadHash(bytes("cd"))
        .setTreeSize(5).setLastSealTime(ISSUED).setUnsealed(2)
        .setLag(Duration.newBuilder().setSeconds(1).setNanos(500_000_000)).setKeyId("6kps").build();
    assertThat(Json.text(LedgerJson.syncStatus(behind))).isEqualTo("{\"height\":3,\"hash\":\"0x" + "cd".repeat(32)
        + "\",\"tree_size\":5,\"last_sealed_at\":\"" + ISSUED_TEXT + "\",\"unsealed\":2,\"lag_ms\":1500,"
        + "\"key_id\":\"6kps\",\"synced\":false}");

    // Before the first block, and a coordinator that signs nothing.
    assertThat(Json.text(LedgerJson.syncStatus(GetSyncStatusResponse.getDefaultInstance()))).isEqualTo(
        "{\"height\":0,\"hash\":null,\"tree_size\":0,\"last_sealed_at\":null,\"unsealed\":0,\"lag_ms\":0,"
            + "\"key_id\":null,\"synced\":true}");
  }

  private static Receipt.Builder receipt() {
    return Receipt.newBuilder()
        .setReceiptId("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
        .setJobId("5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b")
        .setProvider("w-1")
        .setClient("client-a")
        .setStatus("COMPLETED")
        .setIssueTime(ISSUED)
        .setReceiptJson(RECEIPT_JSON)
        .setLeafHash(bytes("0a"));
  }

  private static Block.Builder block() {
    return Block.newBuilder().setHeight(3).setHash(bytes("cd")).setPrevHash(bytes("00")).setTreeSize(5)
        .setRoot(bytes("ab")).setCount(2).setSealTime(ISSUED).setKeyId("6kps").setHeaderJson(HEADER_JSON);
  }

  /** 32 bytes, each this byte. */
  private static ByteString bytes(String hexByte) {
    return ByteString.copyFrom(HexFormat.of().parseHex(hexByte.repeat(32)));
  }
}
