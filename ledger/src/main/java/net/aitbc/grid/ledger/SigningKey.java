package net.aitbc.grid.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.NamedParameterSpec;

/** An Ed25519 private key, made from its 32-byte seed (RFC 8032); signs with the JDK's provider. */
public final class SigningKey {
  private final byte[] seed;
  private final PrivateKey privateKey;
  private final VerifyingKey verifyingKey;

  private SigningKey(byte[] seed) {
    this.seed = seed;
    try {
      // The JDK has no "public key of this private key": its key pair generator makes one from
      // whatever random bytes it is given, so it is given the seed.
      KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
      generator.initialize(NamedParameterSpec.ED25519, new SeedRandom(seed));
      KeyPair pair = generator.generateKeyPair();
      this.privateKey = pair.getPrivate();
      this.verifyingKey = VerifyingKey.fromJdk(pair.getPublic());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
  }

  /** The key of a 32-byte seed; IllegalArgumentException for any other length. */
  public static SigningKey fromSeed(byte[] seed) {
    if (seed.length != 32) {
      throw new IllegalArgumentException("an Ed25519 seed is 32 bytes, got " + seed.length);
    }
    return new SigningKey(seed.clone());
  }

  /** The key of a seed written as 64 hex characters (surrounding whitespace ignored); IllegalArgumentException saying what is wrong. */
  public static SigningKey fromHex(String seedHex) {
    String text = seedHex.strip();
    byte[] seed;
    try {
      seed = Hex.decode(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("an Ed25519 seed is 64 hex characters: " + e.getMessage(), e);
    }
    if (seed.length != 32) {
      throw new IllegalArgumentException(
          "an Ed25519 seed is 64 hex characters, got " + seed.length * 2);
    }
    return new SigningKey(seed);
  }

  /** A new key from a SecureRandom seed. */
  public static SigningKey generate() {
    byte[] seed = new byte[32];
    new SecureRandom().nextBytes(seed);
    return new SigningKey(seed);
  }

  /** The key whose seed a file holds as hex on one line; IOException if unreadable, IllegalArgumentException naming the file if malformed. */
  public static SigningKey load(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    try {
      return fromHex(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Writes the seed as hex to {@code file}, owner-only where the file system is POSIX, atomically (temporary file, then move). */
  public void save(Path file) throws IOException {
    Path target = file.toAbsolutePath();
    Path dir = target.getParent();
    Files.createDirectories(dir);
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    Path tmp =
        posix
            ? Files.createTempFile(dir, ".key-", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
            : Files.createTempFile(dir, ".key-", ".tmp");
    try {
      Files.writeString(tmp, seedHex() + "\n", StandardCharsets.UTF_8);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The key in {@code file} if it exists, else a new key saved there. */
  public static SigningKey loadOrCreate(Path file) throws IOException {
    try {
      return load(file);
    } catch (NoSuchFileException e) {
      SigningKey key = generate();
      key.save(file);
      return key;
    }
  }

  /** The seed as 64 lowercase hex characters (the secret: keep it out of logs). */
  public String seedHex() {
    return Hex.encode(seed);
  }

  /** The matching public key. */
  public VerifyingKey verifyingKey() {
    return verifyingKey;
  }

  /** The key id of the matching public key. */
  public String keyId() {
    return verifyingKey.keyId();
  }

  /** The 64-byte Ed25519 signature of {@code message}. */
  public byte[] sign(byte[] message) {
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(privateKey);
      signer.update(message);
      return signer.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 signing failed", e);
    }
  }

  @Override
  public String toString() {
    return "SigningKey[" + keyId() + "]";
  }

  /** Hands the key pair generator the seed as its "random" private key bytes. */
  private static final class SeedRandom extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final byte[] seed;

    SeedRandom(byte[] seed) {
      this.seed = seed;
    }

    @Override
    public void nextBytes(byte[] bytes) {
      if (bytes.length != seed.length) {
        throw new IllegalStateException("the JDK asked for " + bytes.length + " random bytes, not a 32-byte seed");
      }
      System.arraycopy(seed, 0, bytes, 0, bytes.length);
    }
  }
}
