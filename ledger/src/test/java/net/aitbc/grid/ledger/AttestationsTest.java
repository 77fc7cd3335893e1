package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** A worker's batch countersignatures: every statement verifies, and any one change does not. */
class AttestationsTest {
  private static final String WORKER = "worker-7";
  private final SigningKey key = SigningKey.fromSeed(new byte[] {
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32});
  private final VerifyingKey other = SigningKey.fromSeed(new byte[32]).verifyingKey();

  static ObjectNode statement(String worker, int i) {
    JsonNode result = CanonicalJson.parse("{\"output\":\"answer " + i + "\",\"tokens\":" + (i * 3) + "}");
    JsonNode metrics = CanonicalJson.parse("{\"duration_ms\":" + (100 + i) + ",\"units\":" + (i + 0.5) + ",\"none\":null}");
    return Attestations.statement(worker, "%032x".formatted(i), 1 + i % 3, result, metrics);
  }

  @Test
  void aStatementHoldsTheHashOfTheResult() {
    JsonNode result = CanonicalJson.parse("{\"output\":\"hello\"}");
    ObjectNode statement = Attestations.statement("w", "5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b", 2, result, CanonicalJson.parse("{\"duration_ms\":2500}"));
    assertThat(CanonicalJson.write(statement)).isEqualTo(
        "{\"attempt\":2,\"job_id\":\"5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b\",\"metrics\":{\"duration_ms\":2500},"
            + "\"result_sha256\":\"" + Hex.encode(CanonicalJson.sha256("{\"output\":\"hello\"}".getBytes())) + "\",\"worker_id\":\"w\"}");
    assertThatThrownBy(() -> Attestations.statement("w", "j", 1, result, CanonicalJson.parse("[1]")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("metrics");
  }

  @Test
  void everyStatementOfEveryBatchSizeVerifiesAndEveryChangeFails() {
    Random random = new Random(40);
    for (int size = 1; size <= 40; size++) {
      List<ObjectNode> statements = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        statements.add(statement(WORKER, size * 100 + i));
      }
      List<Attestations.Attestation> batch = Attestations.signBatch(key, WORKER, statements);
      assertThat(batch).hasSize(size);
      for (int i = 0; i < size; i++) {
        Attestations.Attestation a = batch.get(i);
        assertThat(a.index()).isEqualTo(i);
        assertThat(a.size()).isEqualTo(size);
        assertThat(a.signature()).isEqualTo(batch.getFirst().signature());
        assertThat(Attestations.verify(key.verifyingKey(), WORKER, statements.get(i), a)).as("%d of %d", i, size).isTrue();
      }
      int i = random.nextInt(size);
      assertEveryChangeFails(statements.get(i), batch.get(i), size);
    }
  }

  private void assertEveryChangeFails(ObjectNode statement, Attestations.Attestation a, int size) {
    VerifyingKey worker = key.verifyingKey();
    List<Consumer<ObjectNode>> changes = List.of(
        s -> s.put("attempt", s.get("attempt").intValue() + 1),
        s -> s.put("job_id", Hex.encode(MerkleTest.flip(Hex.decode(s.get("job_id").textValue()), 15))),
        s -> s.put("result_sha256", Hex.encode(MerkleTest.flip(Hex.decode(s.get("result_sha256").textValue()), 0))),
        s -> ((ObjectNode) s.get("metrics")).put("duration_ms", 1),
        s -> s.put("worker_id", "worker-8"),
        s -> s.put("extra", true));
    for (Consumer<ObjectNode> change : changes) {
      ObjectNode changed = statement.deepCopy();
      change.accept(changed);
      assertThat(Attestations.verify(worker, WORKER, changed, a)).as("changed %s", changed).isFalse();
    }
    for (int p = 0; p < a.proof().size(); p++) {
      List<byte[]> proof = new ArrayList<>(a.proof());
      proof.set(p, MerkleTest.flip(proof.get(p), p));
      assertThat(Attestations.verify(worker, WORKER, statement, new Attestations.Attestation(a.index(), size, proof, a.signature()))).isFalse();
    }
    for (int b = 0; b < 64; b += 9) {
      assertThat(Attestations.verify(worker, WORKER, statement, new Attestations.Attestation(a.index(), size, a.proof(), MerkleTest.flip(a.signature(), b)))).isFalse();
    }
    assertThat(Attestations.verify(other, WORKER, statement, a)).isFalse();
    assertThat(Attestations.verify(worker, "worker-8", statement, a)).isFalse();
    if (size > 1) {
      assertThat(Attestations.verify(worker, WORKER, statement, new Attestations.Attestation((a.index() + 1) % size, size, a.proof(), a.signature()))).isFalse();
    }
    assertThat(Attestations.batchRoot(statement, new Attestations.Attestation(a.index(), size + 1, a.proof(), a.signature())))
        .as("a proof of the wrong length for the size, or a different root").satisfiesAnyOf(
            root -> assertThat(root).isNull(),
            root -> assertThat(Attestations.verify(worker, WORKER, statement, new Attestations.Attestation(a.index(), size + 1, a.proof(), a.signature()))).isFalse());
    assertThat(Attestations.batchRoot(statement, new Attestations.Attestation(size, size, a.proof(), a.signature()))).isNull();
  }

  @Test
  void theBatchMessageIsCanonicalJson() {
    byte[] root = new byte[32];
    root[31] = 1;
    assertThat(new String(Attestations.batchMessage("w\u00e9", root, 3))).isEqualTo(
        "{\"root\":\"" + "00".repeat(31) + "01\",\"size\":3,\"type\":\"aitbc.worker-outcomes.v1\",\"worker_id\":\"w\\u00e9\"}");
  }

  @Test
  void toJsonAndFromJsonRoundTrip() {
    List<ObjectNode> statements = List.of(statement(WORKER, 1), statement(WORKER, 2), statement(WORKER, 3));
    List<Attestations.Attestation> batch = Attestations.signBatch(key, WORKER, statements);
    for (int i = 0; i < 3; i++) {
      ObjectNode json = Attestations.toJson(key.verifyingKey(), statements.get(i), batch.get(i));
      // Through text and back, as it travels inside a receipt.
      ObjectNode read = (ObjectNode) CanonicalJson.parse(CanonicalJson.write(json));
      assertThat(read.get("alg").textValue()).isEqualTo("Ed25519");
      assertThat(read.get("key_id").textValue()).isEqualTo(key.keyId());
      assertThat(read.get("batch").get("proof")).hasSize(batch.get(i).proof().size());
      Attestations.Attestation back = Attestations.fromJson(read);
      assertThat(back.index()).isEqualTo(i);
      assertThat(back.size()).isEqualTo(3);
      assertThat(back.proof()).containsExactlyElementsOf(batch.get(i).proof());
      assertThat(back.signature()).isEqualTo(batch.get(i).signature());
      assertThat(Attestations.verify(key.verifyingKey(), WORKER, (ObjectNode) read.get("statement"), back)).isTrue();
    }
  }

  @Test
  void theCanonicalTextIsWhatToJsonWrites() {
    for (int size : new int[] {1, 2, 5, 256}) {
      List<ObjectNode> statements = new java.util.ArrayList<>();
      for (int i = 0; i < size; i++) {
        statements.add(statement(WORKER, i));
      }
      List<Attestations.Attestation> batch = Attestations.signBatch(key, WORKER, statements);
      for (int i = 0; i < size; i += Math.max(1, size / 7)) {
        String statement = CanonicalJson.write(statements.get(i));
        String expected = CanonicalJson.write(Attestations.toJson(key.verifyingKey(), statements.get(i), batch.get(i)));
        assertThat(Attestations.toCanonicalJson(key.verifyingKey(), statement, batch.get(i))).isEqualTo(expected);
        // Embedded as a fragment, it is written as it is.
        ObjectNode holder = CanonicalJson.parse("{\"z\":1,\"a\":null}").deepCopy();
        holder.set("worker", CanonicalJson.fragment(expected));
        assertThat(CanonicalJson.write(holder)).isEqualTo("{\"worker\":" + expected + ",\"z\":1}");
      }
    }
  }

  @Test
  void fromJsonNamesTheBadField() {
    List<ObjectNode> statements = List.of(statement(WORKER, 1), statement(WORKER, 2));
    ObjectNode good = Attestations.toJson(key.verifyingKey(), statements.getFirst(), Attestations.signBatch(key, WORKER, statements).getFirst());
    assertFromJsonFails(good, j -> j.remove("batch"), "batch: missing");
    assertFromJsonFails(good, j -> ((ObjectNode) j.get("batch")).put("index", 2), "batch.index: 2 is not below batch.size 2");
    assertFromJsonFails(good, j -> ((ObjectNode) j.get("batch")).put("index", -1), "batch.index");
    assertFromJsonFails(good, j -> ((ObjectNode) j.get("batch")).put("size", 0), "batch.size");
    assertFromJsonFails(good, j -> ((ObjectNode) j.get("batch")).put("size", 1.5), "batch.size");
    assertFromJsonFails(good, j -> ((ArrayNode) j.get("batch").get("proof")).set(0, "AB" + "00".repeat(31)), "batch.proof[0]");
    assertFromJsonFails(good, j -> ((ObjectNode) j.get("batch")).put("proof", "x"), "batch.proof: missing or not an array");
    assertFromJsonFails(good, j -> j.put("sig", "***"), "sig: bad base64");
    assertFromJsonFails(good, j -> j.put("sig", B64.encode(new byte[63])), "sig: an Ed25519 signature is 64 bytes, got 63");
    assertFromJsonFails(good, j -> j.remove("sig"), "sig: missing");
  }

  @Test
  void aBatchMustBeOfTheSigningWorker() {
    assertThat(Attestations.signBatch(key, WORKER, List.of())).isEmpty();
    assertThatThrownBy(() -> Attestations.signBatch(key, WORKER, List.of(statement("someone-else", 1))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("someone-else");
  }

  private static void assertFromJsonFails(ObjectNode good, Consumer<ObjectNode> change, String message) {
    ObjectNode bad = good.deepCopy();
    change.accept(bad);
    assertThatThrownBy(() -> Attestations.fromJson(bad)).isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith(message);
  }
}
