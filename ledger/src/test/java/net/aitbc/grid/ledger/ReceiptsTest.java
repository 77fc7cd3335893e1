package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Receipts.check on a receipt countersigned by a real worker attestation, and on each single tamper. */
class ReceiptsTest {
  private final SigningKey coordinator = ContractVectorTest.vectorKey();
  private final SigningKey worker = SigningKey.fromHex("42".repeat(32));
  private final SigningKey stranger = SigningKey.fromHex("99".repeat(32));

  /** The vector receipt with metadata.worker from the worker's batch of three outcomes, signed by the coordinator. */
  private ObjectNode unsignedReceipt() {
    ObjectNode receipt = ContractVectorTest.vectorReceipt();
    ObjectNode metadata = (ObjectNode) receipt.get("metadata");
    String provider = receipt.get("provider").textValue();
    ObjectNode mine = Attestations.statement(provider, receipt.get("job_id").textValue(), 1, metadata.get("result"), metadata.get("metrics"));
    List<ObjectNode> statements = List.of(
        AttestationsTest.statement(provider, 1), mine, AttestationsTest.statement(provider, 2));
    Attestations.Attestation attestation = Attestations.signBatch(worker, provider, statements).get(1);
    metadata.set("worker", Attestations.toJson(worker.verifyingKey(), mine, attestation));
    return receipt;
  }

  private ObjectNode signedReceipt() {
    return Signatures.sign(unsignedReceipt(), coordinator);
  }

  @Test
  void aValidReceiptHasNoProblems() {
    ObjectNode receipt = signedReceipt();
    assertThat(Receipts.check(receipt, coordinator.verifyingKey())).isEmpty();
    assertThat(Receipts.check(receipt, null)).isEmpty();
    // Through its text and back, as a verifier gets it.
    ObjectNode read = (ObjectNode) CanonicalJson.parse(receipt.toString());
    assertThat(Receipts.check(read, coordinator.verifyingKey())).isEmpty();
    assertThat(Receipts.check(Signatures.sign(ContractVectorTest.vectorReceipt(), coordinator), coordinator.verifyingKey()))
        .as("no metadata.worker").isEmpty();
  }

  @Test
  void theLeafIsTheSignedBody() {
    ObjectNode receipt = signedReceipt();
    assertThat(Receipts.entry(receipt)).isEqualTo(CanonicalJson.bytes(unsignedReceipt()));
    assertThat(Receipts.leafHash(receipt)).isEqualTo(Merkle.leafHash(CanonicalJson.bytes(unsignedReceipt())));
    ObjectNode withAttestations = receipt.deepCopy();
    withAttestations.putArray("attestations").addObject().put("alg", "Ed25519");
    assertThat(Receipts.leafHash(withAttestations)).isEqualTo(Receipts.leafHash(receipt));
  }

  @Test
  void anyChangeAfterSigningBreaksTheCoordinatorSignature() {
    List<Consumer<ObjectNode>> changes = List.of(
        r -> r.put("price", 0.06),
        r -> r.put("units", 2.0),
        r -> r.put("client", "client-key-02"),
        r -> ((ObjectNode) r.get("metadata").get("result")).put("output", "hellp"),
        r -> r.put("extra", 1),
        r -> r.remove("status"));
    for (Consumer<ObjectNode> change : changes) {
      ObjectNode receipt = signedReceipt();
      change.accept(receipt);
      assertThat(Receipts.check(receipt, coordinator.verifyingKey())).contains("signature.sig: the signature does not verify");
    }
  }

