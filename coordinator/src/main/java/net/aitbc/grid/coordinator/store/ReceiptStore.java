package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.BLOCK;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.LEDGER_ISSUED;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.SWARM_TASK_MEMBER;
import static org.jooq.impl.DSL.any;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.select;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jooq.BatchBindStep;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/**
 * Receipts, the ledger's leaves: a job's written with its completion, a payment's with its release or
 * refund, an execution's with its end; read by their owners, signed when first read.
 */
public final class ReceiptStore {
  /** Job receipts: those that record no payment, execution or swarm task. */
  private static final Condition OF_JOBS = RECEIPT.PAYMENT_ID.isNull().and(RECEIPT.EXECUTION_ID.isNull())
      .and(RECEIPT.SWARM_TASK_ID.isNull());

  private final DSLContext dsl;
  private final Field<Long> blockHeight = DSL.field(select(min(BLOCK.HEIGHT)).from(BLOCK)
      .where(BLOCK.TREE_SIZE.gt(RECEIPT.LEAF_IDX))).as("block_height");

  /** A store over this database. */
  public ReceiptStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * Stores receipts in the caller's transaction, as the next leaves of the ledger in this order. The
   * counter row stays locked until the caller commits: issue last, just before committing.
   */
  static void insert(DSLContext tx, List<NewReceipt> receipts) {
    if (receipts.isEmpty()) {
      return;
    }
    int n = receipts.size();
    long first = tx.update(LEDGER_ISSUED).set(LEDGER_ISSUED.LEAVES, LEDGER_ISSUED.LEAVES.plus(n))
        .returningResult(LEDGER_ISSUED.LEAVES).fetchSingle().value1() - n;
    // One prepared row per receipt, sent together: array literals would escape every body twice.
    BatchBindStep batch = tx.batch(tx.insertInto(RECEIPT, RECEIPT.LEAF_IDX, RECEIPT.RECEIPT_ID, RECEIPT.JOB_ID,
            RECEIPT.CLIENT_ID, RECEIPT.WORKER_ID, RECEIPT.PAYMENT_ID, RECEIPT.BODY, RECEIPT.LEAF_HASH,
            RECEIPT.CREATED_AT, RECEIPT.PRICE, RECEIPT.EXECUTION_ID, RECEIPT.SWARM_TASK_ID)
        .values((Long) null, null, null, null, null, null, null, null, null, null, null, null));
    for (int i = 0; i < n; i++) {
      NewReceipt r = receipts.get(i);
      batch = batch.bind(first + i, r.receiptId(), r.jobId(), r.clientId(), r.workerId(), r.paymentId(), r.body(),
          r.leafHash(), r.createdAt(), r.price(), r.executionId(), r.swarmTaskId());
    }
    batch.execute();
  }

  /** The receipt of a job, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byJob(UUID jobId, @Nullable String clientId) {
    return one(RECEIPT.JOB_ID.eq(jobId).and(OF_JOBS), clientId);
  }

  /** The receipt of a payment's release or refund, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byPayment(UUID paymentId, @Nullable String clientId) {
    return one(RECEIPT.PAYMENT_ID.eq(paymentId), clientId);
  }

  /** The receipt of an execution's end, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byExecution(UUID executionId, @Nullable String clientId) {
    return one(RECEIPT.EXECUTION_ID.eq(executionId), clientId);
  }

  /** The receipt of a swarm task's end, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> bySwarmTask(UUID taskId, @Nullable String clientId) {
    return one(RECEIPT.SWARM_TASK_ID.eq(taskId), clientId);
  }

  /**
   * A swarm task's member jobs as its receipt names them, by slot then replacement, read in {@code tx}
   * (the one that ends the task).
   */
  static List<MemberJobReceipt> memberJobs(DSLContext tx, UUID taskId) {
    var m = SWARM_TASK_MEMBER;
    return tx.select(m.SLOT, m.REPLACEMENT, m.JOB_ID, m.WORKER_ID, JOB.STATE, m.RESULT_SHA256, m.VOTE,
            RECEIPT.RECEIPT_ID, RECEIPT.LEAF_HASH)
        .from(m)
        .join(JOB).on(JOB.JOB_ID.eq(m.JOB_ID))
        .leftJoin(RECEIPT).on(RECEIPT.JOB_ID.eq(m.JOB_ID), OF_JOBS)
        .where(m.TASK_ID.eq(taskId))
        .orderBy(m.SLOT, m.REPLACEMENT)
        .fetch(r -> new MemberJobReceipt(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(), r.value6(),
            r.value7(), r.value8(), r.value9()));
  }

