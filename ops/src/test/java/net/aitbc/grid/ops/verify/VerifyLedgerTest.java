package net.aitbc.grid.ops.verify;

import static net.aitbc.grid.ops.CliRun.grid;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import net.aitbc.grid.ledger.B64;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ops.CliRun;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code grid verify ledger} against a ledger served as the bridge serves one: it passes, and each alteration is named. */
class VerifyLedgerTest {
  private TestLedger ledger;

  @BeforeEach
  void build() throws Exception {
    // Blocks 1..4 seal leaves 0-2, 3-5, 6-9, 10.
    ledger = new TestLedger(3, 3, 4, 1);
  }

  @AfterEach
  void stop() {
    ledger.close();
  }

  private CliRun verify() {
    return grid("verify", "ledger", "--url", ledger.url(), "--api-key", TestLedger.API_KEY, "--key-id",
        ledger.coordinator.keyId());
  }

  private static String receiptId(ObjectNode receipt) {
    return receipt.get("receipt_id").asText();
  }

  @Test
  void untouchedLedgerVerifies() {
    CliRun run = verify();
    assertThat(run.status()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("4 blocks, 11 leaves; head block 4", "tree size 11", "OK every block is signed by "
        + ledger.coordinator.keyId());
  }

  @Test
  void publicKeyFileAsGridDevWritesItWorksToo(@TempDir Path tmp) throws Exception {
    Path pub = Files.writeString(tmp.resolve("coordinator.pub"), ledger.coordinator.keyId() + "\n");
    CliRun run = grid("verify", "ledger", "--url", ledger.url() + "/", "--api-key", TestLedger.API_KEY, "--public-key",
        pub.toString());
    assertThat(run.status()).as(run.out() + run.err()).isZero();
  }

  @Test
  void anEmptyLedgerVerifies() throws Exception {
    try (TestLedger empty = new TestLedger()) {
      CliRun run = grid("verify", "ledger", "--url", empty.url(), "--api-key", TestLedger.API_KEY, "--key-id",
          empty.coordinator.keyId());
      assertThat(run.status()).as(run.out() + run.err()).isZero();
      assertThat(run.out()).contains("0 blocks, 0 leaves; no blocks", "OK the ledger is empty");
    }
  }

  @Test
  void oneByteOfAStoredReceiptIsNamedByLeafReceiptAndBlock() {
    ObjectNode receipt = ledger.receipts.get(4L);
    // "answer 5" → "answer 6": one byte of the stored entry.
    ((ObjectNode) receipt.get("metadata").get("result")).put("output", "answer 6");
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("leaf 4 (receipt " + receiptId(receipt)
        + "): the stored receipt does not match the hash sealed in block 2", "FAILED: 1 problem");
  }

  @Test
  void aChangedHeaderFieldIsNamedByBlock() {
    ledger.blocks.get(2L).put("timestamp", 1772712000999L);
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("block 2: signature.sig: the signature does not verify",
        "block 3: prev_hash: is not the hash of the previous header");
  }

  @Test
  void aChangedRootIsNamedByBlockEvenWhenReSigned() {
    ObjectNode header = ledger.blocks.get(3L);
    header.put("root", "00" + header.get("root").asText().substring(2));
    ledger.resign(3);
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("block 3: root: the root of leaves 0..9 recomputed from the sealed leaf hashes is not "
        + "the signed root", "block 4: prev_hash", "blocks 2 → 3: the consistency proof", "blocks 3 → 4: the consistency proof");
  }

  @Test
  void oneByteOfAHeaderSignatureIsNamedByBlock() {
    ObjectNode signature = (ObjectNode) ledger.blocks.get(1L).get("signature");
    byte[] sig = B64.decode(signature.get("sig").asText());
    sig[10] ^= 1;
    signature.put("sig", B64.encode(sig));
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    // The signature is not part of the hash: block 2 still links.
    assertThat(run.out()).contains("block 1: signature.sig: the signature does not verify", "FAILED: 1 problem");
  }

  @Test
  void aDroppedLeafIsNamedAndTheRootsAfterItAreNotTrusted() {
    ledger.sealed.remove(7L);
    ledger.receipts.remove(7L);
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("leaf 7: missing (sealed in block 3); the server lists leaf 8 next",
        "blocks 3..4: root not recomputed: leaf 7 cannot be read");
  }

  @Test
  void aDroppedLastLeafIsNamed() {
    ledger.sealed.remove(10L);
    ledger.receipts.remove(10L);
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("leaf 10: missing (block 4 seals 11 leaves; the server lists none from 10)",
        "block 4: root not recomputed");
  }

  @Test
  void anAlteredSealedLeafHashIsNamedByLeafAndBlockRoot() {
    byte[] leaf = ledger.sealed.get(5L).clone();
    leaf[0] ^= 1;
    ledger.sealed.put(5L, leaf);
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("leaf 5 (receipt " + receiptId(ledger.receipts.get(5L))
        + "): the stored receipt does not match the hash sealed in block 2", "block 2: root:", "block 3: root:");
  }

  @Test
  void aBrokenPrevHashIsNamedEvenWhenReSigned() {
    ledger.blocks.get(3L).put("prev_hash", "ab".repeat(32));
    ledger.resign(3);
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    // Block 3's hash changed with it, so block 4 no longer links either.
    assertThat(run.out()).contains("block 3: prev_hash: is not the hash of the previous header",
        "block 4: prev_hash: is not the hash of the previous header", "FAILED: 2 problems");
  }

  @Test
  void aMissingBlockIsNamed() {
    ledger.blocks.remove(2L);
    CliRun run = verify();
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("block 2: missing (the server lists blocks up to 4)");
  }

  @Test
  void anotherKeyIsRefusedForEveryBlock() {
    CliRun run = grid("verify", "ledger", "--url", ledger.url(), "--api-key", TestLedger.API_KEY, "--key-id",
        SigningKey.generate().keyId());
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.out()).contains("block 1: signature.key_id: " + ledger.coordinator.keyId() + " is not the expected key",
        "block 4: signature.key_id", "FAILED: 4 problems");
  }

