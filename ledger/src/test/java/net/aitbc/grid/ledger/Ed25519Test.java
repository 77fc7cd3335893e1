package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Random;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SigningKey and VerifyingKey (the JDK's Ed25519) against BouncyCastle's independent implementation. */
class Ed25519Test {
  private static final BigInteger L = BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));

  @TempDir Path dir;

  @Test
  void jdkAndBouncyCastleAgreeOnKeysAndSignatures() {
    Random random = new Random(8032);
    for (int i = 0; i < 300; i++) {
      byte[] seed = new byte[32];
      random.nextBytes(seed);
      byte[] message = new byte[random.nextInt(300)];
      random.nextBytes(message);
      SigningKey key = SigningKey.fromSeed(seed);
      Ed25519PrivateKeyParameters bcKey = new Ed25519PrivateKeyParameters(seed, 0);
      byte[] bcPublic = bcKey.generatePublicKey().getEncoded();
      assertThat(key.verifyingKey().raw()).isEqualTo(bcPublic);
      assertThat(key.keyId()).isEqualTo(B64.encode(bcPublic));

      byte[] jdkSig = key.sign(message);
      assertThat(jdkSig).hasSize(64);
      assertThat(bcVerify(bcPublic, message, jdkSig)).isTrue();
      byte[] bcSig = bcSign(bcKey, message);
      // Ed25519 is deterministic: both must give the very same bytes.
      assertThat(jdkSig).isEqualTo(bcSig);
      assertThat(VerifyingKey.fromBytes(bcPublic).verify(message, bcSig)).isTrue();
    }
  }

  @Test
  void rfc8032TestOne() {
    SigningKey key = SigningKey.fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    assertThat(Hex.encode(key.verifyingKey().raw()))
        .isEqualTo("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    byte[] sig = key.sign(new byte[0]);
    assertThat(Hex.encode(sig)).isEqualTo(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    assertThat(key.verifyingKey().verify(new byte[0], sig)).isTrue();
  }

  @Test
  void tamperedSignaturesMessagesAndKeysAreRejected() {
    Random random = new Random(1);
    SigningKey key = SigningKey.fromSeed(bytes(random, 32));
    SigningKey other = SigningKey.fromSeed(bytes(random, 32));
    byte[] message = "the receipt".getBytes();
    byte[] sig = key.sign(message);
    VerifyingKey verifying = key.verifyingKey();
    for (int bit = 0; bit < 512; bit += 7) {
      byte[] bad = sig.clone();
      bad[bit / 8] ^= (byte) (1 << (bit % 8));
      assertThat(verifying.verify(message, bad)).as("bit %d flipped", bit).isFalse();
    }
    for (int i = 0; i < message.length; i++) {
      byte[] bad = message.clone();
      bad[i] ^= 1;
      assertThat(verifying.verify(bad, sig)).isFalse();
    }
    assertThat(verifying.verify(Arrays.copyOf(message, message.length + 1), sig)).isFalse();
    assertThat(other.verifyingKey().verify(message, sig)).isFalse();
    // S + L verifies the same equation; RFC 8032 requires S < L so that signatures are not malleable.
    assertThat(verifying.verify(message, withSPlusL(sig))).isFalse();
    assertThat(bcVerify(verifying.raw(), message, withSPlusL(sig))).isFalse();
  }

  @Test
  void malformedInputsGiveFalseOrAClearError() {
    SigningKey key = SigningKey.fromSeed(new byte[32]);
    VerifyingKey verifying = key.verifyingKey();
    byte[] sig = key.sign(new byte[] {1});
    assertThat(verifying.verify(new byte[] {1}, new byte[0])).isFalse();
    assertThat(verifying.verify(new byte[] {1}, Arrays.copyOf(sig, 63))).isFalse();
    assertThat(verifying.verify(new byte[] {1}, Arrays.copyOf(sig, 65))).isFalse();
    assertThat(verifying.verify(new byte[] {1}, new byte[64])).isFalse();
    byte[] allOnes = new byte[64];
    Arrays.fill(allOnes, (byte) -1);
    assertThat(verifying.verify(new byte[] {1}, allOnes)).isFalse();

    assertThatThrownBy(() -> SigningKey.fromSeed(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes, got 31");
    assertThatThrownBy(() -> SigningKey.fromHex("ab".repeat(31)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 hex characters, got 62");
    assertThatThrownBy(() -> SigningKey.fromHex("zz" + "ab".repeat(31)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a hex digit at position 0");
    assertThatThrownBy(() -> SigningKey.fromHex("abc"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("odd number");
    assertThat(SigningKey.fromHex("  0x" + "07".repeat(32) + "\n").keyId()).isEqualTo(ContractVectorTest.KEY_ID);
    assertThat(SigningKey.fromHex("07".repeat(32).toUpperCase()).keyId()).isEqualTo(ContractVectorTest.KEY_ID);

    assertThatThrownBy(() -> VerifyingKey.fromBytes(new byte[31]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes, got 31");
    byte[] notOnCurve = new byte[32];
    notOnCurve[0] = 2; // y = 2 has no x on edwards25519
    assertThatThrownBy(() -> VerifyingKey.fromBytes(notOnCurve))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an Ed25519 public key");
    byte[] yTooLarge = new byte[32];
    Arrays.fill(yTooLarge, (byte) 0xff);
    yTooLarge[31] = 0x7f; // y = 2^255 - 1 >= p
    assertThatThrownBy(() -> VerifyingKey.fromBytes(yTooLarge))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2^255 - 19");
    assertThatThrownBy(() -> VerifyingKey.fromKeyId("not a key!"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not a key id");
    assertThatThrownBy(() -> VerifyingKey.fromKeyId(ContractVectorTest.KEY_ID + "="))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("canonical");
    assertThatThrownBy(() -> VerifyingKey.fromKeyId(B64.encode(new byte[33])))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got 33");
  }

  @Test
  void keysCompareByTheirBytesAndNeverPrintTheSeed() {
    SigningKey key = ContractVectorTest.vectorKey();
    VerifyingKey byId = VerifyingKey.fromKeyId(ContractVectorTest.KEY_ID);
    assertThat(byId).isEqualTo(key.verifyingKey()).hasSameHashCodeAs(key.verifyingKey());
    assertThat(byId).isNotEqualTo(SigningKey.fromSeed(new byte[32]).verifyingKey());
    assertThat(byId.keyId()).isEqualTo(ContractVectorTest.KEY_ID);
    assertThat(key.toString()).contains(ContractVectorTest.KEY_ID).doesNotContain("0707");
    byte[] raw = byId.raw();
    raw[0] ^= 1;
    assertThat(byId.raw()).isNotEqualTo(raw);
  }

  @Test
  void saveLoadAndLoadOrCreate() throws IOException {
    SigningKey key = SigningKey.generate();
    Path file = dir.resolve("keys/nested/coordinator.key");
    key.save(file);
    assertThat(Files.readString(file)).isEqualTo(key.seedHex() + "\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    assertThat(SigningKey.load(file).seedHex()).isEqualTo(key.seedHex());
    assertThat(SigningKey.loadOrCreate(file).keyId()).isEqualTo(key.keyId());
    try (var listing = Files.list(file.getParent())) {
      assertThat(listing).as("no temporary file left").containsExactly(file);
    }

    Path fresh = dir.resolve("worker.key");
    SigningKey created = SigningKey.loadOrCreate(fresh);
    assertThat(SigningKey.loadOrCreate(fresh).seedHex()).isEqualTo(created.seedHex());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rw-------");
    assertThat(created.keyId()).isNotEqualTo(key.keyId());

    // Saving over an existing key replaces it.
    key.save(fresh);
    assertThat(SigningKey.load(fresh).keyId()).isEqualTo(key.keyId());

    Path broken = dir.resolve("broken.key");
    Files.writeString(broken, "not hex\n");
    assertThatThrownBy(() -> SigningKey.load(broken))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("broken.key");
    assertThatThrownBy(() -> SigningKey.load(dir.resolve("missing.key"))).isInstanceOf(NoSuchFileException.class);

    Path byId = dir.resolve("coordinator.pub");
    Files.writeString(byId, key.keyId() + "\n");
    assertThat(VerifyingKey.load(byId)).isEqualTo(key.verifyingKey());
    Path byHex = dir.resolve("coordinator.hex");
    Files.writeString(byHex, Hex.encode(key.verifyingKey().raw()));
    assertThat(VerifyingKey.load(byHex)).isEqualTo(key.verifyingKey());
    Files.writeString(byHex, "zz");
    assertThatThrownBy(() -> VerifyingKey.load(byHex))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("coordinator.hex");
  }

  @Test
  void hexAndBase64() {
    assertThat(Hex.encode(new byte[] {0, 15, 16, -1})).isEqualTo("000f10ff");
    assertThat(Hex.decode("0x000F10ff")).containsExactly(0, 15, 16, -1);
    assertThat(Hex.decode("")).isEmpty();
    assertThatThrownBy(() -> Hex.decode("0g")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("position 1");
    assertThatThrownBy(() -> Hex.decode("\uff11\uff11")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Hex.decode("123")).isInstanceOf(IllegalArgumentException.class);

    assertThat(B64.encode(new byte[] {(byte) 0xfb, (byte) 0xff})).isEqualTo("-_8");
    assertThat(B64.decode("-_8")).containsExactly(0xfb, 0xff);
    assertThatThrownBy(() -> B64.decode("-_8=")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> B64.decode("+/8")).isInstanceOf(IllegalArgumentException.class);
    // "-_9" decodes to the same two bytes with a stray low bit: not the one canonical text.
    assertThatThrownBy(() -> B64.decode("-_9")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("canonical");
  }

  private static byte[] bytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static byte[] bcSign(Ed25519PrivateKeyParameters key, byte[] message) {
    Ed25519Signer signer = new Ed25519Signer();
    signer.init(true, key);
    signer.update(message, 0, message.length);
    return signer.generateSignature();
  }

  private static boolean bcVerify(byte[] publicKey, byte[] message, byte[] sig) {
    Ed25519Signer verifier = new Ed25519Signer();
    verifier.init(false, new Ed25519PublicKeyParameters(publicKey, 0));
    verifier.update(message, 0, message.length);
    return verifier.verifySignature(sig);
  }

  private static byte[] withSPlusL(byte[] sig) {
    byte[] sLittle = Arrays.copyOfRange(sig, 32, 64);
    byte[] sBig = new byte[32];
    for (int i = 0; i < 32; i++) {
      sBig[i] = sLittle[31 - i];
    }
    byte[] sum = new BigInteger(1, sBig).add(L).toByteArray();
    byte[] out = sig.clone();
    Arrays.fill(out, 32, 64, (byte) 0);
    for (int i = 0; i < Math.min(32, sum.length); i++) {
      out[32 + i] = sum[sum.length - 1 - i];
    }
    return out;
  }
}
