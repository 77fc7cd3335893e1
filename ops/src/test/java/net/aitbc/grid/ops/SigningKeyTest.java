package net.aitbc.grid.ops;

import static net.aitbc.grid.ops.CliRun.grid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code grid keys signing-key} and how the coordinator finds its signing key. */
class SigningKeyTest {
  @TempDir Path tmp;

  @Test
  void signingKeyIsWrittenOwnerOnlyWithItsKeyIdBesideItAndNeverOverwritten() throws Exception {
    Path file = tmp.resolve("keys/coordinator.key");
    CliRun made = grid("keys", "signing-key", "--out", file.toString());
    assertThat(made.status()).as(made.err()).isZero();
    SigningKey key = SigningKey.load(file);
    assertThat(made.out().trim()).isEqualTo(key.keyId());
    assertThat(made.err()).contains("--signing-key-file " + file).doesNotContain(key.seedHex());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    Path pub = tmp.resolve("keys/coordinator.key.pub");
    assertThat(VerifyingKey.load(pub)).isEqualTo(key.verifyingKey());

    CliRun again = grid("keys", "signing-key", "--out", file.toString());
    assertThat(again.status()).isNotZero();
    assertThat(again.err()).contains(file + " exists: a signing key is never overwritten");
    assertThat(SigningKey.load(file).keyId()).isEqualTo(key.keyId());

    // A leftover .pub alone also stops it: it would name another key.
    Files.delete(file);
    CliRun pubLeft = grid("keys", "signing-key", "--out", file.toString());
    assertThat(pubLeft.status()).isNotZero();
    assertThat(pubLeft.err()).contains(pub + " exists");
    assertThat(file).doesNotExist();
  }

  private static SigningKeyOptions options(String... args) {
    SigningKeyOptions options = new SigningKeyOptions();
    new CommandLine(options).parseArgs(args);
    return options;
  }

  @Test
  void coordinatorTakesItsKeyFromAFileOrTheEnvironmentAndSaysWhatIsWrong() throws Exception {
    SigningKey key = SigningKey.generate();
    Path file = tmp.resolve("signing.key");
    key.save(file);
    assertThat(options("--signing-key-file", file.toString()).load(Map.of()).keyId()).isEqualTo(key.keyId());
    assertThat(options().load(Map.of("AITBC_SIGNING_KEY", key.seedHex())).keyId()).isEqualTo(key.keyId());
    assertThat(options().load(Map.of())).isNull();
    assertThat(options().load(Map.of("AITBC_SIGNING_KEY", " "))).isNull();

    assertThatThrownBy(() -> options("--signing-key-file", file.toString()).load(Map.of("AITBC_SIGNING_KEY", key.seedHex())))
        .hasMessageContaining("two signing keys");
    assertThatThrownBy(() -> options().load(Map.of("AITBC_SIGNING_KEY", "abc")))
        .hasMessageStartingWith("AITBC_SIGNING_KEY: ").hasMessageNotContaining(key.seedHex());
    assertThatThrownBy(() -> options("--signing-key-file", tmp.resolve("none.key").toString()).load(Map.of()))
        .hasMessageContaining("none.key: no such file").hasMessageContaining("grid keys signing-key");
  }

  @Test
  void coordinatorRefusesABadSeedBeforeItStarts() {
    CliRun run = grid("coordinator", "--db-url", "jdbc:postgresql://127.0.0.1:1/none", "--signing-key-file",
        tmp.resolve("missing.key").toString());
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.err()).contains("missing.key: no such file");
  }

  @Test
  void ledgerFlagsAreReadWithTheirDefaults() {
    LedgerOptions defaults = new LedgerOptions();
    new CommandLine(defaults).parseArgs();
    assertThat(defaults.blocksEvery).isEqualTo(1000);
    assertThat(defaults.blockInterval).hasSeconds(1);
    assertThat(defaults.unitPrice).isEqualByComparingTo("0.02");
    LedgerOptions set = new LedgerOptions();
    new CommandLine(set).parseArgs("--blocks-every", "5", "--block-interval", "50ms", "--unit-price", "0.5");
    assertThat(set.blocksEvery).isEqualTo(5);
    assertThat(set.blockInterval).hasMillis(50);
    assertThat(set.unitPrice).isEqualByComparingTo("0.5");
  }
}