  @Test
  void unusableArgumentsAndServersExitWith2() {
    CliRun badKey = grid("verify", "ledger", "--url", ledger.url(), "--api-key", "wrong", "--key-id",
        ledger.coordinator.keyId());
    assertThat(badKey.status()).isEqualTo(2);
    assertThat(badKey.err()).contains("GET /v1/ledger/blocks?limit=1000&offset=0: 401 invalid api key");

    CliRun noServer = grid("verify", "ledger", "--url", "http://127.0.0.1:1", "--key-id", ledger.coordinator.keyId());
    assertThat(noServer.status()).isEqualTo(2);
    assertThat(noServer.err()).contains("cannot connect to http://127.0.0.1:1");

    CliRun noKey = grid("verify", "ledger", "--url", ledger.url());
    assertThat(noKey.status()).isEqualTo(2);
    assertThat(noKey.err()).contains("--public-key", "--key-id");

    CliRun both = grid("verify", "ledger", "--url", ledger.url(), "--key-id", ledger.coordinator.keyId(), "--public-key",
        "x.pub");
    assertThat(both.status()).isEqualTo(2);

    CliRun badKeyId = grid("verify", "ledger", "--url", ledger.url(), "--key-id", "not-a-key");
    assertThat(badKeyId.status()).isEqualTo(2);
    assertThat(badKeyId.err()).contains("--key-id");

    CliRun badUrl = grid("verify", "ledger", "--url", "ftp://x", "--key-id", ledger.coordinator.keyId());
    assertThat(badUrl.status()).isEqualTo(2);
    assertThat(badUrl.err()).contains("not an http(s) URL");
  }
}