  /**
   * An execution's step jobs, each with its job receipt's id and leaf hash when it has one, read in
   * {@code tx} (the one that ends the execution).
   */
  static List<StepJobReceipt> stepJobs(DSLContext tx, UUID executionId) {
    return tx.select(JOB.JOB_ID, JOB.REQUEST_ID, JOB.STATE, RECEIPT.RECEIPT_ID, RECEIPT.LEAF_HASH)
        .from(JOB)
        .leftJoin(RECEIPT).on(RECEIPT.JOB_ID.eq(JOB.JOB_ID), OF_JOBS)
        .where(JOB.EXECUTION_ID.eq(executionId))
        .fetch(r -> new StepJobReceipt(r.value1(), r.value2(), r.value3(), r.value4(), r.value5()));
  }

  /** Receipts by id, any client's (those not stored are left out). */
  public Map<UUID, StoredReceipt> byIds(Collection<UUID> receiptIds) {
    return dsl.select(RECEIPT.fields()).select(blockHeight).from(RECEIPT)
        .where(RECEIPT.RECEIPT_ID.eq(any(receiptIds.toArray(UUID[]::new))))
        .fetchMap(r -> r.get(RECEIPT.RECEIPT_ID), ReceiptStore::toReceipt);
  }

  /** The ids of these jobs' receipts, by job (jobs without one are left out). */
  static Map<UUID, UUID> jobReceiptIds(DSLContext tx, Collection<UUID> jobIds) {
    return tx.select(RECEIPT.JOB_ID, RECEIPT.RECEIPT_ID).from(RECEIPT)
        .where(RECEIPT.JOB_ID.eq(any(jobIds.toArray(UUID[]::new))), OF_JOBS)
        .fetchMap(RECEIPT.JOB_ID, RECEIPT.RECEIPT_ID);
  }

  /** A receipt by id, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byId(UUID receiptId, @Nullable String clientId) {
    return one(RECEIPT.RECEIPT_ID.eq(receiptId), clientId);
  }

  /** A receipt by its leaf hash, if {@code clientId} (null: anyone) may read it. */
  public Optional<StoredReceipt> byLeafHash(byte[] leafHash, @Nullable String clientId) {
    return one(RECEIPT.LEAF_HASH.eq(leafHash), clientId);
  }

  /** Job receipts newest first, of one client (null: all) and optionally one job. */
  public List<StoredReceipt> list(@Nullable String clientId, @Nullable UUID jobId, int limit, int offset) {
    Condition where = OF_JOBS;
    if (clientId != null) {
      where = where.and(RECEIPT.CLIENT_ID.eq(clientId));
    }
    if (jobId != null) {
      where = where.and(RECEIPT.JOB_ID.eq(jobId));
    }
    return dsl.select(RECEIPT.fields()).select(blockHeight).from(RECEIPT).where(where)
        .orderBy(RECEIPT.LEAF_IDX.desc())
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
    return dsl.select(RECEIPT.fields()).select(blockHeight).from(RECEIPT).where(where)
        .fetchOptional(ReceiptStore::toReceipt);
  }

  private static StoredReceipt toReceipt(Record r) {
    return new StoredReceipt(r.get(RECEIPT.RECEIPT_ID), r.get(RECEIPT.JOB_ID), r.get(RECEIPT.CLIENT_ID),
        r.get(RECEIPT.WORKER_ID), r.get(RECEIPT.PAYMENT_ID), r.get(RECEIPT.BODY), r.get(RECEIPT.LEAF_HASH), r.get(RECEIPT.SIGNATURE),
        r.get(RECEIPT.CREATED_AT), r.get(RECEIPT.LEAF_IDX), r.get("block_height", Long.class),
        r.get(RECEIPT.EXECUTION_ID), r.get(RECEIPT.SWARM_TASK_ID));
  }
}
