package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.WORKER_KEY;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.jooq.impl.DSL.any;
import static org.jooq.impl.DSL.coalesce;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.select;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.Transfers.AccountKey;
import net.aitbc.grid.coordinator.store.Transfers.Move;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.TransferKind;
import net.aitbc.grid.db.enums.VoidReason;
import net.aitbc.grid.db.tables.records.PaymentRecord;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Table;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second phase of an escrow, inside a caller's transaction: post (to the worker's owner, less
 * the platform's fee) or void (back to the client). Each locks the escrowed payment's row first and
 * changes only a payment that is still escrowed, so that of a concurrent post and void exactly one
 * happens; the transfers' unique index on (payment, post or void) backs that up in the schema. Each
 * payment settled adds its receipt to the transaction's {@link IssuedReceipts}, for the caller to store last.
 */
final class Settlements {
  private static final Logger logger = LoggerFactory.getLogger(Settlements.class);
  private static final Columns COLUMNS = new Columns();
  /**
   * Escrowed, compared as text so that no plan can find payments by key through the partial index of
   * escrowed payments instead of their own keys' indexes: that index keeps an entry of every payment
   * ever escrowed until a VACUUM, and reading all of them in every completion batch made paid jobs
   * slower the more of them had been paid (the sweep of timed-out escrows names its status plainly).
   */
  private static final Condition ESCROWED =
      PAYMENT.STATUS.cast(SQLDataType.VARCHAR).eq(inline(PaymentStatus.escrowed.getLiteral()));

  private Settlements() {}

  /**
   * An escrowed payment, locked.
   *
   * @param paymentId the payment
   * @param jobId its job
   * @param clientId who paid
   * @param amount how much is held
   * @param currency in what
   * @param feeBps the platform's fee on release
   * @param workerOwnerId the owner of the worker that ran the job (session or pinned key), or null
   * @param workerId the worker that runs or ran the job, or null
   */
  record Open(UUID paymentId, UUID jobId, String clientId, BigDecimal amount, Currency currency, int feeBps,
      @Nullable String workerOwnerId, @Nullable String workerId) {}

  /**
   * The latest payments of these jobs (an escrowed one is always its job's latest), found through the
   * jobs' keys: one array bound, whatever their number (an IN list renders a bind each).
   */
  private static Condition ofJobs(Collection<UUID> jobIds) {
    return JOB.JOB_ID.eq(any(jobIds.toArray(UUID[]::new))).and(PAYMENT.PAYMENT_ID.eq(JOB.PAYMENT_ID));
  }

  /**
   * Locks the escrowed payments that {@code which} selects (up to {@code limit}), in the order of
   * their ids; with {@code skipLocked}, those another transaction holds are left to it.
   */
  static List<Open> lockOpen(DSLContext tx, Condition which, int limit, boolean skipLocked) {
    var query = tx.select(PAYMENT.PAYMENT_ID, PAYMENT.JOB_ID, PAYMENT.CLIENT_ID, PAYMENT.AMOUNT, PAYMENT.CURRENCY,
            PAYMENT.FEE_BPS, coalesce(WORKER_SESSION.OWNER_ID, WORKER_KEY.OWNER_ID), JOB.WORKER_ID)
        .from(PAYMENT)
        .join(JOB).on(JOB.JOB_ID.eq(PAYMENT.JOB_ID))
        .leftJoin(WORKER_SESSION).on(WORKER_SESSION.SESSION_ID.eq(JOB.SESSION_ID))
        .leftJoin(WORKER_KEY).on(WORKER_KEY.WORKER_ID.eq(JOB.WORKER_ID))
        .where(ESCROWED.and(which))
        .orderBy(PAYMENT.PAYMENT_ID)
        .limit(limit)
        .forUpdate()
        .of(PAYMENT);
    return (skipLocked ? query.skipLocked() : query)
        .fetch(r -> new Open(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(), r.value6(), r.value7(),
            r.value8()));
  }

  /**
   * Posts the escrowed payments of jobs that {@code tx} has just completed to the owners of the
   * workers that ran them, less the fee; jobs without one are skipped. Returns the payments released.
   */
  static List<StoredPayment> postForJobs(DSLContext tx, Collection<UUID> jobIds, OffsetDateTime now,
      IssuedReceipts issued) {
    if (jobIds.isEmpty()) {
      return List.of();
    }
    List<Open> open = lockOpen(tx, ofJobs(jobIds), Integer.MAX_VALUE, false);
    List<Open> payable = open.stream().filter(o -> o.workerOwnerId() != null).toList();
    if (payable.size() < open.size()) {
      // Cannot happen while sessions outlive their jobs; the escrow then times out back to the client.
      logger.warn("[jobs={}] completed jobs with payments but no known worker owner; left in escrow",
          open.stream().filter(o -> o.workerOwnerId() == null).map(Open::jobId).toList());
    }
    return post(tx, payable, now, issued);
  }

