package net.aitbc.grid.ops;

import static net.aitbc.grid.ops.CliRun.grid;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.ops.process.GridProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code grid keys} against a real database. */
class KeysCommandIT {
  private static Optional<Principal> lookup(String url, String key) {
    try (var ds = Database.pool(url, null, null, 2)) {
      return new KeyStore(Database.dsl(ds)).find(ApiKeys.hash(key));
    }
  }

  @Test
  void createdKeyIsPrintedOnceStoredHashedAndRevocable() {
    try (TestDatabase db = TestDatabase.create()) {
      CliRun created = grid("keys", "create", "--role", "worker", "--client-id", "farm-7", "--weight", "2", "--rate", "50",
          "--max-queued", "10", "--db-url", db.url());
      assertThat(created.status()).isZero();
      String key = created.out().trim();
      assertThat(key).startsWith("aitbc_w_").hasSizeGreaterThan(40);
      assertThat(created.err()).contains("shown only this once");
      Principal principal = lookup(db.url(), key).orElseThrow();
      assertThat(principal.clientId()).isEqualTo("farm-7");
      assertThat(principal.role()).isEqualTo(Role.WORKER);
      assertThat(principal.limits()).isEqualTo(new KeyLimits(2, 50.0, null, 10));

      CliRun listed = grid("keys", "list", "--db-url", db.url());
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
    CliRun role = grid("keys", "create", "--role", "root", "--client-id", "x", "--db-url", "jdbc:postgresql://127.0.0.1/x");
    assertThat(role.status()).isNotZero();
    assertThat(role.err()).contains("unknown role 'root'");

    CliRun noDb = grid("keys", "list", "--db-url", "");
    assertThat(noDb.status()).isNotZero();
    assertThat(noDb.err()).contains("--db-url");
  }

  @Test
  void operatorCommandsPrintNoLibraryNotices(@TempDir Path tmp) {
    try (TestDatabase db = TestDatabase.create()) {
      GridProcess create = GridProcess.builder("keys create", tmp.resolve("create.log")).jvmOptions(GridProcess.LEAN_JVM_OPTIONS)
          .start("keys", "create", "--role", "client", "--client-id", "quiet", "--db-url", db.url());
      assertThat(create.awaitExit(Duration.ofSeconds(60))).as(create.tail(20)).isZero();
      GridProcess list = GridProcess.builder("keys list", tmp.resolve("list.log")).jvmOptions(GridProcess.LEAN_JVM_OPTIONS)
          .start("keys", "list", "--db-url", db.url());
      assertThat(list.awaitExit(Duration.ofSeconds(60))).as(list.tail(20)).isZero();

      // Everything each printed (stdout and stderr), past its command line: the key, a note, the listing.
      // jOOQ warns "Version mismatch … support-matrix" against a PostgreSQL older than its dialect (18),
      // e.g. Debian 12's 15; against the embedded 18 it would not, and the check below is then moot.
      List<String> created = create.lines().subList(1, create.lines().size());
      assertThat(created).as(create.tail(20)).hasSize(2);
      assertThat(created.getFirst()).startsWith("aitbc_c_");
      assertThat(created.get(1)).contains("shown only this once");
      List<String> listed = list.lines().subList(1, list.lines().size());
      assertThat(listed).as(list.tail(20)).hasSize(2);
      assertThat(listed.getFirst()).startsWith("ID ");
      assertThat(listed.get(1)).contains("quiet");
      assertThat(String.join("\n", created) + String.join("\n", listed))
          .doesNotContain("Version mismatch", "support-matrix", "WARN");
    }
  }
}