  @Test
  void eachTamperNamesItsField() {
    // Re-signed after the change, so that only the field's own check can catch it.
    assertProblem(r -> r.put("version", "1.1"), "version: must be \"1.0\", got \"1.1\"");
    assertProblem(r -> r.put("receipt_id", "0F1E2D3C4B5A69788796A5B4C3D2E1F0"), "receipt_id: must be 32 lowercase hex characters");
    assertProblem(r -> r.remove("client"), "client: missing");
    assertProblem(r -> r.put("units", "2.5"), "units: must be a number");
    assertProblem(r -> r.put("unit_type", 3), "unit_type: must be a string");
    assertProblem(r -> r.put("started_at", 1772712000.5), "started_at: must be an integer");
    assertProblem(r -> r.put("metadata", "none"), "metadata: must be an object");
    assertProblem(r -> r.put("job_id", "00000000000000000000000000000000"),
        "metadata.worker.statement.job_id: \"5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b\" is not the receipt's job_id");
    assertProblem(r -> r.put("provider", "miner-key-02"),
        "metadata.worker.statement.worker_id: \"miner-key-01\" is not the receipt's provider");
    assertProblem(r -> ((ObjectNode) r.get("metadata").get("result")).put("output", "hellp"),
        "metadata.worker.statement.result_sha256: is not the hash of metadata.result");
    assertProblem(r -> ((ObjectNode) r.get("metadata")).remove("result"),
        "metadata.worker.statement.result_sha256: is not the hash of metadata.result");
    assertProblem(r -> worker(r).put("sig", B64.encode(MerkleTest.flip(B64.decode(worker(r).get("sig").textValue()), 10))),
        "metadata.worker.sig: the worker's signature does not verify");
    assertProblem(r -> worker(r).put("key_id", stranger.keyId()), "metadata.worker.sig: the worker's signature does not verify");
    assertProblem(r -> ((ObjectNode) worker(r).get("statement").get("metrics")).put("duration_ms", 1),
        "metadata.worker.sig: the worker's signature does not verify");
    assertProblem(r -> ((ArrayNode) worker(r).get("batch").get("proof")).set(0, "00".repeat(32)),
        "metadata.worker.sig: the worker's signature does not verify");
    assertProblem(r -> ((ObjectNode) worker(r).get("batch")).put("index", 0),
        "metadata.worker.sig: the worker's signature does not verify");
    assertProblem(r -> ((ObjectNode) worker(r).get("batch")).put("index", 3),
        "metadata.worker.batch.index: 3 is not below batch.size 3");
    assertProblem(r -> worker(r).put("alg", "RS256"), "metadata.worker.alg: must be \"Ed25519\", got \"RS256\"");
    assertProblem(r -> worker(r).put("key_id", "nope"), "metadata.worker.key_id: not an Ed25519 key id");
    assertProblem(r -> worker(r).remove("statement"), "metadata.worker.statement: missing or not an object");
  }

  @Test
  void theCoordinatorSignatureIsChecked() {
    ObjectNode byStranger = Signatures.sign(unsignedReceipt(), stranger);
    assertThat(Receipts.check(byStranger, coordinator.verifyingKey())).containsExactly(
        "signature.key_id: " + stranger.keyId() + " is not the expected key " + coordinator.keyId());
    assertThat(Receipts.check(byStranger, null)).as("any key, when none is expected").isEmpty();

    ObjectNode receipt = signedReceipt();
    ((ObjectNode) receipt.get("signature")).put("alg", "EdDSA");
    assertThat(Receipts.check(receipt, coordinator.verifyingKey())).containsExactly("signature.alg: must be \"Ed25519\", got \"EdDSA\"");

    receipt = signedReceipt();
    ((ObjectNode) receipt.get("signature")).put("key_id", stranger.keyId());
    assertThat(Receipts.check(receipt, null)).containsExactly("signature.sig: the signature does not verify");

    receipt = signedReceipt();
    ((ObjectNode) receipt.get("signature")).put("sig", "not base64!");
    assertThat(Receipts.check(receipt, null)).singleElement().asString().startsWith("signature.sig: bad base64");

    receipt = signedReceipt();
    receipt.remove("signature");
    assertThat(Receipts.check(receipt, coordinator.verifyingKey())).containsExactly("signature: missing");
  }

  private void assertProblem(Consumer<ObjectNode> change, String problem) {
    ObjectNode receipt = unsignedReceipt();
    change.accept(receipt);
    List<String> problems = Receipts.check(Signatures.sign(receipt, coordinator), coordinator.verifyingKey());
    assertThat(problems).as("problems").singleElement().asString().startsWith(problem);
  }

  private static ObjectNode worker(ObjectNode receipt) {
    return (ObjectNode) receipt.get("metadata").get("worker");
  }
}
