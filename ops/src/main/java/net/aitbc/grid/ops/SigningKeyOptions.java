package net.aitbc.grid.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import net.aitbc.grid.ledger.SigningKey;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The coordinator's receipt signing key: a file (flag or {@code AITBC_SIGNING_KEY_FILE}) or the
 * seed itself in {@code AITBC_SIGNING_KEY}. Never a flag with the seed, so that it stays out of
 * process listings and shell histories.
 */
final class SigningKeyOptions {
  /** The variable that may hold the seed itself, as 64 hex characters. */
  static final String SEED_ENV = "AITBC_SIGNING_KEY";

  @Option(names = "--signing-key-file", defaultValue = "${env:AITBC_SIGNING_KEY_FILE}", paramLabel = "FILE",
      description = "the Ed25519 key that signs receipts and blocks, as `grid keys signing-key` writes it "
          + "(env AITBC_SIGNING_KEY_FILE; or the seed as 64 hex characters in AITBC_SIGNING_KEY)")
  @Nullable Path file;

  /** The configured key, or null when none is; IllegalArgumentException saying what is wrong. */
  @Nullable SigningKey load() {
    return load(System.getenv());
  }

  /** As {@link #load()}, with {@code env} for the process environment. */
  @Nullable SigningKey load(Map<String, String> env) {
    String seed = env.get(SEED_ENV);
    boolean hasSeed = seed != null && !seed.isBlank();
    if (file != null && hasSeed) {
      throw new IllegalArgumentException("two signing keys: --signing-key-file (or AITBC_SIGNING_KEY_FILE) and "
          + SEED_ENV + "; give one");
    }
    if (hasSeed) {
      try {
        return SigningKey.fromHex(seed);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(SEED_ENV + ": " + e.getMessage(), e);
      }
    }
    if (file == null) {
      return null;
    }
    try {
      return SigningKey.load(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("--signing-key-file " + file + ": no such file "
          + "(`grid keys signing-key --out " + file + "` makes one)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the signing key " + file + ": " + e.getMessage(), e);
    }
  }
}
