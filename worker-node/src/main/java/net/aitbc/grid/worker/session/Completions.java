package net.aitbc.grid.worker.session;

import com.google.protobuf.ByteString;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import net.aitbc.grid.ledger.Attestations.Attestation;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.OutcomeAttestation;
import net.aitbc.grid.worker.backend.BackendException;

/**
 * Makes a job's JobCompleted message: refuses a result the stream cannot carry and, when the
 * coordinator asks for it (Registered.sign_outcomes), adds the worker's attestation, waiting on
 * the calling job thread (a virtual thread) for the {@link OutcomeSigner}'s batch.
 */
final class Completions {

  // The coordinator refuses messages over 16 MiB, and one refused message would kill the whole
  // stream (and every job on it); an oversized result is reported as a failure instead. The
  // margin also holds the attestation: a few hundred bytes at most.
  static final int MAX_MESSAGE_BYTES = CoordinatorSession.MAX_MESSAGE_BYTES - 1024;

  private final OutcomeSigner signer;
  private volatile boolean sign;

  Completions(OutcomeSigner signer) {
    this.signer = signer;
  }

  /** Whether completions carry an attestation: what Registered.sign_outcomes says. */
  void sign(boolean sign) {
    this.sign = sign;
  }

  /**
   * The completion of an attempt with these result and metrics (JSON objects as sent); a {@link
   * BackendException} when it cannot be sent: too large (permanent), not signable (permanent: the
   * coordinator could not read it either), or the signer refused the work (retryable).
   */
  JobCompleted completed(String jobId, int attempt, String resultJson, String metricsJson)
      throws BackendException, InterruptedException {
    JobCompleted completed =
        JobCompleted.newBuilder()
            .setJobId(jobId)
            .setAttempt(attempt)
            .setResultJson(resultJson)
            .setMetricsJson(metricsJson)
            .build();
    int size = completed.getSerializedSize();
    if (size > MAX_MESSAGE_BYTES) {
      throw BackendException.invalid(
          "result too large: " + size + " bytes, the stream carries at most " + MAX_MESSAGE_BYTES);
    }
    if (!sign) {
      return completed;
    }
    CompletableFuture<Attestation> signed;
    try {
      // Exactly the strings sent: the coordinator rebuilds the statement from them.
      signed = signer.sign(jobId, attempt, resultJson, metricsJson);
    } catch (IllegalArgumentException e) {
      throw BackendException.invalid("the result cannot be signed: " + e.getMessage());
    }
    try {
      return completed.toBuilder().setAttestation(toProto(signed.get())).build();
    } catch (ExecutionException e) {
      throw new BackendException("could not sign the outcome: " + e.getCause(), true, e.getCause());
    }
  }

  /** The attestation as the protocol carries it. */
  static OutcomeAttestation toProto(Attestation a) {
    OutcomeAttestation.Builder proto =
        OutcomeAttestation.newBuilder()
            .setIndex(a.index())
            .setSize(a.size())
            .setSignature(ByteString.copyFrom(a.signature()));
    for (byte[] hash : a.proof()) {
      proto.addProof(ByteString.copyFrom(hash));
    }
    return proto.build();
  }
}
