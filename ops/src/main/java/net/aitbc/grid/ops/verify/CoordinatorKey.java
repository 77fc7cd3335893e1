package net.aitbc.grid.ops.verify;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import net.aitbc.grid.ledger.VerifyingKey;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/** The coordinator's public key that everything must be signed with: a file, or the key id itself. */
final class CoordinatorKey {
  @Option(names = "--public-key", paramLabel = "FILE", required = true,
      description = "a file with the coordinator's key id (as `grid keys signing-key` and `grid dev` write it) "
          + "or its 64 hex characters")
  @Nullable Path file;

  @Option(names = "--key-id", paramLabel = "ID", required = true,
      description = "the coordinator's key id (base64url of its Ed25519 public key)")
  @Nullable String keyId;

  /** The key; IllegalArgumentException or IOException saying what is wrong. */
  VerifyingKey load() throws IOException {
    if (keyId != null) {
      try {
        return VerifyingKey.fromKeyId(keyId.strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--key-id: " + e.getMessage(), e);
      }
    }
    if (file == null) {
      throw new IllegalArgumentException("give the coordinator's key: --public-key FILE or --key-id ID");
    }
    try {
      return VerifyingKey.load(file);
    } catch (NoSuchFileException e) {
      throw new IOException("--public-key " + file + ": no such file", e);
    }
  }
}
