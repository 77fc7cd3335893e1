package net.aitbc.grid.ops.verify;

import static net.aitbc.grid.ops.CliRun.grid;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.aitbc.grid.ledger.B64;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ops.CliRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code grid verify receipt}: a receipt and its inclusion verify from a file or the bridge; alterations are named. */
class VerifyReceiptTest {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  @TempDir Path tmp;
  private TestLedger ledger;

  @BeforeEach
  void build() throws Exception {
    ledger = new TestLedger(3, 4);
  }

  @AfterEach
  void stop() {
    ledger.close();
  }

  private Path write(String name, JsonNode json) throws Exception {
    return Files.writeString(tmp.resolve(name), CanonicalJson.write(json));
  }

  private Path pub() throws Exception {
    return Files.writeString(tmp.resolve("coordinator.pub"), ledger.coordinator.keyId() + "\n");
  }

  private CliRun verify(Path file, String... more) throws Exception {
    String[] args = new String[5 + more.length];
    System.arraycopy(new String[] {"verify", "receipt", file.toString(), "--public-key", pub().toString()}, 0, args, 0, 5);
    System.arraycopy(more, 0, args, 5, more.length);
    return grid(args);
  }

  @Test
  void aReceiptAndItsProofFileVerify() throws Exception {
    ObjectNode receipt = ledger.receipts.get(4L);
    CliRun run = verify(write("r.json", receipt), "--proof", write("p.json", ledger.proofFile(4)).toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).startsWith("OK receipt " + receipt.get("receipt_id").asText() + " of job "
        + receipt.get("job_id").asText() + " is signed by " + ledger.coordinator.keyId())
        .contains("its worker worker-1 signed it with key " + ledger.workerKey.keyId(), "leaf 4 of block 2 (tree size 7)");
  }

  @Test
  void whatTheClientResultPrintsAndAnExplorerItemAreAcceptedToo() throws Exception {
    ObjectNode receipt = ledger.receipts.get(1L);
    ObjectNode result = NODES.objectNode().put("job_id", receipt.get("job_id").asText()).put("state", "COMPLETED");
    result.set("result", receipt.get("metadata").get("result"));
    result.set("receipt", receipt);
    ObjectNode item = NODES.objectNode().put("receiptId", receipt.get("receipt_id").asText());
    item.set("payload", receipt);
    for (JsonNode doc : new JsonNode[] {result, item}) {
      CliRun run = verify(write("doc.json", doc), "--url", ledger.url(), "--api-key", TestLedger.API_KEY);
      assertThat(run.status()).as(run.out() + run.err()).isZero();
      assertThat(run.out()).contains("leaf 1 of block 2 (tree size 7)");
    }
  }

  @Test
  void aPaymentReceiptAsPaymentReceiptPrintsItVerifiesWithItsInclusion() throws Exception {
    ObjectNode receipt = ledger.paymentReceipt(ledger.receipts.get(6L));
    ledger.seal(List.of(receipt));
    // What `aitbc client payment-receipt` prints: the payment's fields, then its signed receipt.
    ObjectNode printed = NODES.objectNode().put("payment_id", receipt.get("payment_id").asText())
        .put("job_id", receipt.get("job_id").asText()).put("amount", 1.5).put("status", "released");
    printed.set("receipt", receipt);
    CliRun run = verify(write("pr.json", printed), "--url", ledger.url(), "--api-key", TestLedger.API_KEY);
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).startsWith("OK payment receipt " + receipt.get("receipt_id").asText() + " of payment "
        + receipt.get("payment_id").asText() + " (job " + receipt.get("job_id").asText() + ", released) is signed by "
        + ledger.coordinator.keyId() + "; leaf 7 of block 3 (tree size 8)");

