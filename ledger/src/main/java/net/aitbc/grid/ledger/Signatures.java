package net.aitbc.grid.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The signature of a JSON document (a receipt or a block header), as contract §6 defines it. */
public final class Signatures {
  /** The only algorithm a verifier accepts. */
  public static final String ALG = "Ed25519";

  private Signatures() {}

  /** Returns a copy of {@code body} with {@code "signature": {"alg":"Ed25519","key_id":..,"sig":..}} over {@link #message}. */
  public static ObjectNode sign(ObjectNode body, SigningKey key) {
    ObjectNode signed = body.deepCopy();
    signed.remove("signature");
    byte[] sig = key.sign(message(signed));
    signed.putObject("signature").put("alg", ALG).put("key_id", key.keyId()).put("sig", B64.encode(sig));
    return signed;
  }

  /** The message a document's signature covers: canonical bytes of it without "signature" and "attestations". */
  public static byte[] message(ObjectNode document) {
    if (!document.has("signature") && !document.has("attestations")) {
      return CanonicalJson.bytes(document);
    }
    ObjectNode body = document.objectNode();
    body.setAll(document); // shallow: only the top-level members are dropped
    body.remove("signature");
    body.remove("attestations");
    return CanonicalJson.bytes(body);
  }

  /** Empty when {@code document}'s signature is valid and made by {@code expected} (when non-null); else the problems, each naming the field. */
  public static List<String> check(ObjectNode document, @Nullable VerifyingKey expected) {
    List<String> problems = new ArrayList<>();
    JsonNode signature = document.get("signature");
    if (signature == null || signature.isNull()) {
      problems.add("signature: missing");
      return problems;
    }
    if (!signature.isObject()) {
      problems.add("signature: not an object");
      return problems;
    }
    JsonNode alg = signature.get("alg");
    if (alg == null || !ALG.equals(alg.textValue())) {
      problems.add("signature.alg: must be \"Ed25519\", got " + alg);
    }
    VerifyingKey key = namedKey(signature, "signature.key_id", problems);
    if (key != null && expected != null && !key.equals(expected)) {
      problems.add("signature.key_id: " + key.keyId() + " is not the expected key " + expected.keyId());
    }
    byte[] sig = signatureBytes(signature, "signature.sig", problems);
    if (problems.isEmpty() && key != null && sig != null && !key.verify(message(document), sig)) {
      problems.add("signature.sig: the signature does not verify");
    }
    return problems;
  }

  /** The key {@code holder.key_id} names, or null after adding a problem named {@code field}. */
  static @Nullable VerifyingKey namedKey(JsonNode holder, String field, List<String> problems) {
    JsonNode keyId = holder.get("key_id");
    if (keyId == null || !keyId.isTextual()) {
      problems.add(field + ": missing or not a string");
      return null;
    }
    try {
      return VerifyingKey.fromKeyId(keyId.textValue());
    } catch (IllegalArgumentException e) {
      problems.add(field + ": not an Ed25519 key id (" + e.getMessage() + ")");
      return null;
    }
  }

  /** The 64 bytes of {@code holder.sig}, or null after adding a problem named {@code field}. */
  static byte @Nullable [] signatureBytes(JsonNode holder, String field, List<String> problems) {
    JsonNode sig = holder.get("sig");
    if (sig == null || !sig.isTextual()) {
      problems.add(field + ": missing or not a string");
      return null;
    }
    byte[] bytes;
    try {
      bytes = B64.decode(sig.textValue());
    } catch (IllegalArgumentException e) {
      problems.add(field + ": bad base64 (" + e.getMessage() + ")");
      return null;
    }
    if (bytes.length != 64) {
      problems.add(field + ": an Ed25519 signature is 64 bytes, got " + bytes.length);
      return null;
    }
    return bytes;
  }
}
