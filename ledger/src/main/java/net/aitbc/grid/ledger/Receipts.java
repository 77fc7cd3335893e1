package net.aitbc.grid.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The checks of a signed receipt, a job's (contract §6), a payment's ({@link PaymentReceipts}), an
 * execution's ({@link ExecutionReceipts}) or a swarm task's ({@link SwarmReceipts}), and its leaf in
 * the ledger.
 */
public final class Receipts {
  private static final String WORKER = "metadata.worker";

  private Receipts() {}

  /**
   * Problems with a signed receipt (empty = valid), each naming the field: its signature against
   * {@code coordinator}, its fields and their types, and for a job's, the worker's attestation in
   * metadata.worker when there is one (same job, worker = provider, hash of metadata.result,
   * signature verifies). A payment's is checked by {@link PaymentReceipts}' rules, an execution's by
   * {@link ExecutionReceipts}', a swarm task's by {@link SwarmReceipts}'.
   */
  public static List<String> check(ObjectNode receipt, @Nullable VerifyingKey coordinator) {
    if (PaymentReceipts.isPayment(receipt)) {
      return PaymentReceipts.check(receipt, coordinator);
    }
    if (ExecutionReceipts.isExecution(receipt)) {
      return ExecutionReceipts.check(receipt, coordinator);
    }
    if (SwarmReceipts.isSwarmTask(receipt)) {
      return SwarmReceipts.check(receipt, coordinator);
    }
    List<String> problems = new ArrayList<>(Signatures.check(receipt, coordinator));
    Fields fields = new Fields("", problems);
    fields.equalTo(receipt, "version", "1.0");
    fields.lowerHex(receipt, "receipt_id", 32);
    String jobId = fields.string(receipt, "job_id");
    String provider = fields.string(receipt, "provider");
    fields.string(receipt, "client");
    fields.string(receipt, "status");
    fields.number(receipt, "units");
    fields.number(receipt, "unit_price");
    fields.number(receipt, "price");
    fields.string(receipt, "unit_type");
    fields.integer(receipt, "started_at", Long.MIN_VALUE);
    fields.integer(receipt, "completed_at", Long.MIN_VALUE);
    JsonNode metadata = receipt.get("metadata");
    if (metadata == null || !metadata.isObject()) {
      fields.problem("metadata", metadata == null ? "missing" : "must be an object");
    } else if (metadata.hasNonNull("worker")) {
      checkWorker(metadata, jobId, provider, problems);
    }
    return problems;
  }

  /** The leaf entry of a receipt in the ledger: the signed canonical body, {@link Signatures#message}. */
  public static byte[] entry(ObjectNode receipt) {
    return Signatures.message(receipt);
  }

  /** The receipt's leaf hash in the ledger: {@code Merkle.leafHash(entry(receipt))}. */
  public static byte[] leafHash(ObjectNode receipt) {
    return Merkle.leafHash(entry(receipt));
  }

  private static void checkWorker(JsonNode metadata, @Nullable String jobId, @Nullable String provider, List<String> problems) {
    if (!(metadata.get("worker") instanceof ObjectNode worker)) {
      problems.add(WORKER + ": must be an object");
      return;
    }
    int before = problems.size();
    JsonNode alg = worker.get("alg");
    if (alg == null || !Signatures.ALG.equals(alg.textValue())) {
      problems.add(WORKER + ".alg: must be \"Ed25519\", got " + alg);
    }
    VerifyingKey key = Signatures.namedKey(worker, WORKER + ".key_id", problems);
    Attestations.Attestation attestation = null;
    try {
      attestation = Attestations.fromJson(worker);
    } catch (IllegalArgumentException e) {
      problems.add(WORKER + "." + e.getMessage());
    }
    if (!(worker.get("statement") instanceof ObjectNode statement)) {
      problems.add(WORKER + ".statement: missing or not an object");
      return;
    }
    Fields fields = new Fields(WORKER + ".statement.", problems);
    String workerId = fields.string(statement, "worker_id");
    String statedJob = fields.string(statement, "job_id");
    String resultHash = fields.string(statement, "result_sha256");
    if (statedJob != null && jobId != null && !statedJob.equals(jobId)) {
      fields.problem("job_id", "\"" + statedJob + "\" is not the receipt's job_id");
    }
    if (workerId != null && provider != null && !workerId.equals(provider)) {
      fields.problem("worker_id", "\"" + workerId + "\" is not the receipt's provider");
    }
    JsonNode result = metadata.has("result") ? metadata.get("result") : NullNode.getInstance();
    if (resultHash != null && !resultHash.equals(CanonicalJson.sha256Hex(result))) {
      fields.problem("result_sha256", "is not the hash of metadata.result");
    }
    if (problems.size() == before && key != null && attestation != null && workerId != null
        && !Attestations.verify(key, workerId, statement, attestation)) {
      problems.add(WORKER + ".sig: the worker's signature does not verify");
    }
  }
}
