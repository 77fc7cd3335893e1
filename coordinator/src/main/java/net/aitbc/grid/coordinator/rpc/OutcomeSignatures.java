package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import net.aitbc.grid.coordinator.store.Countersigned;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.ledger.Attestations;
import net.aitbc.grid.ledger.B64;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.OutcomeAttestation;

/**
 * Checks one stream's completions against its worker's pinned key before they are recorded. One
 * signature covers a batch of completions, so each batch's signature is verified once (Ed25519 costs
 * about a millisecond here) and remembered for the rest of the batch. A completion that is not
 * signed, or whose signature does not verify, fails its attempt (another worker may run it).
 */
final class OutcomeSignatures {
  /** Batches remembered as verified. */
  private static final int REMEMBERED = 64;

  private final String workerId;
  private final VerifyingKey key;
  private final BigDecimal unitPrice;
  private final Map<String, Boolean> verified = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > REMEMBERED;
    }
  };

  OutcomeSignatures(String workerId, VerifyingKey key, BigDecimal unitPrice) {
    this.workerId = requireNonNull(workerId, "workerId");
    this.key = requireNonNull(key, "key");
    this.unitPrice = requireNonNull(unitPrice, "unitPrice");
  }

  /** The completion with the worker's countersignature, or a retryable failure saying what is wrong. */
  Outcome check(Outcome.Completed c, JobCompleted message) {
    if (!message.hasAttestation()) {
      return failed(c, "sent a completion without its signature (attestation)");
    }
    OutcomeAttestation a = message.getAttestation();
    Attestations.Attestation attestation = new Attestations.Attestation(a.getIndex(), a.getSize(),
        a.getProofList().stream().map(ByteString::toByteArray).toList(), a.getSignature().toByteArray());
    String result;
    String statement;
    try {
      JsonNode parsed = CanonicalJson.parse(c.resultJson());
      result = CanonicalJson.write(parsed);
      statement = CanonicalJson.write(Attestations.statement(workerId, JobIds.format(c.jobId()), c.attempt(), parsed,
          CanonicalJson.parse(c.metricsJson())));
    } catch (IllegalArgumentException e) {
      return failed(c, "sent a completion that cannot be signed: " + e.getMessage());
    }
    byte[] root = Attestations.batchRoot(Merkle.leafHash(statement.getBytes(StandardCharsets.US_ASCII)), attestation);
    if (root == null) {
      return failed(c, "sent an attestation whose proof does not fit its batch (index " + a.getIndex() + " of "
          + a.getSize() + ", " + a.getProofCount() + " hashes)");
    }
    String batch = Hex.encode(root) + "/" + a.getSize() + "/" + B64.encode(attestation.signature());
    if (verified.get(batch) == null) {
      // The statement names this stream's worker: the root it leads to must carry its pinned key's signature.
      if (!key.verify(Attestations.batchMessage(workerId, root, a.getSize()), attestation.signature())) {
        return failed(c, "signed its outcome with a key other than its pinned one, or the outcome was altered");
      }
      verified.put(batch, Boolean.TRUE);
    }
    return new Outcome.Completed(c.jobId(), c.attempt(), c.sessionId(), c.resultJson(), c.metricsJson(),
        new Countersigned(Attestations.toCanonicalJson(key, statement, attestation), result, unitPrice));
  }

  private Outcome failed(Outcome.Completed c, String why) {
    return new Outcome.Failed(c.jobId(), c.attempt(), c.sessionId(), "worker " + workerId + " " + why, true, workerId);
  }
}
