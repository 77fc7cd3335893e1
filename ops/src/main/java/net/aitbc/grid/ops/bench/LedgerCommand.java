package net.aitbc.grid.ops.bench;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.LEDGER_ISSUED;
import static net.aitbc.grid.db.Tables.RECEIPT;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Callable;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.LedgerStore;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredBlock;
import net.aitbc.grid.coordinator.store.StoredReceipt;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code grid bench ledger}: what one Ed25519 signature costs here, how fast receipts are sealed
 * into blocks, and the size and time of proofs once the ledger holds {@code --receipts} leaves.
 */
@Command(name = "ledger", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 120,
    description = {
        "Ed25519 costs, sealing throughput, and proofs at scale.",
        "Times the JDK's Ed25519 signing and verification; stores --receipts receipts (with their jobs) in a fresh "
            + "database, seals them into blocks of --blocks-every as the coordinator does (one transaction, one "
            + "signature per block) and reports receipts sealed per second; then times --proofs inclusion proofs of "
            + "random receipts and consistency proofs of random blocks against the head, read from the database."})
final class LedgerCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--receipts", defaultValue = "1000000", description = "leaves in the ledger (default ${DEFAULT-VALUE})")
  int receipts = 1_000_000;

  @Option(names = "--blocks-every", defaultValue = "1000", description = "receipts per block (default ${DEFAULT-VALUE})")
  int blocksEvery = 1000;

  @Option(names = "--proofs", defaultValue = "1000", description = "proofs of each kind timed (default ${DEFAULT-VALUE})")
  int proofs = 1000;

  @Option(names = "--db-url", defaultValue = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres",
      description = "PostgreSQL server (default ${DEFAULT-VALUE})")
  String dbUrl = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";

  @Option(names = "--db-name", defaultValue = "bench_ledger", description = "database to (re)create")
  String dbName = "bench_ledger";

  private static final int INSERT_BATCH = 5000;

  // What storing the receipt rows alone cost (the floor of a durable receipt per job).
  private long receiptNanos;
  private long receiptPgTicks;
  private long receiptBytes;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    SigningKey key = SigningKey.generate();
    signatures(out, key);
    BenchDatabase db = BenchDatabase.recreate(dbUrl, dbName);
    try (HikariDataSource pool = Database.pool(db.url(), null, null, 4)) {
      DSLContext dsl = Database.dsl(pool);
      ReceiptStore receiptStore = new ReceiptStore(dsl);
      LedgerStore store = new LedgerStore(dsl);
      Ledger ledger = new Ledger(key, receiptStore, store);

      long t0 = System.nanoTime();
      List<UUID> ids = fill(dsl);
      double fillSeconds = (System.nanoTime() - t0) / 1e9;
      out.printf(Locale.ROOT, "stored %,d jobs and receipts in %.1f s (not the coordinator's path: setup)%n", receipts,
          fillSeconds);
      out.printf(Locale.ROOT, "the receipt rows alone (%,d-byte bodies, %,d a statement): %.1f µs a row, of which "
          + "PostgreSQL's CPU %.1f µs%n", receiptBytes / receipts, INSERT_BATCH, receiptNanos / 1e3 / receipts,
          1e6 * receiptPgTicks / (double) ProcFs.CLK_TCK / receipts);
      out.flush();

      t0 = System.nanoTime();
      int blocks = 0;
      while (store.seal(blocksEvery, ledger::signHeader).isPresent()) {
        blocks++;
      }
      double sealSeconds = (System.nanoTime() - t0) / 1e9;
      out.printf(Locale.ROOT, "sealed %,d receipts into %,d blocks of %,d in %.1f s: %,.0f receipts/s, %.1f ms a block%n",
          receipts, blocks, blocksEvery, sealSeconds, receipts / sealSeconds, 1000 * sealSeconds / blocks);
      out.flush();

      Random random = new Random(1);
      long head = store.head().treeSize();
      byte[] root = store.block(store.head().height()).orElseThrow().root();
      long[] inclusionNanos = new long[proofs];
      int inclusionHashes = 0;
      for (int i = 0; i < proofs; i++) {
        StoredReceipt r = receiptStore.byId(ids.get(random.nextInt(ids.size())), null).orElseThrow();
        long s = System.nanoTime();
        Ledger.Inclusion proof = ledger.inclusion(r, 0);
        inclusionNanos[i] = System.nanoTime() - s;
        inclusionHashes = Math.max(inclusionHashes, proof.hashes().size());
        if (!Merkle.verifyInclusion(proof.leafIndex(), head, r.leafHash(), proof.hashes(), root)) {
          throw new IllegalStateException("an inclusion proof does not verify");
        }
      }
      long[] consistencyNanos = new long[proofs];
      int consistencyHashes = 0;
      for (int i = 0; i < proofs; i++) {
        StoredBlock b = store.block(1 + random.nextInt(blocks)).orElseThrow();
        long s = System.nanoTime();
        List<byte[]> proof = ledger.consistency(b.treeSize(), head);
        consistencyNanos[i] = System.nanoTime() - s;
        consistencyHashes = Math.max(consistencyHashes, proof.size());
        if (!Merkle.verifyConsistency(b.treeSize(), head, b.root(), root, proof)) {
          throw new IllegalStateException("a consistency proof does not verify");
        }
      }
      out.printf(Locale.ROOT, "inclusion proof at %,d leaves: at most %d hashes (%d bytes), median %.2f ms, p99 %.2f ms "
          + "(from the database)%n", head, inclusionHashes, 32 * inclusionHashes, ms(inclusionNanos, 0.5),
          ms(inclusionNanos, 0.99));
      out.printf(Locale.ROOT, "consistency proof to %,d leaves: at most %d hashes (%d bytes), median %.2f ms, p99 %.2f ms%n",
          head, consistencyHashes, 32 * consistencyHashes, ms(consistencyNanos, 0.5), ms(consistencyNanos, 0.99));
      out.flush();
    } finally {
      db.close();
    }
    return 0;
  }

  /** Times signing and verification of a receipt-sized message with the JDK's Ed25519. */
  private static void signatures(PrintWriter out, SigningKey key) {
    byte[] message = new byte[600];
    new Random(7).nextBytes(message);
    VerifyingKey verifying = key.verifyingKey();
    int n = 2000;
    long[] sign = new long[n];
    long[] verify = new long[n];
    byte[] sig = key.sign(message);
    for (int i = 0; i < n; i++) {
      message[0] = (byte) i;
      long s = System.nanoTime();
      sig = key.sign(message);
      sign[i] = System.nanoTime() - s;
      s = System.nanoTime();
      if (!verifying.verify(message, sig)) {
        throw new IllegalStateException("a signature does not verify");
      }
      verify[i] = System.nanoTime() - s;
    }
    // The first half warms the JIT up.
    long[] signWarm = Arrays.copyOfRange(sign, n / 2, n);
    long[] verifyWarm = Arrays.copyOfRange(verify, n / 2, n);
    out.printf(Locale.ROOT, "Ed25519 (JDK %s), 600-byte message: sign median %.3f ms, verify median %.3f ms "
        + "(%d each, after %d to warm up)%n", Runtime.version(), ms(signWarm, 0.5), ms(verifyWarm, 0.5), n / 2, n / 2);
    out.flush();
  }

  /** Stores the jobs and receipts, in batches; returns the receipt ids. */
  private List<UUID> fill(DSLContext dsl) {
    List<UUID> ids = new ArrayList<>(receipts);
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    JsonNodeFactory json = JsonNodeFactory.instance;
    for (int from = 0; from < receipts; from += INSERT_BATCH) {
      int n = Math.min(INSERT_BATCH, receipts - from);
      var jobs = dsl.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.TYPE, JOB.PAYLOAD, JOB.STATE, JOB.MAX_ATTEMPTS,
          JOB.TIMEOUT_MS, JOB.CREATED_AT, JOB.RUN_AFTER, JOB.EXPIRES_AT);
      var rows = dsl.insertInto(RECEIPT, RECEIPT.LEAF_IDX, RECEIPT.RECEIPT_ID, RECEIPT.JOB_ID, RECEIPT.CLIENT_ID,
          RECEIPT.WORKER_ID, RECEIPT.BODY, RECEIPT.LEAF_HASH, RECEIPT.CREATED_AT);
      for (int i = 0; i < n; i++) {
        UUID job = UUID.randomUUID();
        UUID receipt = UUID.randomUUID();
        ObjectNode body = json.objectNode().put("version", "1.0").put("receipt_id", receipt.toString())
            .put("job_id", job.toString()).put("provider", "bench-worker").put("client", "bench-client")
            .put("status", "COMPLETED").put("units", 0.5).put("unit_type", "gpu_seconds").put("unit_price", 0.02)
            .put("price", 0.01).put("started_at", now.toEpochSecond()).put("completed_at", now.toEpochSecond())
            // The worker's statement and signature, sized as a real receipt's (about 1.4 KB in all).
            .put("worker_statement", "s".repeat(760)).put("worker_sig", "w".repeat(86));
        String text = CanonicalJson.write(body);
        receiptBytes += text.length();
        jobs = jobs.values(job, "bench-client", "noop", JSONB.valueOf("{\"type\":\"noop\"}"), JobState.COMPLETED, 1,
            60_000, now, now, now.plusHours(1));
        byte[] leaf = Merkle.leafHash(text.getBytes(StandardCharsets.US_ASCII));
        OffsetDateTime issued = now.plusNanos(1000L * (from + i));
        rows = rows.values((long) from + i, receipt, job, "bench-client", "bench-worker", text, leaf, issued);
        ids.add(receipt);
      }
      jobs.execute();
      long t0 = System.nanoTime();
      long pg0 = ProcFs.postgresTicks();
      rows.execute();
      receiptNanos += System.nanoTime() - t0;
      receiptPgTicks += ProcFs.postgresTicks() - pg0;
    }
    // Issued as the coordinator issues them: the counter says how many leaves there are.
    dsl.update(LEDGER_ISSUED).set(LEDGER_ISSUED.LEAVES, (long) receipts).execute();
    return ids;
  }

  private static double ms(long[] nanos, double quantile) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.min(sorted.length - 1, Math.floor(quantile * sorted.length))] / 1e6;
  }
}
