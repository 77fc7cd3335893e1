package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code grid keys} against a real database. */
class KeysCommandIT {
  private record Run(int status, String out, String err) {}

  private static Run grid(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = GridMain.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int status = cli.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  private static Optional<Principal> lookup(String url, String key) {
    try (var ds = Database.pool(url, null, null, 2)) {
      return new KeyStore(Database.dsl(ds)).find(ApiKeys.hash(key));
    }
  }

  @Test
  void createdKeyIsPrintedOnceStoredHashedAndRevocable() {
    try (TestDatabase db = TestDatabase.create()) {
      Run created = grid("keys", "create", "--role", "worker", "--client-id", "farm-7", "--weight", "2", "--rate", "50",
          "--max-queued", "10", "--db-url", db.url());
      assertThat(created.status()).isZero();
      String key = created.out().trim();
      assertThat(key).startsWith("aitbc_w_").hasSizeGreaterThan(40);
      assertThat(created.err()).contains("shown only this once");
      Principal principal = lookup(db.url(), key).orElseThrow();
      assertThat(principal.clientId()).isEqualTo("farm-7");
      assertThat(principal.role()).isEqualTo(Role.WORKER);
      assertThat(principal.limits()).isEqualTo(new KeyLimits(2, 50.0, null, 10));

      Run listed = grid("keys", "list", "--db-url", db.url());
      assertThat(listed.out()).contains(ApiKeys.id(key), ApiKeys.prefix(key), "worker", "farm-7", "2.0/50.0/default/10").doesNotContain(key);

      // A prefix is not an id: two tenants' keys may share one.
      assertThat(grid("keys", "revoke", "--id", ApiKeys.prefix(key), "--db-url", db.url()).status()).isNotZero();
      assertThat(lookup(db.url(), key)).isPresent();
      assertThat(grid("keys", "revoke", "--id", ApiKeys.id(key), "--db-url", db.url()).status()).isZero();
      assertThat(lookup(db.url(), key)).isEmpty();
    }
  }

  @Test
  void badArgumentsSayWhatIsWrong() {
    Run role = grid("keys", "create", "--role", "root", "--client-id", "x", "--db-url", "jdbc:postgresql://127.0.0.1/x");
    assertThat(role.status()).isNotZero();
    assertThat(role.err()).contains("unknown role 'root'");

    Run noDb = grid("keys", "list", "--db-url", "");
    assertThat(noDb.status()).isNotZero();
    assertThat(noDb.err()).contains("--db-url");
  }
}