  /** Posts each payment to its worker's owner, less the fee; every one must name its owner. */
  static List<StoredPayment> post(DSLContext tx, List<Open> open, OffsetDateTime now, IssuedReceipts issued) {
    if (open.isEmpty()) {
      return List.of();
    }
    List<Move> moves = new ArrayList<>(open.size() * 2);
    int n = open.size();
    UUID[] ids = new UUID[n];
    String[] owners = new String[n];
    String[] workers = new String[n];
    BigDecimal[] fees = new BigDecimal[n];
    for (int i = 0; i < n; i++) {
      Open p = open.get(i);
      String owner = p.workerOwnerId();
      if (owner == null) {
        throw new IllegalStateException("payment " + p.paymentId() + " has no worker owner to post to");
      }
      BigDecimal fee = Money.fee(p.amount(), p.feeBps());
      AccountKey escrow = AccountKey.escrow(p.currency());
      moves.add(new Move(escrow, AccountKey.workerOwner(owner, p.currency()), p.amount().subtract(fee),
          TransferKind.post, p.paymentId(), Transfers.postKey(p.paymentId())));
      if (fee.signum() > 0) {
        moves.add(new Move(escrow, AccountKey.fee(p.currency()), fee, TransferKind.fee, p.paymentId(),
            Transfers.feeKey(p.paymentId())));
      }
      ids[i] = p.paymentId();
      owners[i] = owner;
      workers[i] = p.workerId();
      fees[i] = fee;
    }
    Table<?> b = select(COLUMNS.each(ids, PAYMENT.PAYMENT_ID).as(PAYMENT.PAYMENT_ID),
        COLUMNS.each(owners, PAYMENT.WORKER_OWNER_ID).as(PAYMENT.WORKER_OWNER_ID),
        COLUMNS.each(workers, PAYMENT.WORKER_ID).as(PAYMENT.WORKER_ID),
        COLUMNS.each(fees, PAYMENT.FEE_AMOUNT).as(PAYMENT.FEE_AMOUNT)).asTable("released");
    List<StoredPayment> released = tx.update(PAYMENT)
        .set(PAYMENT.STATUS, PaymentStatus.released)
        .set(PAYMENT.WORKER_OWNER_ID, b.field(PAYMENT.WORKER_OWNER_ID))
        .set(PAYMENT.WORKER_ID, b.field(PAYMENT.WORKER_ID))
        .set(PAYMENT.FEE_AMOUNT, b.field(PAYMENT.FEE_AMOUNT))
        .set(PAYMENT.RELEASED_AT, now)
        .set(PAYMENT.UPDATED_AT, now)
        .from(b)
        .where(PAYMENT.PAYMENT_ID.eq(b.field(PAYMENT.PAYMENT_ID)), ESCROWED)
        .returning()
        .fetch(Settlements::toPayment);
    issued.paymentsEnded(tx, released);
    // The money moves last: the accounts it locks (escrow and fee are every payment's) stay locked
    // from here to the commit.
    Transfers.applyNew(tx, moves, now);
    return released;
  }

  /** Voids each payment back to its client. */
  static List<StoredPayment> voidAll(DSLContext tx, List<Open> open, VoidReason reason, OffsetDateTime now,
      IssuedReceipts issued) {
    if (open.isEmpty()) {
      return List.of();
    }
    List<Move> moves = new ArrayList<>(open.size());
    List<UUID> ids = new ArrayList<>(open.size());
    for (Open p : open) {
      moves.add(new Move(AccountKey.escrow(p.currency()), AccountKey.client(p.clientId(), p.currency()), p.amount(),
          TransferKind.void_, p.paymentId(), Transfers.voidKey(p.paymentId())));
      ids.add(p.paymentId());
    }
    List<StoredPayment> refunded = tx.update(PAYMENT)
        .set(PAYMENT.STATUS, PaymentStatus.refunded)
        .set(PAYMENT.VOID_REASON, reason)
        .set(PAYMENT.REFUNDED_AT, now)
        .set(PAYMENT.UPDATED_AT, now)
        .where(PAYMENT.PAYMENT_ID.in(ids), ESCROWED)
        .returning()
        .fetch(Settlements::toPayment);
    issued.paymentsEnded(tx, refunded);
    Transfers.applyNew(tx, moves, now);
    return refunded;
  }

  /** Voids the escrowed payments of these jobs (failed, canceled or expired in {@code tx}). */
  static List<StoredPayment> voidForJobs(DSLContext tx, Collection<UUID> jobIds, VoidReason reason,
      OffsetDateTime now, IssuedReceipts issued) {
    if (jobIds.isEmpty()) {
      return List.of();
    }
    return voidAll(tx, lockOpen(tx, ofJobs(jobIds), Integer.MAX_VALUE, false), reason, now, issued);
  }

  static StoredPayment toPayment(PaymentRecord r) {
    return new StoredPayment(r.getPaymentId(), r.getJobId(), r.getClientId(), r.getAmount(), r.getCurrency(),
        r.getStatus(), r.getPaymentMethod(), r.getEscrowTimeoutS(), r.getExpiresAt(), r.getFeeBps(),
        r.getWorkerOwnerId(), r.getWorkerId(), r.getFeeAmount(), r.getVoidReason(), r.getCreatedAt(), r.getUpdatedAt(),
        r.getReleasedAt(), r.getRefundedAt());
  }
}