    ObjectNode altered = receipt.deepCopy().put("amount", "15.00000000");
    run = verify(write("a.json", altered), "--url", ledger.url(), "--api-key", TestLedger.API_KEY);
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("signature.sig: the signature does not verify",
        "leaf 7: the inclusion proof does not lead from the receipt's leaf hash to block 3's signed root");
  }

  @Test
  void anExecutionReceiptAsAgentReceiptPrintsItVerifiesWithItsInclusion() throws Exception {
    ObjectNode receipt = ledger.executionReceipt(List.of(ledger.receipts.get(0L), ledger.receipts.get(1L)));
    ledger.seal(List.of(receipt));
    // What `aitbc agent receipt <EXEC_ID>` prints: the upstream's fields, then the signed receipt.
    ObjectNode printed = NODES.objectNode().put("execution_id", receipt.get("execution_id").asText())
        .put("status", "completed").put("receipt_id", receipt.get("receipt_id").asText()).putNull("miner_signature")
        .put("verified", true);
    printed.set("receipt", receipt);
    String id = receipt.get("receipt_id").asText();
    CliRun run = verify(write("er.json", printed), "--url", ledger.url(), "--api-key", TestLedger.API_KEY);
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).startsWith("OK execution receipt " + id + " of execution "
        + receipt.get("execution_id").asText() + " (completed, 2 step jobs) is signed by " + ledger.coordinator.keyId()
        + "; it names its step jobs' receipts by leaf hash (verify each with its own file); leaf 7 of block 3 "
        + "(tree size 8)");

    // Another step receipt's hash in place of the first: the signature, and the ledger's leaf, say so.
    ObjectNode altered = receipt.deepCopy();
    ((ObjectNode) altered.get("steps").get(0)).put("leaf_hash", altered.get("steps").get(1).get("leaf_hash").asText());
    run = verify(write("a.json", altered), "--url", ledger.url(), "--api-key", TestLedger.API_KEY);
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("receipt " + id + ": signature.sig: the signature does not verify",
        "leaf 7: the inclusion proof does not lead from the receipt's leaf hash to block 3's signed root");

    // A field of the wrong form is named without any proof.
    ObjectNode badCost = receipt.deepCopy().put("total_cost", "0.1");
    run = verify(write("b.json", badCost));
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("receipt " + id
        + ": total_cost: must be a decimal string with exactly 8 places, got \"0.1\"");
  }

  @Test
  void withoutAProofOnlyTheSignaturesAreChecked() throws Exception {
    CliRun run = verify(write("r.json", ledger.receipts.get(0L)));
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("(inclusion not checked: give --proof or --url)");
  }

  @Test
  void oneByteOfTheWorkerSignatureIsNamed() throws Exception {
    ObjectNode receipt = ledger.receipts.get(2L).deepCopy();
    ObjectNode worker = (ObjectNode) receipt.get("metadata").get("worker");
    byte[] sig = B64.decode(worker.get("sig").asText());
    sig[0] ^= 1;
    worker.put("sig", B64.encode(sig));
    CliRun run = verify(write("r.json", receipt));
    assertThat(run.status()).isEqualTo(1);
    String id = receipt.get("receipt_id").asText();
    assertThat(run.out()).contains("receipt " + id + ": metadata.worker.sig: the worker's signature does not verify",
        "receipt " + id + ": signature.sig: the signature does not verify");
  }

  @Test
  void anAlteredReceiptIsNotTheOneTheLedgerIncludes() throws Exception {
    ObjectNode receipt = ledger.receipts.get(4L).deepCopy();
    receipt.put("price", 0.06);
    CliRun run = verify(write("r.json", receipt), "--url", ledger.url(), "--api-key", TestLedger.API_KEY);
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("signature.sig: the signature does not verify",
        "proof: leaf_hash", "is not the receipt's leaf hash",
        "leaf 4: the inclusion proof does not lead from the receipt's leaf hash to block 2's signed root (tree size 7)");
  }

  @Test
  void anAlteredProofIsNamed() throws Exception {
    ObjectNode proof = ledger.proofFile(3);
    ArrayNode hashes = (ArrayNode) proof.get("hashes");
    String first = hashes.get(0).asText();
    // Another first byte, whatever it was (the ledger's hashes are random: one in 256 starts with 00).
    hashes.set(0, NODES.textNode((first.startsWith("00") ? "ff" : "00") + first.substring(2)));
    CliRun run = verify(write("r.json", ledger.receipts.get(3L)), "--proof", write("p.json", proof).toString());
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("leaf 3: the inclusion proof does not lead", "FAILED: 1 problem");

    ObjectNode forged = ledger.proofFile(3);
    ((ObjectNode) forged.get("block")).put("tree_size", 8);
    run = verify(write("r.json", ledger.receipts.get(3L)), "--proof", write("p.json", forged).toString());
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("block 2: signature.sig: the signature does not verify",
        "proof: tree_size 7 is not block 2's tree_size 8");

    ObjectNode headless = ledger.proofFile(3);
    headless.remove("block");
    run = verify(write("r.json", ledger.receipts.get(3L)), "--proof", write("p.json", headless).toString());
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("proof: block: missing");
  }

  @Test
  void anUnsealedReceiptIsNotInTheLedger() throws Exception {
    ObjectNode receipt = ledger.receipt();
    CliRun run = verify(write("r.json", receipt), "--url", ledger.url(), "--api-key", TestLedger.API_KEY);
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("receipt " + receipt.get("receipt_id").asText() + ": not in the ledger: GET "
        + "/v1/ledger/proofs/inclusion?receipt_id=" + receipt.get("receipt_id").asText() + ": 404 receipt not sealed yet");
  }

  @Test
  void unusableInputExitsWith2() throws Exception {
    CliRun missing = verify(tmp.resolve("nope.json"));
    assertThat(missing.status()).isEqualTo(2);
    assertThat(missing.err()).contains("nope.json: no such file");

    CliRun notJson = verify(Files.writeString(tmp.resolve("bad.json"), "{\"receipt\":"));
    assertThat(notJson.status()).isEqualTo(2);
    assertThat(notJson.err()).contains("bad.json: not JSON");

    CliRun noReceipt = verify(Files.writeString(tmp.resolve("none.json"), "{\"receipt\":null,\"state\":\"COMPLETED\"}"));
    assertThat(noReceipt.status()).isEqualTo(2);
    assertThat(noReceipt.err()).contains("its \"receipt\" is null: no receipt was issued yet");

    Path r = write("r.json", ledger.receipts.get(0L));
    CliRun both = verify(r, "--proof", r.toString(), "--url", ledger.url());
    assertThat(both.status()).isEqualTo(2);
    assertThat(both.err()).contains("--proof or --url, not both");

    CliRun noPub = grid("verify", "receipt", r.toString(), "--public-key", tmp.resolve("x.pub").toString());
    assertThat(noPub.status()).isEqualTo(2);
    assertThat(noPub.err()).contains("x.pub: no such file");
  }
}
