package net.aitbc.grid.coordinator.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * Makes and hashes API keys. Keys carry 256 random bits, so one SHA-256 is a sufficient hash: there
 * is nothing to brute-force, unlike a password.
 */
public final class ApiKeys {
  private static final int PREFIX_LENGTH = 12;

  private final SecureRandom random = new SecureRandom();

  /** A new random key for a role, e.g. {@code aitbc_c_3q…}. */
  public String generate(Role role) {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return "aitbc_" + role.label().charAt(0) + "_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** The SHA-256 of a key, as stored. */
  public static byte[] hash(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * A key's id for limits, logs and revocation: the first 16 hex characters of its hash (unique in
   * the database; revealing it reveals nothing of the key).
   */
  public static String id(String key) {
    return id(hash(key));
  }

  /** The id of the key with this hash (see {@link #id(String)}). */
  public static String id(byte[] hash) {
    return java.util.HexFormat.of().formatHex(hash, 0, 8);
  }

  /** The first characters of a key, stored so that operators can tell keys apart. */
  public static String prefix(String key) {
    return key.substring(0, Math.min(PREFIX_LENGTH, key.length()));
  }
}
