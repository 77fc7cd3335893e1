package net.aitbc.grid.ledger;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A worker's countersignature of its completed outcomes: one Ed25519 signature over the Merkle root
 * of a batch of statements, and for each statement its inclusion proof in that batch.
 */
public final class Attestations {
  /** The type named in the signed batch message. */
  public static final String TYPE = "aitbc.worker-outcomes.v1";

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private Attestations() {}

  /** What a worker states about one outcome: job, attempt, metrics and the hash of the result. */
  public static ObjectNode statement(String workerId, String jobId, int attempt, JsonNode result, JsonNode metrics) {
    if (!metrics.isObject()) {
      throw new IllegalArgumentException("metrics must be a JSON object, got " + metrics.getNodeType());
    }
    ObjectNode statement = JSON.objectNode();
    statement.put("attempt", attempt);
    statement.put("job_id", requireNonNull(jobId, "jobId"));
    statement.set("metrics", metrics.deepCopy());
    statement.put("result_sha256", CanonicalJson.sha256Hex(result));
    statement.put("worker_id", requireNonNull(workerId, "workerId"));
    return statement;
  }

  /**
   * One statement's share of a batch signature.
   *
   * @param index the statement's place in the batch
   * @param size the number of statements in the batch
   * @param proof the inclusion proof of the statement's leaf in the batch's tree
   * @param signature the worker's 64-byte signature of {@link #batchMessage}
   */
  public record Attestation(int index, int size, List<byte[]> proof, byte[] signature) {
    /** Copies the proof list. */
    public Attestation {
      proof = List.copyOf(proof);
    }
  }

  /** Signs a batch of statements with one signature; one Attestation per statement, same order. */
  public static List<Attestation> signBatch(SigningKey key, String workerId, List<ObjectNode> statements) {
    if (statements.isEmpty()) {
      return List.of();
    }
    MemoryTree tree = new MemoryTree();
    for (ObjectNode statement : statements) {
      JsonNode named = statement.get("worker_id");
      if (named == null || !workerId.equals(named.textValue())) {
        throw new IllegalArgumentException("statement names worker " + named + ", not " + workerId);
      }
      tree.append(leafHash(statement));
    }
    int size = statements.size();
    byte[] signature = key.sign(batchMessage(workerId, tree.root(size), size));
    List<Attestation> attestations = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      attestations.add(new Attestation(i, size, tree.inclusionProof(i, size), signature));
    }
    return attestations;
  }

  /** The batch root an attestation leads to, or null if its shape is wrong (index/size/proof length). */
  public static byte @Nullable [] batchRoot(ObjectNode statement, Attestation a) {
    return batchRoot(leafHash(statement), a);
  }

  /** {@link #batchRoot(ObjectNode, Attestation)} from the statement's leaf hash (of its canonical bytes). */
  public static byte @Nullable [] batchRoot(byte[] statementLeafHash, Attestation a) {
    if (a.size() < 1 || a.index() < 0 || a.index() >= a.size()) {
      return null;
    }
    return Merkle.rootFromInclusion(a.index(), a.size(), statementLeafHash, a.proof());
  }

  /** The message signed for a batch with this root and size. */
  public static byte[] batchMessage(String workerId, byte[] root, int size) {
    ObjectNode message = JSON.objectNode();
    message.put("root", Hex.encode(root));
    message.put("size", size);
    message.put("type", TYPE);
    message.put("worker_id", workerId);
    return CanonicalJson.bytes(message);
  }

  /** True if the attestation proves {@code key} signed this statement as {@code workerId}. */
  public static boolean verify(VerifyingKey key, String workerId, ObjectNode statement, Attestation a) {
    JsonNode named = statement.get("worker_id");
    if (named == null || !workerId.equals(named.textValue())) {
      return false;
    }
    byte[] root = batchRoot(statement, a);
    return root != null && key.verify(batchMessage(workerId, root, a.size()), a.signature());
  }

  /** The receipt's metadata.worker object: {"alg","batch":{"index","proof":[hex...],"size"},"key_id","sig","statement"}. */
  public static ObjectNode toJson(VerifyingKey key, ObjectNode statement, Attestation a) {
    ObjectNode json = JSON.objectNode();
    json.put("alg", Signatures.ALG);
    ObjectNode batch = json.putObject("batch");
    batch.put("index", a.index());
    ArrayNode proof = batch.putArray("proof");
    for (byte[] hash : a.proof()) {
      proof.add(Hex.encode(hash));
    }
    batch.put("size", a.size());
    json.put("key_id", key.keyId());
    json.put("sig", B64.encode(a.signature()));
    json.set("statement", statement.deepCopy());
    return json;
  }

  /**
   * {@link #toJson} as canonical text, from the statement's canonical text: what a receipt embeds,
   * written once.
   */
  public static String toCanonicalJson(VerifyingKey key, String canonicalStatement, Attestation a) {
    StringBuilder out = new StringBuilder(canonicalStatement.length() + 200 + 67 * a.proof().size());
    out.append("{\"alg\":");
    CanonicalJson.writeString(Signatures.ALG, out);
    out.append(",\"batch\":{\"index\":").append(a.index()).append(",\"proof\":[");
    for (int i = 0; i < a.proof().size(); i++) {
      out.append(i == 0 ? "\"" : ",\"").append(Hex.encode(a.proof().get(i))).append('"');
    }
    out.append("],\"size\":").append(a.size()).append("},\"key_id\":");
    CanonicalJson.writeString(key.keyId(), out);
    out.append(",\"sig\":");
    CanonicalJson.writeString(B64.encode(a.signature()), out);
    return out.append(",\"statement\":").append(canonicalStatement).append('}').toString();
  }

  /** The attestation in a metadata.worker object; IllegalArgumentException naming the bad field. */
  public static Attestation fromJson(ObjectNode workerJson) {
    JsonNode batch = workerJson.get("batch");
    if (batch == null || !batch.isObject()) {
      throw new IllegalArgumentException("batch: missing or not an object");
    }
    int size = intField(batch, "size", 1);
    int index = intField(batch, "index", 0);
    if (index >= size) {
      throw new IllegalArgumentException("batch.index: " + index + " is not below batch.size " + size);
    }
    JsonNode proofJson = batch.get("proof");
    if (proofJson == null || !proofJson.isArray()) {
      throw new IllegalArgumentException("batch.proof: missing or not an array");
    }
    List<byte[]> proof = new ArrayList<>(proofJson.size());
    for (JsonNode hash : proofJson) {
      if (!hash.isTextual() || !Hex.isLowerHex(hash.textValue(), 64)) {
        throw new IllegalArgumentException("batch.proof[" + proof.size() + "]: not 64 lowercase hex characters");
      }
      proof.add(Hex.decode(hash.textValue()));
    }
    List<String> problems = new ArrayList<>(1);
    byte[] signature = Signatures.signatureBytes(workerJson, "sig", problems);
    if (signature == null) {
      throw new IllegalArgumentException(problems.getFirst());
    }
    return new Attestation(index, size, proof, signature);
  }

  private static int intField(JsonNode batch, String name, int min) {
    JsonNode value = batch.get(name);
    if (value == null || !value.canConvertToInt() || !value.isIntegralNumber() || value.intValue() < min) {
      throw new IllegalArgumentException("batch." + name + ": must be an integer of at least " + min + ", got " + value);
    }
    return value.intValue();
  }

  private static byte[] leafHash(ObjectNode statement) {
    return Merkle.leafHash(CanonicalJson.bytes(statement));
  }
}
