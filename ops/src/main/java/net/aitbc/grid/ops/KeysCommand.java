package net.aitbc.grid.ops;

import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.ledger.SigningKey;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code grid keys}: API keys, straight in the coordinator's database, and the coordinator's signing key. */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = "Creates, lists and revokes API keys; makes the coordinator's receipt signing key.",
    subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class,
        KeysCommand.SigningKeyFile.class})
final class KeysCommand {
  private KeysCommand() {}

  private static <T> T withStore(DbOptions db, java.util.function.Function<KeyStore, T> action) {
    try (HikariDataSource ds = Database.pool(db.requireUrl(), db.user, db.password, 2)) {
      Database.migrate(ds);
      return action.apply(new KeyStore(Database.dsl(ds)));
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Creates a key and prints it once; only its hash is stored.")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin DbOptions db;

    @Option(names = "--role", required = true, description = "client, worker or admin")
    String role;

    @Option(names = "--client-id", required = true,
        description = "the id jobs are owned by (clients) or the worker owner's id (workers)")
    String clientId;

    @Option(names = "--weight", defaultValue = "1",
        description = "share of the workers relative to other keys when clients compete (default ${DEFAULT-VALUE})")
    double weight;

    @Option(names = "--rate", description = "submissions per second (0: unlimited; default: the coordinator's)")
    @Nullable Double rate;

    @Option(names = "--burst", description = "submissions allowed at once after a quiet spell (default: the coordinator's)")
    @Nullable Integer burst;

    @Option(names = "--max-queued", description = "most queued jobs for this client (default: the coordinator's)")
    @Nullable Integer maxQueued;

    @Override
    public Integer call() {
      Role r = Role.parse(role);
      if (clientId.isBlank() || clientId.length() > 200) {
        throw new IllegalArgumentException("--client-id must be 1-200 characters");
      }
      KeyLimits limits = new KeyLimits(weight, rate, burst, maxQueued);
      String key = new ApiKeys().generate(r);
      withStore(db, store -> {
        store.add(key, r, clientId, limits);
        return null;
      });
      spec.commandLine().getOut().println(key);
      spec.commandLine().getErr().println("Created a " + r.label() + " key for '" + clientId + "'. It is shown only this once.");
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists keys (prefixes only).")
  static final class ListKeys implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin DbOptions db;

    @Override
    public Integer call() {
      var keys = withStore(db, KeyStore::list);
      var out = spec.commandLine().getOut();
      out.printf("%-16s %-14s %-7s %-24s %-28s %-20s %s%n", "ID", "PREFIX", "ROLE", "CLIENT ID", "WEIGHT/RATE/BURST/MAXQ",
          "CREATED", "REVOKED");
      for (var k : keys) {
        var l = k.limits();
        String limits = l.weight() + "/" + dflt(l.ratePerSec()) + "/" + dflt(l.burst()) + "/" + dflt(l.maxQueued());
        out.printf("%-16s %-14s %-7s %-24s %-28s %-20s %s%n", k.id(), k.prefix(), k.role().label(), k.clientId(), limits,
            k.createdAt().toLocalDateTime().withNano(0), k.revokedAt() == null ? "" : k.revokedAt().toLocalDateTime().withNano(0));
      }
      return 0;
    }
  }

  private static String dflt(@Nullable Object value) {
    return value == null ? "default" : value.toString();
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revokes one key, named by its id.")
  static final class Revoke implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin DbOptions db;

    @Option(names = "--id", required = true, description = "the key's id, as `grid keys list` shows it")
    String id;

    @Override
    public Integer call() {
      boolean revoked = withStore(db, store -> store.revoke(id.trim()));
      spec.commandLine().getOut().println(revoked ? "revoked key " + id.trim() : "no active key has id " + id.trim());
      return revoked ? 0 : 1;
    }
  }

  @Command(name = "signing-key", mixinStandardHelpOptions = true,
      description = "Makes an Ed25519 key for the coordinator to sign receipts and blocks with: FILE holds its "
          + "seed (owner-only), FILE.pub its key id (for `grid verify --public-key`). Needs no database.")
  static final class SigningKeyFile implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", defaultValue = "signing.key", paramLabel = "FILE",
        description = "where to write the seed (default ${DEFAULT-VALUE}); an existing file is never overwritten")
    Path out;

    @Override
    public Integer call() throws IOException {
      Path pub = out.resolveSibling(out.getFileName() + ".pub");
      for (Path p : new Path[] {out, pub}) {
        if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          throw new IllegalArgumentException(p + " exists: a signing key is never overwritten "
              + "(receipts and blocks it signed would no longer verify against the new one); choose another --out");
        }
      }
      SigningKey key = SigningKey.generate();
      key.save(out);
      Files.writeString(pub, key.keyId() + "\n", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE_NEW);
      spec.commandLine().getOut().println(key.keyId());
      spec.commandLine().getErr().println("Wrote the signing key to " + out + " (owner-only; keep it secret) and its "
          + "public key id to " + pub + ". Start the coordinator with --signing-key-file " + out + ".");
      return 0;
    }
  }
}
