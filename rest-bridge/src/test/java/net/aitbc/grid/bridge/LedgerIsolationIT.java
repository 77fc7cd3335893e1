package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.util.List;
import java.util.Locale;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.auth.Role;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Receipts hold a client's payloads and results: over REST another client finds none of them (404,
 * or absent from its lists), while blocks, proofs, leaves and the sync status, which reveal no
 * content, answer any valid key alike. No receipt or ledger route answers without a key.
 */
class LedgerIsolationIT {
  private static Grid grid;
  private static String adminKey;
  /** Client A's job, its receipt, and that receipt's explorer item. */
  private static String jobA;
  private static JsonNode receiptA;
  private static JsonNode itemA;
  private static String jobB;

  @BeforeAll
  static void eachClientRunsAJob() {
    grid = Grid.startWithLedger(LedgerSteps.SEAL_EVERY);
    adminKey = grid.coordinator.createKey(Role.ADMIN, "root");
    jobA = LedgerSteps.runJob(grid, grid.clientKey, "ledger-iso-a");
    jobB = LedgerSteps.runJob(grid, grid.otherClientKey, "ledger-iso-b");
    itemA = LedgerSteps.awaitSealed(grid, grid.clientKey, jobA);
    LedgerSteps.awaitSealed(grid, grid.otherClientKey, jobB);
    LedgerSteps.awaitSynced(grid);
    receiptA = ok(grid, "/v1/jobs/" + jobA + "/receipt", grid.clientKey);
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  @Test
  void anotherClientsReceiptIsNotFound() {
    String b = grid.otherClientKey;
    String leafHash = itemA.get("leafHash").asText();
    for (String id : List.of(jobA, jobA.toUpperCase(Locale.ROOT))) {
      assertThat(grid.get("/v1/jobs/" + id + "/receipt", b).assertError(404)).isEqualTo("receipt not available");
      assertThat(grid.get("/v1/jobs/" + id + "/result", b).assertError(404)).isEqualTo("job not found");
      // One ListReceipts call filtered by job: another client's job has none of B's.
      assertThat(ok(grid, "/v1/jobs/" + id + "/receipts", b).get("items")).isEmpty();
    }
    for (String path : List.of("/explorer/transactions/0x" + leafHash, "/explorer/transactions/" + leafHash,
        "/v1/explorer/transactions/0x" + leafHash)) {
      assertThat(grid.get(path, b).assertError(404)).as(path).isEqualTo("transaction not found");
    }

    // B's explorer list has B's receipt and none of A's.
    Reply all = grid.get("/v1/explorer/receipts?limit=200", b);
    assertThat(all.status()).isEqualTo(200);
    assertThat(all.json().get("items")).extracting(i -> i.get("jobId").asText()).containsExactly(jobB);
    assertThat(all.body()).doesNotContain(jobA).doesNotContain(receiptA.get("receipt_id").asText())
        .doesNotContain("client-a");
    JsonNode filtered = ok(grid, "/v1/explorer/receipts?limit=5&job_id=" + jobA, b);
    assertThat(filtered.get("jobId").asText()).isEqualTo(jobA);
    assertThat(filtered.get("items")).isEmpty();

    // A still sees its own.
    assertThat(ok(grid, "/explorer/transactions/0x" + leafHash, grid.clientKey).get("receipt")).isEqualTo(receiptA);
    assertThat(ok(grid, "/v1/explorer/receipts?limit=200", grid.clientKey).get("items"))
        .extracting(i -> i.get("jobId").asText()).containsExactly(jobA);
  }

  @Test
  void anyKeyReadsBlocksLeavesConsistencyProofsAndTheSyncStatus() {
    long treeSize = ok(grid, "/v1/sync-status", grid.clientKey).get("tree_size").asLong();
    assertAllKeysRead(List.of("/api/v1/blocks?limit=20", "/v1/explorer/blocks", "/v1/ledger/blocks",
        "/v1/ledger/blocks/1", "/v1/ledger/leaves?start=0", "/v1/sync-status",
        "/v1/ledger/proofs/consistency?first=1&second=" + treeSize));
  }

  @Test
  void anyKeyReadsTheInclusionProofOfAnotherClientsReceipt() {
    // Proofs reveal no content, and the leaves already show every receipt's leaf hash and id to any key.
    String receiptId = receiptA.get("receipt_id").asText();
    assertThat(ok(grid, "/v1/ledger/leaves?start=0", grid.otherClientKey).get("items"))
        .extracting(l -> l.get("receipt_id").asText()).contains(receiptId);
    assertAllKeysRead(List.of("/v1/ledger/proofs/inclusion?leaf_hash=" + itemA.get("leafHash").asText(),
        "/v1/ledger/proofs/inclusion?receipt_id=" + receiptId));
  }

  /** Each path answers client B and an admin just as it answers client A. */
  private static void assertAllKeysRead(List<String> paths) {
    for (String path : paths) {
      JsonNode asA = ok(grid, path, grid.clientKey);
      for (String key : List.of(grid.otherClientKey, adminKey)) {
        assertThat(ok(grid, path, key)).as(path).isEqualTo(asA);
      }
    }
  }

  @Test
  void noReceiptOrLedgerRouteAnswersWithoutAKey() {
    List<HttpRequest.Builder> requests = List.of(
        grid.request("/v1/jobs/" + jobA + "/receipt", null).GET(),
        grid.request("/v1/jobs/" + jobA + "/receipts", null).GET(),
        grid.request("/v1/explorer/receipts?limit=5&job_id=" + jobA, null).GET(),
        grid.request("/explorer/transactions/0x" + itemA.get("leafHash").asText(), null).GET(),
        grid.request("/v1/explorer/transactions/0x" + itemA.get("leafHash").asText(), null).GET(),
        grid.request("/v1/receipts/verify", null).header("Content-Type", "application/json")
            .POST(BodyPublishers.ofString(receiptA.toString())),
        grid.request("/api/v1/blocks?limit=3", null).GET(),
        grid.request("/v1/explorer/blocks", null).GET(),
        grid.request("/v1/ledger/blocks", null).GET(),
        grid.request("/v1/ledger/blocks/1", null).GET(),
        grid.request("/v1/ledger/proofs/inclusion?receipt_id=" + receiptA.get("receipt_id").asText(), null).GET(),
        grid.request("/v1/ledger/proofs/consistency?first=1&second=2", null).GET(),
        grid.request("/v1/ledger/leaves", null).GET(),
        grid.request("/v1/sync-status", null).GET());
    for (HttpRequest.Builder request : requests) {
      String name = request.copy().build().method() + " " + request.copy().build().uri().getPath();
      assertThat(grid.send(request.copy()).assertError(401)).as(name).isEqualTo("missing api key");
      Reply wrong = grid.send(request.copy().header("X-Api-Key", "aitbc_c_" + "A".repeat(43)));
      assertThat(wrong.assertError(401)).as(name).isEqualTo("invalid api key");
    }
  }

  @Test
  void receiptsNameTheClientNeverItsKey() {
    assertThat(receiptA.get("client").asText()).isEqualTo("client-a");
    for (String path : List.of("/v1/jobs/" + jobA + "/receipt", "/v1/jobs/" + jobA + "/result",
        "/v1/explorer/receipts?limit=200", "/explorer/transactions/" + itemA.get("leafHash").asText(),
        "/v1/ledger/leaves", "/v1/ledger/blocks", "/v1/sync-status")) {
      Reply r = grid.get(path, grid.clientKey);
      assertThat(r.status()).as(path).isEqualTo(200);
      for (String key : List.of(grid.clientKey, grid.otherClientKey, grid.workerKey, adminKey)) {
        assertThat(r.body()).as(path).doesNotContain(key);
      }
    }
  }
}
