package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The test vector of contract §6, byte for byte. */
class ContractVectorTest {
  static final String SEED_HEX = "07".repeat(32);
  static final String KEY_ID = "6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw";
  static final String MESSAGE =
      "{\"client\":\"client-key-01\",\"completed_at\":1772712003,\"job_id\":\"5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b\","
          + "\"metadata\":{\"job_constraints\":{},\"job_payload\":{\"model\":\"m\",\"prompt\":\"hi\",\"type\":\"inference\"},"
          + "\"metrics\":{\"duration_ms\":2500},\"result\":{\"output\":\"hello\"}},\"price\":0.05,\"provider\":\"miner-key-01\","
          + "\"receipt_id\":\"0f1e2d3c4b5a69788796a5b4c3d2e1f0\",\"started_at\":1772712000,\"status\":\"COMPLETED\","
          + "\"unit_price\":0.02,\"unit_type\":\"gpu_seconds\",\"units\":2.5,\"version\":\"1.0\"}";
  static final String SIG = "u6LyQQ5TJbPNIPjJ9cAAWbUiU1PYyWKJX00W2hWnAu9loOfrMqy7GER4NhtLiuxBtVp4S181led0mHNmzvoTCA";

  static SigningKey vectorKey() {
    byte[] seed = new byte[32];
    Arrays.fill(seed, (byte) 7);
    return SigningKey.fromSeed(seed);
  }

  /** The vector's receipt built field by field, as the coordinator builds one (doubles and longs). */
  static ObjectNode vectorReceipt() {
    ObjectNode receipt = JsonNodeFactory.instance.objectNode();
    receipt.put("version", "1.0");
    receipt.put("receipt_id", "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
    receipt.put("job_id", "5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b");
    receipt.put("provider", "miner-key-01");
    receipt.put("client", "client-key-01");
    receipt.put("status", "COMPLETED");
    receipt.put("units", 2.5);
    receipt.put("unit_type", "gpu_seconds");
    receipt.put("unit_price", 0.02);
    receipt.put("price", 0.05);
    receipt.put("started_at", 1772712000L);
    receipt.put("completed_at", 1772712003L);
    ObjectNode metadata = receipt.putObject("metadata");
    metadata.putObject("job_payload").put("type", "inference").put("model", "m").put("prompt", "hi");
    metadata.putObject("job_constraints");
    metadata.putObject("result").put("output", "hello");
    metadata.putObject("metrics").put("duration_ms", 2500);
    return receipt;
  }

  @Test
  void theSeedGivesTheKeyId() {
    assertThat(vectorKey().keyId()).isEqualTo(KEY_ID);
    assertThat(SigningKey.fromHex(SEED_HEX).keyId()).isEqualTo(KEY_ID);
    assertThat(vectorKey().seedHex()).isEqualTo(SEED_HEX);
  }

  @Test
  void theParsedMessageIsCanonicalAndSignsToTheVector() {
    ObjectNode parsed = (ObjectNode) CanonicalJson.parse(MESSAGE);
    assertThat(CanonicalJson.write(parsed)).isEqualTo(MESSAGE);
    assertThat(Signatures.message(parsed)).isEqualTo(MESSAGE.getBytes(StandardCharsets.UTF_8));

    byte[] sig = vectorKey().sign(CanonicalJson.bytes(parsed));
    assertThat(B64.encode(sig)).isEqualTo(SIG);

    ObjectNode signed = Signatures.sign(parsed, vectorKey());
    assertThat(signed.get("signature").get("alg").textValue()).isEqualTo("Ed25519");
    assertThat(signed.get("signature").get("key_id").textValue()).isEqualTo(KEY_ID);
    assertThat(signed.get("signature").get("sig").textValue()).isEqualTo(SIG);
    assertThat(parsed.has("signature")).as("sign returns a copy").isFalse();
  }

  @Test
  void theReceiptBuiltFieldByFieldGivesTheSameBytes() {
    ObjectNode built = vectorReceipt();
    assertThat(CanonicalJson.bytes(built)).isEqualTo(MESSAGE.getBytes(StandardCharsets.US_ASCII));
    ObjectNode signed = Signatures.sign(built, vectorKey());
    assertThat(signed.get("signature").get("sig").textValue()).isEqualTo(SIG);
    assertThat(Receipts.check(signed, VerifyingKey.fromKeyId(KEY_ID))).isEmpty();
  }

  @Test
  void anAttestationsListIsLeftOutOfTheMessage() {
    ObjectNode signed = Signatures.sign(vectorReceipt(), vectorKey());
    signed.putArray("attestations").addObject().put("alg", "Ed25519").put("key_id", KEY_ID).put("sig", SIG);
    assertThat(Signatures.message(signed)).isEqualTo(MESSAGE.getBytes(StandardCharsets.US_ASCII));
    assertThat(Signatures.check(signed, null)).isEmpty();
  }
}
