package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.LEDGER_HEAD;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ops.CliRun;

/**
 * The ledger side of a test grid: the coordinator's signing key (its seed and key id in the test's
 * log folder), the bridge's ledger routes, and {@code grid verify} run in this JVM.
 */
final class LedgerGrid {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Grid grid;
  private final SigningKey key = SigningKey.generate();
  private final Path publicKey;
  private int bridgePort;

  /** Gives {@code grid}'s coordinator a signing key and seals a block every {@code blocksEvery} receipts or {@code interval}. */
  LedgerGrid(Grid grid, int blocksEvery, String interval) {
    this.grid = grid;
    try {
      Path seed = grid.logDir().resolve("signing.key");
      key.save(seed);
      publicKey = Files.writeString(grid.logDir().resolve("coordinator.pub"), key.keyId() + "\n");
      grid.coordinatorOptions("--signing-key-file", seed.toString(), "--blocks-every", Integer.toString(blocksEvery),
          "--block-interval", interval);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  SigningKey key() {
    return key;
  }

  Path publicKey() {
    return publicKey;
  }

  /** Starts the bridge; returns its port. */
  int startBridge() {
    bridgePort = grid.startBridge();
    return bridgePort;
  }

  String url() {
    return "http://127.0.0.1:" + bridgePort;
  }

  /** GET {@code path} on the bridge with the client key: status and body. */
  HttpResponse<String> get(String path) {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(HttpRequest.newBuilder(URI.create(url() + path)).header("X-Api-Key", grid.clientKey()).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The JSON of a GET that must answer 200. */
  JsonNode json(String path) {
    HttpResponse<String> r = get(path);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + path + ": " + r.statusCode() + " " + r.body());
    }
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until every receipt in the database is sealed, and the bridge says so too. */
  void awaitSealed(Duration atMost) {
    await("every receipt sealed").atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> {
      int receipts = grid.query(db -> db.fetchCount(RECEIPT));
      long sealed = grid.query(db -> db.select(LEDGER_HEAD.TREE_SIZE).from(LEDGER_HEAD).fetchSingle().value1());
      return sealed == receipts;
    });
    await("the bridge's sync status").atMost(atMost).pollInterval(Duration.ofMillis(100))
        .until(() -> json("/v1/sync-status").path("unsealed").asLong(-1) == 0);
  }

  /** {@code grid verify ledger} against the bridge, with the client key and the public key file. */
  CliRun verifyLedger() {
    return CliRun.grid("verify", "ledger", "--url", url(), "--api-key", grid.clientKey(), "--public-key",
        publicKey.toString());
  }

  /** {@code grid verify receipt FILE} with its proof fetched from the bridge. */
  CliRun verifyReceipt(Path file) {
    return CliRun.grid("verify", "receipt", file.toString(), "--url", url(), "--api-key", grid.clientKey(),
        "--public-key", publicKey.toString());
  }

  /** A receipt id as the API writes it: 32 lowercase hex characters. */
  static String hex(UUID id) {
    return id.toString().replace("-", "");
  }
}
