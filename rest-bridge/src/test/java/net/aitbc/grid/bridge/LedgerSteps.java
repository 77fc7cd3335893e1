package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.v1.Assignment;

/** What the receipt and ledger ITs do over and over: run a job to its receipt, wait for its block, read documents. */
final class LedgerSteps {
  /** A SHA-256 as the ledger routes write it. */
  static final String HEX_HASH = "[0-9a-f]{64}";
  /** A SHA-256 as the explorer routes write it. */
  static final String PREFIXED_HASH = "0x" + HEX_HASH;
  /** Blocks are sealed this soon after a receipt waits. */
  static final Duration SEAL_EVERY = Duration.ofMillis(200);

  private LedgerSteps() {}

  /**
   * Submits a job with {@code key}, has a worker of its own ({@code w-<model>}) complete it with
   * {@code {"output":"hello"}}, and returns the job id once {@code /result} answers 200.
   */
  static String runJob(Grid grid, String key, String model) {
    String id = grid.submit(key, model);
    try (TestWorker w = grid.worker("w-" + model, model)) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(id);
      w.complete(id, a.getAttempt(), "{\"output\":\"hello\"}");
      await().atMost(Duration.ofSeconds(10))
          .until(() -> grid.get("/v1/jobs/" + id + "/result", key).status() == 200);
    }
    return id;
  }

  /** Waits until the job's receipt is sealed into a block; returns its explorer item. */
  static JsonNode awaitSealed(Grid grid, String key, String jobId) {
    AtomicReference<JsonNode> item = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      Reply r = grid.get("/v1/explorer/receipts?limit=5&job_id=" + jobId, key);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      JsonNode items = r.json().get("items");
      assertThat(items.size()).as(r.body()).isEqualTo(1);
      assertThat(items.get(0).get("blockHeight").isNull()).as(r.body()).isFalse();
      item.set(items.get(0));
    });
    return item.get();
  }

  /** Waits until nothing waits for a block. */
  static JsonNode awaitSynced(Grid grid) {
    AtomicReference<JsonNode> status = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      Reply r = grid.get("/v1/sync-status", grid.clientKey);
      assertThat(r.status()).as(r.body()).isEqualTo(200);
      assertThat(r.json().get("synced").asBoolean()).as(r.body()).isTrue();
      assertThat(r.json().get("height").asLong()).as(r.body()).isPositive();
      status.set(r.json());
    });
    return status.get();
  }

  /** A GET that must answer 200; its JSON. */
  static JsonNode ok(Grid grid, String path, String key) {
    Reply r = grid.get(path, key);
    assertThat(r.status()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    return r.json();
  }

  /** A signed document (receipt, block header) from a REST body, as the ledger module reads documents. */
  static ObjectNode document(JsonNode node) {
    assertThat(node.isObject()).as(String.valueOf(node)).isTrue();
    return (ObjectNode) CanonicalJson.parse(node.toString());
  }

  /** The hashes of a proof. */
  static List<byte[]> hashes(JsonNode proof) {
    List<byte[]> hashes = new ArrayList<>();
    proof.get("hashes").forEach(h -> hashes.add(Hex.decode(h.asText())));
    return hashes;
  }

  /** Every block of {@code /v1/ledger/blocks} (which lists them newest first), oldest first. */
  static List<JsonNode> chain(Grid grid, String key) {
    JsonNode page = ok(grid, "/v1/ledger/blocks?limit=1000", key);
    assertThat(page.get("next_offset").isNull()).isTrue();
    List<JsonNode> blocks = new ArrayList<>();
    page.get("items").forEach(b -> blocks.addFirst(b));
    return blocks;
  }
}
