package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.BLOCK;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.ReceiptRecord;
import net.aitbc.grid.ledger.B64;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ops.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real grid's ledger altered in PostgreSQL, one thing at a time: a byte of a stored receipt, of a
 * block header, of a header's signature, a dropped leaf, a byte of a worker's signature inside a
 * receipt. {@code grid verify} names each, and passes again once it is put back.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class LedgerTamperIT {
  private static final int JOBS = 22;

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void everyAlterationIsNamedByGridVerify() throws Exception {
    LedgerGrid ledger = new LedgerGrid(grid.withFreshDatabase(), 4, "100ms");
    grid.startCoordinator();
    grid.startWorker("A", 4, Duration.ofSeconds(5));
    ledger.startBridge();
    Set<String> jobs = LoadGenerator.submitAll(grid.channel(), grid.clientKey(), JOBS, () -> 0);
    await("every job completed").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> grid.count(JobState.COMPLETED) == JOBS);
    ledger.awaitSealed(Duration.ofSeconds(30));
    assertPasses(ledger.verifyLedger(), JOBS + " leaves");

    // One byte of a stored receipt: its leaf no longer matches the hash sealed for it.
    UUID receiptAt9 = grid.query(db -> db.select(RECEIPT.RECEIPT_ID).from(RECEIPT).where(RECEIPT.LEAF_IDX.eq(9L))
        .fetchSingle().value1());
    String body = grid.query(db -> db.select(RECEIPT.BODY).from(RECEIPT).where(RECEIPT.RECEIPT_ID.eq(receiptAt9))
        .fetchSingle().value1());
    assertThat(body).contains("\"status\":\"COMPLETED\"");
    setBody(receiptAt9, body.replace("\"status\":\"COMPLETED\"", "\"status\":\"COMPLETEd\""));
    assertFails(ledger.verifyLedger(), "leaf 9 (receipt " + LedgerGrid.hex(receiptAt9)
        + "): the stored receipt does not match the hash sealed in block " + sealingBlock(9));
    setBody(receiptAt9, body);
    assertPasses(ledger.verifyLedger(), JOBS + " leaves");

    // One byte of a block header (a digit of its timestamp): its signature, and the next block's link.
    String header = header(2);
    ObjectNode parsed = (ObjectNode) CanonicalJson.parse(header);
    String timestamp = "\"timestamp\":" + parsed.get("timestamp").asLong();
    long last = parsed.get("timestamp").asLong() % 10;
    setHeader(2, header.replace(timestamp, timestamp.substring(0, timestamp.length() - 1) + (last == 9 ? 8 : last + 1)));
    assertFails(ledger.verifyLedger(), "block 2: signature.sig: the signature does not verify",
        "block 3: prev_hash: is not the hash of the previous header");
    setHeader(2, header);

    // One byte of a header's signature.
    ObjectNode resigned = parsed.deepCopy();
    ObjectNode signature = (ObjectNode) resigned.get("signature");
    byte[] sig = B64.decode(signature.get("sig").asText());
    sig[7] ^= 0x01;
    signature.put("sig", B64.encode(sig));
    setHeader(2, CanonicalJson.write(resigned));
    assertFails(ledger.verifyLedger(), "block 2: signature.sig: the signature does not verify");
    setHeader(2, header);
    assertPasses(ledger.verifyLedger(), JOBS + " leaves");

    // A dropped leaf (its receipt row).
    ReceiptRecord leaf5 = grid.query(db -> db.selectFrom(RECEIPT).where(RECEIPT.LEAF_IDX.eq(5L)).fetchSingle());
    grid.query(db -> db.deleteFrom(RECEIPT).where(RECEIPT.LEAF_IDX.eq(5L)).execute());
    assertFails(ledger.verifyLedger(), "leaf 5: missing (sealed in block " + sealingBlock(5) + ")",
        "root not recomputed: leaf 5 cannot be read");
    leaf5.changed(true);
    grid.query(db -> db.insertInto(RECEIPT).set(leaf5).execute());
    assertPasses(ledger.verifyLedger(), JOBS + " leaves");

    // A leaf's hash altered with its body, as someone would who knows the format: the roots say so.
    String body10 = grid.query(db -> db.select(RECEIPT.BODY).from(RECEIPT).where(RECEIPT.LEAF_IDX.eq(10L))
        .fetchSingle().value1());
    byte[] hash10 = grid.query(db -> db.select(RECEIPT.LEAF_HASH).from(RECEIPT).where(RECEIPT.LEAF_IDX.eq(10L))
        .fetchSingle().value1());
    String forged = body10.replace("\"status\":\"COMPLETED\"", "\"status\":\"COMPLETEd\"");
    grid.query(db -> db.update(RECEIPT).set(RECEIPT.BODY, forged)
        .set(RECEIPT.LEAF_HASH, Merkle.leafHash(forged.getBytes(StandardCharsets.UTF_8)))
        .where(RECEIPT.LEAF_IDX.eq(10L)).execute());
    assertFails(ledger.verifyLedger(), "block " + sealingBlock(10) + ": root: the root of leaves 0..");
    grid.query(db -> db.update(RECEIPT).set(RECEIPT.BODY, body10).set(RECEIPT.LEAF_HASH, hash10)
        .where(RECEIPT.LEAF_IDX.eq(10L)).execute());
    assertPasses(ledger.verifyLedger(), JOBS + " leaves");

    // One byte of the worker's signature inside a stored receipt: `grid verify receipt` names it.
    String jobId = jobs.iterator().next();
    Path file = Files.writeString(grid.logDir().resolve("receipt.json"), ledger.get("/v1/jobs/" + jobId + "/receipt").body());
    JsonNode receipt = CanonicalJson.parse(Files.readString(file));
    assertThat(receipt.path("metadata").path("worker").path("sig").isTextual())
        .as("the receipt carries its worker's signature: %s", receipt).isTrue();
    assertPasses(ledger.verifyReceipt(file), "of job " + jobId);
    UUID receiptId = JobIds.parse(receipt.get("receipt_id").asText()).orElseThrow();
    String stored = grid.query(db -> db.select(RECEIPT.BODY).from(RECEIPT).where(RECEIPT.RECEIPT_ID.eq(receiptId))
        .fetchSingle().value1());
    ObjectNode altered = (ObjectNode) CanonicalJson.parse(stored);
    ObjectNode worker = (ObjectNode) altered.get("metadata").get("worker");
    byte[] workerSig = B64.decode(worker.get("sig").asText());
    workerSig[0] ^= 0x01;
    worker.put("sig", B64.encode(workerSig));
    setBody(receiptId, CanonicalJson.write(altered));
    Files.writeString(file, ledger.get("/v1/jobs/" + jobId + "/receipt").body());
    assertFails(ledger.verifyReceipt(file), "receipt " + LedgerGrid.hex(receiptId)
        + ": metadata.worker.sig: the worker's signature does not verify");
    assertFails(ledger.verifyLedger(), "(receipt " + LedgerGrid.hex(receiptId)
        + "): the stored receipt does not match the hash sealed in block");
    setBody(receiptId, stored);
    assertPasses(ledger.verifyLedger(), JOBS + " leaves");
  }

  private void setBody(UUID receiptId, String body) {
    grid.query(db -> db.update(RECEIPT).set(RECEIPT.BODY, body).where(RECEIPT.RECEIPT_ID.eq(receiptId)).execute());
  }

  private String header(long height) {
    return grid.query(db -> db.select(BLOCK.HEADER).from(BLOCK).where(BLOCK.HEIGHT.eq(height)).fetchSingle().value1());
  }

  private void setHeader(long height, String header) {
    grid.query(db -> db.update(BLOCK).set(BLOCK.HEADER, header).where(BLOCK.HEIGHT.eq(height)).execute());
  }

  /** The height of the block that sealed leaf {@code index}. */
  private long sealingBlock(long index) {
    return grid.query(db -> db.select(BLOCK.HEIGHT).from(BLOCK).where(BLOCK.TREE_SIZE.gt(index))
        .orderBy(BLOCK.HEIGHT).limit(1).fetchSingle().value1());
  }

  private static void assertPasses(CliRun run, String summary) {
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("OK ", summary);
  }

  private static void assertFails(CliRun run, String... named) {
    assertThat(run.status()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out()).contains(named).contains("FAILED");
  }
}
