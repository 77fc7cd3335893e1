package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.BLOCK;
import static net.aitbc.grid.db.Tables.LEDGER_NODE;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.RECEIPT_UNSEALED;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.select;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/** Receipts: written with their completions, read by their owners, signed when first read. */
public final class ReceiptStore {
  private final DSLContext dsl;
  private final Columns columns = new Columns();
  private final Field<Long> blockHeight = DSL.field(select(min(BLOCK.HEIGHT)).from(BLOCK)
      .where(BLOCK.TREE_SIZE.gt(LEDGER_NODE.IDX))).as("block_height");

  /** A store over this database. */
  public ReceiptStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** Stores receipts, and their places in the queue of what waits for a block, in the caller's transaction. */
  void insert(DSLContext tx, List<NewReceipt> receipts) {
    if (receipts.isEmpty()) {
      return;
    }
    int n = receipts.size();
    UUID[] ids = new UUID[n];
    UUID[] jobs = new UUID[n];
    String[] clients = new String[n];
    String[] workers = new String[n];
    String[] bodies = new String[n];
    byte[][] hashes = new byte[n][];
    OffsetDateTime[] times = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      NewReceipt r = receipts.get(i);
      ids[i] = r.receiptId();
      jobs[i] = r.jobId();
      clients[i] = r.clientId();
      workers[i] = r.workerId();
      bodies[i] = r.body();
      hashes[i] = r.leafHash();
      times[i] = r.createdAt();
    }
    Columns c = columns;
    tx.insertInto(RECEIPT, RECEIPT.RECEIPT_ID, RECEIPT.JOB_ID, RECEIPT.CLIENT_ID, RECEIPT.WORKER_ID, RECEIPT.BODY,
            RECEIPT.LEAF_HASH, RECEIPT.CREATED_AT)
        .select(select(c.each(ids, RECEIPT.RECEIPT_ID), c.each(jobs, RECEIPT.JOB_ID), c.each(clients, RECEIPT.CLIENT_ID),
            c.each(workers, RECEIPT.WORKER_ID), c.each(bodies, RECEIPT.BODY), c.each(hashes, RECEIPT.LEAF_HASH),
            c.each(times, RECEIPT.CREATED_AT)))
        .execute();
    tx.insertInto(RECEIPT_UNSEALED, RECEIPT_UNSEALED.RECEIPT_ID, RECEIPT_UNSEALED.LEAF_HASH, RECEIPT_UNSEALED.CREATED_AT)
        .select(select(c.each(ids, RECEIPT_UNSEALED.RECEIPT_ID), c.each(hashes, RECEIPT_UNSEALED.LEAF_HASH),
            c.each(times, RECEIPT_UNSEALED.CREATED_AT)))
        .execute();
  }

  /** The receipt of a job, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byJob(UUID jobId, @Nullable String clientId) {
    return one(RECEIPT.JOB_ID.eq(jobId), clientId);
  }

  /** A receipt by id, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byId(UUID receiptId, @Nullable String clientId) {
    return one(RECEIPT.RECEIPT_ID.eq(receiptId), clientId);
  }

  /** A receipt by its leaf hash, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byLeafHash(byte[] leafHash, @Nullable String clientId) {
    return one(RECEIPT.LEAF_HASH.eq(leafHash), clientId);
  }

  /** Receipts newest first, of one client (null: all) and optionally one job. */
  public List<StoredReceipt> list(@Nullable String clientId, @Nullable UUID jobId, int limit, int offset) {
    Condition where = DSL.noCondition();
    if (clientId != null) {
      where = where.and(RECEIPT.CLIENT_ID.eq(clientId));
    }
    if (jobId != null) {
      where = where.and(RECEIPT.JOB_ID.eq(jobId));
    }
    return dsl.select(RECEIPT.fields()).select(LEDGER_NODE.IDX, blockHeight).from(RECEIPT).leftJoin(LEDGER_NODE)
        .on(LEDGER_NODE.RECEIPT_ID.eq(RECEIPT.RECEIPT_ID)).where(where)
        .orderBy(RECEIPT.CREATED_AT.desc(), RECEIPT.RECEIPT_ID.desc())
        .limit(limit).offset(offset)
        .fetch(ReceiptStore::toReceipt);
  }

  /** Keeps a receipt's signature, made when it was first read (the same bytes whoever makes it). */
  public void saveSignature(UUID receiptId, byte[] signature) {
    dsl.update(RECEIPT).set(RECEIPT.SIGNATURE, signature)
        .where(RECEIPT.RECEIPT_ID.eq(receiptId), RECEIPT.SIGNATURE.isNull())
        .execute();
  }

  private Optional<StoredReceipt> one(Condition key, @Nullable String clientId) {
    Condition where = clientId == null ? key : key.and(RECEIPT.CLIENT_ID.eq(clientId));
    return dsl.select(RECEIPT.fields()).select(LEDGER_NODE.IDX, blockHeight).from(RECEIPT).leftJoin(LEDGER_NODE)
        .on(LEDGER_NODE.RECEIPT_ID.eq(RECEIPT.RECEIPT_ID)).where(where)
        .fetchOptional(ReceiptStore::toReceipt);
  }

  private static StoredReceipt toReceipt(Record r) {
    return new StoredReceipt(r.get(RECEIPT.RECEIPT_ID), r.get(RECEIPT.JOB_ID), r.get(RECEIPT.CLIENT_ID),
        r.get(RECEIPT.WORKER_ID), r.get(RECEIPT.BODY), r.get(RECEIPT.LEAF_HASH), r.get(RECEIPT.SIGNATURE),
        r.get(RECEIPT.CREATED_AT), r.get(LEDGER_NODE.IDX), r.get("block_height", Long.class));
  }
}
