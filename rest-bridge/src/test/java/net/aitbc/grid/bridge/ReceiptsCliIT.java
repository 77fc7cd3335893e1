package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.HEX_HASH;
import static net.aitbc.grid.bridge.LedgerSteps.PREFIXED_HASH;
import static net.aitbc.grid.bridge.LedgerSteps.document;
import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.Signatures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The aitbc CLI's receipt and explorer requests, sent as contract §3.1, §5 and §11 give them, to a
 * bridge in front of a coordinator that signs receipts and seals blocks: the status the CLI needs
 * and every field it prints; then our own receipt routes, verification, and what bad queries get.
 */
class ReceiptsCliIT {
  private static final String MODEL = "receipts-cli";
  private static final String RECEIPT_ID = "[0-9a-f]{32}";

  private static Grid grid;
  private static String jobId;
  /** The job's receipt as {@code client result} prints it. */
  private static JsonNode receipt;

  @BeforeAll
  static void runOneJobToItsBlock() {
    grid = Grid.startWithLedger(LedgerSteps.SEAL_EVERY);
    jobId = LedgerSteps.runJob(grid, grid.clientKey, MODEL);
    LedgerSteps.awaitSealed(grid, grid.clientKey, jobId);
    receipt = ok(grid, "/v1/jobs/" + jobId + "/result", grid.clientKey).get("receipt");
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  @Test
  void clientResultCarriesTheSignedReceipt() {
    // client result <JOB_ID>
    Reply r = grid.get("/v1/jobs/" + jobId + "/result", grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode body = r.json();
    assertThat(body.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(body.get("result").get("output").asText()).isEqualTo("hello");
    JsonNode rc = body.get("receipt");
    assertThat(rc.isObject()).as(r.body()).isTrue();
    assertThat(rc.get("version").asText()).isEqualTo("1.0");
    assertThat(rc.get("receipt_id").asText()).matches(RECEIPT_ID);
    assertThat(rc.get("job_id").asText()).isEqualTo(jobId);
    assertThat(rc.get("provider").asText()).isEqualTo("w-" + MODEL);
    assertThat(rc.get("client").asText()).isEqualTo("client-a");
    assertThat(rc.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(rc.get("metadata").get("result").get("output").asText()).isEqualTo("hello");
    assertThat(rc.get("signature").get("alg").asText()).isEqualTo("Ed25519");
    assertThat(rc.get("signature").get("key_id").asText()).isEqualTo(grid.coordinatorKey.keyId());
    assertThat(Signatures.check(document(rc), grid.coordinatorKey)).isEmpty();
    assertThat(Receipts.check(document(rc), grid.coordinatorKey)).isEmpty();
    assertThat(r.body()).doesNotContain(grid.clientKey);
  }

  @Test
  void jobReceiptRoutesServeTheSameReceipt() {
    assertThat(ok(grid, "/v1/jobs/" + jobId + "/receipt", grid.clientKey)).isEqualTo(receipt);

    JsonNode all = ok(grid, "/v1/jobs/" + jobId + "/receipts", grid.clientKey);
    assertThat(all.properties()).extracting(Map.Entry::getKey).containsExactly("items");
    assertThat(all.get("items")).containsExactly(receipt);
  }

  @Test
  void clientReceiptsListsTheJobsReceipt() {
    // client receipts --limit 5 --job-id <JOB_ID>
    Reply r = grid.get("/v1/explorer/receipts?limit=5&job_id=" + jobId, grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode page = r.json();
    assertThat(page.get("jobId").asText()).isEqualTo(jobId);
    assertThat(page.get("next_offset").isNull()).isTrue();
    assertThat(page.get("items").size()).isEqualTo(1);
    JsonNode item = page.get("items").get(0);
    assertThat(item.get("receiptId").asText()).isEqualTo(receipt.get("receipt_id").asText());
    assertThat(item.get("jobId").asText()).isEqualTo(jobId);
    assertThat(item.get("miner").asText()).isEqualTo("w-" + MODEL);
    assertThat(item.get("coordinator").asText()).isEqualTo("client-a");
    assertThat(item.get("issuedAt").asText()).matches(Grid.NAIVE_TIME);
    assertThat(item.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(item.get("payload")).isEqualTo(receipt);
    assertThat(item.get("leafHash").asText()).matches(HEX_HASH)
        .isEqualTo(Hex.encode(Receipts.leafHash(document(receipt))));
    assertThat(item.get("leafIndex").asLong()).isNotNegative();
    assertThat(item.get("blockHeight").asLong()).isPositive();

    // client receipts (its default --limit 10, no job): every receipt of the caller's, newest first.
    JsonNode all = ok(grid, "/v1/explorer/receipts?limit=10", grid.clientKey);
    assertThat(all.get("jobId").asText()).isEqualTo("all");
    assertThat(all.get("items").size()).isBetween(1, 10);
    assertThat(all.get("items")).extracting(i -> i.get("receiptId").asText())
        .contains(receipt.get("receipt_id").asText());
    // client receipts --status failed: status is ignored, as the CLI's server does.
    assertThat(ok(grid, "/v1/explorer/receipts?limit=5&job_id=" + jobId + "&status=failed", grid.clientKey))
        .isEqualTo(page);
  }

  @Test
  void clientBlocksListsBlocksNewestFirst() {
    // client blocks --limit 3 (5 March), then with the 7 March CLI's --chain-id
    Reply r = grid.get("/api/v1/blocks?limit=3", grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode page = r.json();
    JsonNode items = page.get("items");
    assertThat(items.size()).isBetween(1, 3);
    assertThat(page.has("next_offset")).isTrue();
    long previous = Long.MAX_VALUE;
    for (JsonNode b : items) {
      assertThat(b.properties()).extracting(Map.Entry::getKey).containsExactly("height", "hash", "timestamp",
          "txCount", "proposer", "treeSize", "root", "prevHash");
      assertThat(b.get("height").asLong()).isPositive().isLessThan(previous);
      previous = b.get("height").asLong();
      assertThat(b.get("hash").asText()).matches(PREFIXED_HASH);
      assertThat(b.get("timestamp").asText()).matches(Grid.NAIVE_TIME);
      assertThat(b.get("txCount").asInt()).isPositive();
      assertThat(b.get("proposer").asText()).isEqualTo(grid.coordinatorKey.keyId());
      assertThat(b.get("treeSize").asLong()).isPositive();
      assertThat(b.get("root").asText()).matches(PREFIXED_HASH);
      assertThat(b.get("prevHash").asText()).matches(PREFIXED_HASH);
    }
    assertThat(items.get(0).get("height").asLong())
        .isEqualTo(ok(grid, "/v1/sync-status", grid.clientKey).get("height").asLong());
    assertThat(ok(grid, "/api/v1/blocks?limit=3&chain_id=ait-devnet", grid.clientKey)).isEqualTo(page);
    assertThat(ok(grid, "/v1/explorer/blocks?limit=3", grid.clientKey)).isEqualTo(page);
  }

  @Test
  void blockchainTransactionFindsTheReceiptByItsLeafHash() {
    JsonNode item = ok(grid, "/v1/explorer/receipts?limit=5&job_id=" + jobId, grid.clientKey).get("items").get(0);
    String hash = item.get("leafHash").asText();

    // blockchain transaction <HASH>
    Reply r = grid.get("/explorer/transactions/0x" + hash, grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode tx = r.json();
    assertThat(tx.properties()).extracting(Map.Entry::getKey).containsExactly("hash", "receiptId", "jobId", "status",
        "issuedAt", "leafIndex", "blockHeight", "receipt");
    assertThat(tx.get("hash").asText()).isEqualTo("0x" + hash);
    assertThat(tx.get("receiptId").asText()).isEqualTo(item.get("receiptId").asText());
    assertThat(tx.get("jobId").asText()).isEqualTo(jobId);
    assertThat(tx.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(tx.get("issuedAt").asText()).isEqualTo(item.get("issuedAt").asText());
    assertThat(tx.get("leafIndex")).isEqualTo(item.get("leafIndex"));
    assertThat(tx.get("blockHeight")).isEqualTo(item.get("blockHeight"));
    assertThat(tx.get("receipt")).isEqualTo(receipt);
    // Without 0x, with the 7 March CLI's chain_id, and under /v1: the same.
    for (String path : List.of("/explorer/transactions/" + hash, "/explorer/transactions/0x" + hash
        + "?chain_id=ait-devnet", "/v1/explorer/transactions/0x" + hash)) {
      assertThat(ok(grid, path, grid.clientKey)).as(path).isEqualTo(tx);
    }

    assertThat(grid.get("/explorer/transactions/0x" + "00".repeat(32), grid.clientKey).assertError(404))
        .isEqualTo("transaction not found");
    assertThat(grid.get("/explorer/transactions/" + jobId, grid.clientKey).assertError(422)).startsWith("hash must be");
    assertThat(grid.get("/explorer/transactions/0xnothex", grid.clientKey).assertError(422)).startsWith("hash must be");
  }

  @Test
  void blockchainSyncStatusReportsTheHead() {
    // blockchain sync-status (5 March), then with the 7 March CLI's chain_id
    Reply r = grid.get("/v1/sync-status", grid.clientKey);

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode s = r.json();
    assertThat(s.properties()).extracting(Map.Entry::getKey).containsExactly("height", "hash", "tree_size",
        "last_sealed_at", "unsealed", "lag_ms", "key_id", "synced");
    assertThat(s.get("height").asLong()).isPositive();
    assertThat(s.get("hash").asText()).matches(PREFIXED_HASH);
    assertThat(s.get("tree_size").asLong()).isPositive();
    assertThat(s.get("last_sealed_at").asText()).matches(Grid.NAIVE_TIME);
    assertThat(s.get("unsealed").asLong()).isZero();
    assertThat(s.get("lag_ms").asLong()).isZero();
    assertThat(s.get("key_id").asText()).isEqualTo(grid.coordinatorKey.keyId());
    assertThat(s.get("synced").asBoolean()).isTrue();
    assertThat(ok(grid, "/v1/sync-status?chain_id=ait-devnet", grid.clientKey)).isEqualTo(s);
  }

  @Test
  void verifyChecksAReceiptBareOrAsResultPrintsIt() throws Exception {
    JsonNode item = ok(grid, "/v1/explorer/receipts?limit=5&job_id=" + jobId, grid.clientKey).get("items").get(0);

    for (String body : List.of(receipt.toString(), grid.get("/v1/jobs/" + jobId + "/result", grid.clientKey).body())) {
      Reply r = grid.post("/v1/receipts/verify", grid.clientKey, body);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.json().get("valid").asBoolean()).as(r.body()).isTrue();
      assertThat(r.json().get("problems")).isEmpty();
      assertThat(r.json().get("leaf_index")).isEqualTo(item.get("leafIndex"));
      assertThat(r.json().get("block_height")).isEqualTo(item.get("blockHeight"));
    }

    // Altered after signing: still 200, with what is wrong.
    ObjectNode altered = receipt.deepCopy();
    altered.put("price", 99.0);
    Reply bad = grid.post("/v1/receipts/verify", grid.clientKey, altered.toString());
    assertThat(bad.status()).as(bad.body()).isEqualTo(200);
    assertThat(bad.json().get("valid").asBoolean()).isFalse();
    assertThat(bad.json().get("problems").size()).isPositive();

    assertThat(grid.post("/v1/receipts/verify", grid.clientKey, "{\"receipt\": null}").assertError(422))
        .contains("receipt is null");
    assertThat(grid.post("/v1/receipts/verify", grid.clientKey, "{\"receipt\": ").assertError(400))
        .startsWith("the request body is not valid JSON");
  }

  @Test
  void badQueryValuesAre422NamingTheValue() {
    Map<String, String> cases = Map.ofEntries(
        Map.entry("/v1/explorer/receipts?limit=0", "limit must be between 1 and 200, not 0"),
        Map.entry("/v1/explorer/receipts?limit=201", "limit must be between 1 and 200, not 201"),
        Map.entry("/v1/explorer/receipts?limit=ten", "limit must be a whole number between 1 and 200, not 'ten'"),
        Map.entry("/v1/explorer/receipts?offset=-1", "offset must be of at least 0, not -1"),
        Map.entry("/api/v1/blocks?limit=0", "limit must be between 1 and 200, not 0"),
        Map.entry("/v1/explorer/blocks?limit=500", "limit must be between 1 and 200, not 500"),
        Map.entry("/v1/ledger/blocks?limit=1001", "limit must be between 1 and 1000, not 1001"),
        Map.entry("/v1/ledger/leaves?limit=10001", "limit must be between 1 and 10000, not 10001"),
        Map.entry("/v1/ledger/proofs/inclusion", "give exactly one of receipt_id and leaf_hash"),
        Map.entry("/v1/ledger/proofs/inclusion?leaf_hash=abc", "leaf_hash must be a SHA-256 hash: 64 hex characters,"
            + " optionally after 0x, not 'abc'"),
        Map.entry("/v1/ledger/proofs/consistency?first=1", "first and second are required: the two tree sizes, e.g."
            + " ?first=10&second=20"));
    cases.forEach((path, detail) -> assertThat(grid.get(path, grid.clientKey).assertError(422)).as(path)
        .isEqualTo(detail));
  }

  @Test
  void whatIsNotThereIs404() {
    String unknown = "0".repeat(31) + "1";
    assertThat(grid.get("/v1/jobs/" + unknown + "/receipt", grid.clientKey).assertError(404))
        .isEqualTo("receipt not available");
    assertThat(grid.get("/v1/jobs/not-a-job/receipt", grid.clientKey).assertError(404))
        .isEqualTo("receipt not available");
    assertThat(grid.get("/v1/ledger/blocks/999999", grid.clientKey).assertError(404)).isEqualTo("block not found");
    assertThat(grid.get("/v1/ledger/blocks/first", grid.clientKey).assertError(404)).isEqualTo("block not found");

    // A job that has not completed has no receipt yet.
    String queued = grid.submit(grid.clientKey, "receipts-nobody-runs");
    assertThat(grid.get("/v1/jobs/" + queued + "/receipt", grid.clientKey).assertError(404))
        .isEqualTo("receipt not available");
    assertThat(ok(grid, "/v1/jobs/" + queued + "/receipts", grid.clientKey).get("items")).isEmpty();
    assertThat(grid.get("/v1/jobs/" + queued + "/result", grid.clientKey).status()).isEqualTo(425);
    assertThat(ok(grid, "/v1/explorer/receipts?job_id=" + queued, grid.clientKey).get("items")).isEmpty();
  }
}
