package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.v1.VerificationLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * In front of a coordinator without a signing key, which issues no receipts and seals nothing: the
 * CLI's calls still answer 200, with a null receipt and empty lists; the receipt routes say 404.
 */
class NoReceiptsIT {
  private static Grid grid;
  private static String jobId;

  @BeforeAll
  static void runOneJob() {
    grid = Grid.startWithoutReceipts();
    jobId = LedgerSteps.runJob(grid, grid.clientKey, "no-receipts");
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  @Test
  void aCompletedJobHasNoReceipt() {
    JsonNode result = ok(grid, "/v1/jobs/" + jobId + "/result", grid.clientKey);
    assertThat(result.get("state").asText()).isEqualTo("COMPLETED");
    assertThat(result.get("result").get("output").asText()).isEqualTo("hello");
    assertThat(result.has("receipt")).isTrue();
    assertThat(result.get("receipt").isNull()).isTrue();

    assertThat(grid.get("/v1/jobs/" + jobId + "/receipt", grid.clientKey).assertError(404))
        .isEqualTo("receipt not available");
    assertThat(ok(grid, "/v1/jobs/" + jobId + "/receipts", grid.clientKey).get("items")).isEmpty();
  }

  @Test
  void anEndedExecutionHasNoReceiptAndTheAgentRouteSaysWhy() {
    // No steps: it completes at once.
    String id = AgentWorkflows.execute(grid, grid.clientKey, "{}", VerificationLevel.VERIFICATION_LEVEL_BASIC);
    assertThat(AgentWorkflows.ended(grid, grid.clientKey, id).getReceiptId()).isEmpty();
    assertThat(grid.get("/api/v1/agents/executions/" + id + "/receipt", grid.clientKey).assertError(404))
        .isEqualTo("execution " + id + " has no receipt: this coordinator issues no receipts (it has no signing key)");
  }

  @Test
  void theCliCallsAnswerEmpty() {
    // client receipts --limit 5 --job-id <JOB_ID>; client blocks --limit 3; blockchain sync-status
    JsonNode receipts = ok(grid, "/v1/explorer/receipts?limit=5&job_id=" + jobId, grid.clientKey);
    assertThat(receipts.get("jobId").asText()).isEqualTo(jobId);
    assertThat(receipts.get("items")).isEmpty();
    assertThat(receipts.get("next_offset").isNull()).isTrue();

    JsonNode blocks = ok(grid, "/api/v1/blocks?limit=3", grid.clientKey);
    assertThat(blocks.get("items")).isEmpty();
    assertThat(blocks.get("next_offset").isNull()).isTrue();
    assertThat(ok(grid, "/v1/ledger/blocks", grid.clientKey).get("items")).isEmpty();
    assertThat(ok(grid, "/v1/ledger/leaves", grid.clientKey).get("items")).isEmpty();

    JsonNode sync = ok(grid, "/v1/sync-status", grid.clientKey);
    assertThat(sync.get("height").asLong()).isZero();
    assertThat(sync.get("tree_size").asLong()).isZero();
    assertThat(sync.get("last_sealed_at").isNull()).isTrue();
    assertThat(sync.get("unsealed").asLong()).isZero();
    assertThat(sync.get("key_id").isNull()).isTrue();
    assertThat(sync.get("synced").asBoolean()).isTrue();

    // blockchain transaction <HASH>: nothing has one.
    Reply tx = grid.get("/explorer/transactions/0x" + "ab".repeat(32), grid.clientKey);
    assertThat(tx.assertError(404)).isEqualTo("transaction not found");
    assertThat(grid.get("/v1/ledger/blocks/1", grid.clientKey).assertError(404)).isEqualTo("block not found");
  }
}
