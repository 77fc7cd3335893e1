package net.aitbc.grid.ledger;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/** An Ed25519 public key: checks signatures, and is named by its key id (b64url of its 32 bytes). */
public final class VerifyingKey {
  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));

  private final byte[] raw;
  private final PublicKey publicKey;
  private final String keyId;

  private VerifyingKey(byte[] raw, PublicKey publicKey) {
    this.raw = raw;
    this.publicKey = publicKey;
    this.keyId = B64.encode(raw);
  }

  /** The key of a 32-byte RFC 8032 encoding; IllegalArgumentException if not 32 bytes or not a point of the curve. */
  public static VerifyingKey fromBytes(byte[] raw) {
    if (raw.length != 32) {
      throw new IllegalArgumentException("an Ed25519 public key is 32 bytes, got " + raw.length);
    }
    byte[] copy = raw.clone();
    boolean xOdd = (copy[31] & 0x80) != 0;
    byte[] bigEndian = new byte[32];
    for (int i = 0; i < 32; i++) {
      bigEndian[i] = copy[31 - i];
    }
    bigEndian[0] &= 0x7f;
    BigInteger y = new BigInteger(1, bigEndian);
    if (y.compareTo(P) >= 0) {
      throw new IllegalArgumentException("not an Ed25519 public key: y is not below 2^255 - 19");
    }
    PublicKey key;
    try {
      key =
          KeyFactory.getInstance("Ed25519")
              .generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, new EdECPoint(xOdd, y)));
      // The JDK checks that the point is on the curve only when a verification starts.
      Signature.getInstance("Ed25519").initVerify(key);
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException("not an Ed25519 public key: " + e.getMessage(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
    return new VerifyingKey(copy, key);
  }

  /** The key a key id (b64url of the 32 raw bytes) names; IllegalArgumentException if it names none. */
  public static VerifyingKey fromKeyId(String keyId) {
    byte[] raw;
    try {
      raw = B64.decode(keyId);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a key id: " + e.getMessage(), e);
    }
    return fromBytes(raw);
  }

  /** The key in a file of one line: a key id (b64url) or the 64 hex characters of the raw key. */
  public static VerifyingKey load(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8).strip();
    try {
      // A key id is 43 characters, so 64 can only be hex.
      return text.length() == 64 ? fromBytes(Hex.decode(text)) : fromKeyId(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  static VerifyingKey fromJdk(PublicKey key) {
    EdECPoint point = ((EdECPublicKey) key).getPoint();
    byte[] bigEndian = point.getY().toByteArray();
    byte[] raw = new byte[32];
    for (int i = 0; i < Math.min(32, bigEndian.length); i++) {
      raw[i] = bigEndian[bigEndian.length - 1 - i];
    }
    if (point.isXOdd()) {
      raw[31] |= (byte) 0x80;
    }
    return new VerifyingKey(raw, key);
  }

  /** The 32-byte RFC 8032 encoding (a copy). */
  public byte[] raw() {
    return raw.clone();
  }

  /** The key id: b64url of the raw key. */
  public String keyId() {
    return keyId;
  }

  /** True if {@code signature} is this key's Ed25519 signature of {@code message}; false (never throws) otherwise. */
  public boolean verify(byte[] message, byte[] signature) {
    if (signature.length != 64) {
      return false;
    }
    try {
      Signature verifier = Signature.getInstance("Ed25519");
      verifier.initVerify(publicKey);
      verifier.update(message);
      return verifier.verify(signature);
    } catch (SignatureException | InvalidKeyException e) {
      return false;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof VerifyingKey other && Arrays.equals(raw, other.raw);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(raw);
  }

  @Override
  public String toString() {
    return "VerifyingKey[" + keyId + "]";
  }
}
