package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.WORKER_KEY;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.jooq.impl.DSL.coalesce;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.val;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.coordinator.store.Transfers.AccountKey;
import net.aitbc.grid.coordinator.store.Transfers.Move;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.TransferKind;
import net.aitbc.grid.db.enums.VoidReason;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Payments for jobs as two-phase transfers: {@link #create} moves the amount from the client into
 * escrow with a timeout; then exactly one of post (the job completed, or the client released it:
 * to the worker's owner less the platform fee) and void (the job failed, was canceled or expired,
 * the client asked for a refund, or the escrow timed out: back to the client) settles it, and the
 * payment's signed receipt is issued with it. Every state lives in PostgreSQL under row locks, so
 * coordinators sharing the database agree.
 */
public final class PaymentStore {
  private static final Logger logger = LoggerFactory.getLogger(PaymentStore.class);
  /** Inlined, so that every plan can find a job's live payment through the partial unique index of them. */
  private static final Condition LIVE = PAYMENT.STATUS.in(inline(PaymentStatus.pending),
      inline(PaymentStatus.escrowed), inline(PaymentStatus.released));

  private final DSLContext dsl;
  private final int feeBps;
  private final @Nullable ReceiptMaker receipts;
  private final Columns columns = new Columns();

  /**
   * A store over this database; releases take {@code feeBps} basis points for the platform. With a
   * {@code receipts} maker, each payment released or refunded gets its receipt in the same transaction.
   */
  public PaymentStore(DSLContext dsl, int feeBps, @Nullable ReceiptMaker receipts) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.feeBps = Money.feeBps(feeBps);
    this.receipts = receipts;
  }

  /**
   * What {@link #create} did.
   *
   * @param payment the job's payment
   * @param existing whether it existed already (a retry): nothing moved this time
   */
  public record Created(StoredPayment payment, boolean existing) {}

  /**
   * What a release or refund did.
   *
   * @param payment the payment after it
   * @param changed false when it was already so (a retry): nothing moved this time
   */
  public record Settled(StoredPayment payment, boolean changed) {}

  /** {@link #create(DSLContext, NewPayment)} in a transaction of its own. */
  public Created create(NewPayment p) {
    return Database.transaction(dsl, tx -> create(tx, p));
  }

  /**
   * Pays for a client's job in {@code tx}: the amount moves from the client's account into escrow,
   * and the job names the payment. A job that has completed is paid out at once (the contract's
   * auto-release). A retry (the job already has a live payment of the same amount and currency)
   * returns that payment and moves nothing. Throws {@link PaymentRefused}: the job is not the
   * client's; it failed, was canceled or expired, or was answered from the result cache; it has a
   * different live payment; the client's balance does not cover the amount (then nothing has moved
   * once {@code tx} rolls back).
   */
  public Created create(DSLContext tx, NewPayment p) {
    var amount = Money.paymentAmount(p.amount());
    int timeout = Money.escrowTimeout(p.escrowTimeoutSeconds());
    var row = tx.select(JOB.STATE, coalesce(WORKER_SESSION.OWNER_ID, WORKER_KEY.OWNER_ID), JOB.CACHE_HIT)
        .from(JOB)
        .leftJoin(WORKER_SESSION).on(WORKER_SESSION.SESSION_ID.eq(JOB.SESSION_ID))
        .leftJoin(WORKER_KEY).on(WORKER_KEY.WORKER_ID.eq(JOB.WORKER_ID))
        .where(JOB.JOB_ID.eq(p.jobId()), JOB.CLIENT_ID.eq(p.clientId()))
        // Orders this against the transaction that completes, fails, cancels or expires the job:
        // whichever comes second sees the other's work.
        .forNoKeyUpdate()
        .of(JOB)
        .fetchOptional()
        .orElseThrow(() -> new PaymentRefused(Reason.NOT_FOUND, "job " + p.jobId() + " not found"));
    JobState job = row.value1();
    @Nullable String owner = row.value2();
    Optional<StoredPayment> live = tx.selectFrom(PAYMENT)
        .where(PAYMENT.JOB_ID.eq(p.jobId()), LIVE)
        .fetchOptional(Settlements::toPayment);
    if (live.isPresent()) {
      StoredPayment s = live.get();
      if (s.amount().compareTo(amount) == 0 && s.currency() == p.currency()) {
        return new Created(s, true);
      }
      throw new PaymentRefused(Reason.CONFLICT, "job " + p.jobId() + " already has payment " + s.paymentId() + " of "
          + Transfers.plain(s.amount()) + " " + s.currency().getLiteral() + " (" + s.status().getLiteral() + ")");
    }
    if (job != JobState.QUEUED && job != JobState.RUNNING && job != JobState.COMPLETED) {
      throw new PaymentRefused(Reason.NOT_PAYABLE, "job " + p.jobId() + " is " + job + ": there is nothing to pay for");
    }
    if (Boolean.TRUE.equals(row.value3())) {
      // No worker ran it: an escrow would have no one to be released to.
      throw new PaymentRefused(Reason.NOT_PAYABLE, "job " + p.jobId()
          + " was answered from the result cache: there is nothing to pay for");
    }
    OffsetDateTime now = JobStore.now();
    if (job == JobState.COMPLETED && owner != null) {
      // Escrow and post at once: every account both touch is locked in one round, in id order, so
      // that this never deadlocks with a completion posting to the same accounts.
      Transfers.lock(tx, List.of(AccountKey.client(p.clientId(), p.currency()), AccountKey.escrow(p.currency()),
          AccountKey.workerOwner(owner, p.currency()), AccountKey.fee(p.currency())));
    }
    StoredPayment made = tx.insertInto(PAYMENT)
        .set(PAYMENT.PAYMENT_ID, p.paymentId())
        .set(PAYMENT.JOB_ID, p.jobId())
        .set(PAYMENT.CLIENT_ID, p.clientId())
        .set(PAYMENT.AMOUNT, amount)
        .set(PAYMENT.CURRENCY, p.currency())
        .set(PAYMENT.STATUS, PaymentStatus.escrowed)
        .set(PAYMENT.PAYMENT_METHOD, p.paymentMethod())
        .set(PAYMENT.ESCROW_TIMEOUT_S, timeout)
        .set(PAYMENT.EXPIRES_AT, now.plusSeconds(timeout))
        .set(PAYMENT.FEE_BPS, feeBps)
        .set(PAYMENT.CREATED_AT, now)
        .set(PAYMENT.UPDATED_AT, now)
        .returning()
        .fetchSingle(Settlements::toPayment);
    tx.update(JOB).set(JOB.PAYMENT_ID, p.paymentId()).where(JOB.JOB_ID.eq(p.jobId())).execute();
    // The escrow last: it locks the currency's escrow account, which every paid job's transaction
    // changes, so that lock is held only for the balance change and the commit. Held across more
    // round trips, it made a queue of payments after a database restart that did not drain.
    Transfers.applyNew(tx, List.of(new Move(AccountKey.client(p.clientId(), p.currency()),
        AccountKey.escrow(p.currency()), amount, TransferKind.escrow, p.paymentId(),
        Transfers.escrowKey(p.paymentId()))), now);
    if (job == JobState.COMPLETED) {
      List<StoredPayment> posted = postForCompletedJobs(tx, List.of(p.jobId()));
      if (!posted.isEmpty()) {
        return new Created(posted.getFirst(), false);
      }
    }
    return new Created(made, false);
  }

  /**
   * Pays for jobs that {@code tx} has just stored for their clients (so none has a payment or can be
   * seen by another transaction yet), together: the payments in one insert and their escrows in one
   * {@link Transfers#apply}, which changes each account's balance once for all of them. Throws
   * {@link PaymentRefused} when a payment is out of range or a client's balance does not cover all
   * of its jobs; the caller then rolls back and pays for them one by one to find which.
   */
  void createForNewJobs(DSLContext tx, List<NewPayment> made, OffsetDateTime now) {
    if (made.isEmpty()) {
      return;
    }
    int n = made.size();
    UUID[] ids = new UUID[n];
    UUID[] jobs = new UUID[n];
    String[] clients = new String[n];
    BigDecimal[] amounts = new BigDecimal[n];
    Currency[] currencies = new Currency[n];
    String[] methods = new String[n];
    Integer[] timeouts = new Integer[n];
    OffsetDateTime[] expiries = new OffsetDateTime[n];
    List<Move> moves = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      NewPayment p = made.get(i);
      ids[i] = p.paymentId();
      jobs[i] = p.jobId();
      clients[i] = p.clientId();
      amounts[i] = Money.paymentAmount(p.amount());
      currencies[i] = p.currency();
      methods[i] = p.paymentMethod();
      timeouts[i] = Money.escrowTimeout(p.escrowTimeoutSeconds());
      expiries[i] = now.plusSeconds(timeouts[i]);
      moves.add(new Move(AccountKey.client(p.clientId(), p.currency()), AccountKey.escrow(p.currency()), amounts[i],
          TransferKind.escrow, p.paymentId(), Transfers.escrowKey(p.paymentId())));
    }
    Columns c = columns;
    tx.insertInto(PAYMENT, PAYMENT.PAYMENT_ID, PAYMENT.JOB_ID, PAYMENT.CLIENT_ID, PAYMENT.AMOUNT, PAYMENT.CURRENCY,
            PAYMENT.STATUS, PAYMENT.PAYMENT_METHOD, PAYMENT.ESCROW_TIMEOUT_S, PAYMENT.EXPIRES_AT, PAYMENT.FEE_BPS,
            PAYMENT.CREATED_AT, PAYMENT.UPDATED_AT)
        .select(select(c.each(ids, PAYMENT.PAYMENT_ID), c.each(jobs, PAYMENT.JOB_ID), c.each(clients, PAYMENT.CLIENT_ID),
            c.each(amounts, PAYMENT.AMOUNT), c.each(currencies, PAYMENT.CURRENCY), val(PaymentStatus.escrowed),
            c.each(methods, PAYMENT.PAYMENT_METHOD), c.each(timeouts, PAYMENT.ESCROW_TIMEOUT_S),
            c.each(expiries, PAYMENT.EXPIRES_AT), val(feeBps), val(now), val(now)))
        .execute();
    Transfers.applyNew(tx, moves, now);
  }

  /** The statuses of these payments, by id (those not found are left out). */
  public Map<UUID, PaymentStatus> statuses(Collection<UUID> paymentIds) {
    return dsl.select(PAYMENT.PAYMENT_ID, PAYMENT.STATUS).from(PAYMENT).where(PAYMENT.PAYMENT_ID.in(paymentIds))
        .fetchMap(PAYMENT.PAYMENT_ID, PAYMENT.STATUS);
  }

  /** A client's payment. */
  public Optional<StoredPayment> find(UUID paymentId, String clientId) {
    return dsl.selectFrom(PAYMENT)
        .where(PAYMENT.PAYMENT_ID.eq(paymentId), PAYMENT.CLIENT_ID.eq(clientId))
        .fetchOptional(Settlements::toPayment);
  }

  /**
   * The latest payment for a client's job (the one the job names; once the job is retired, its live
   * or released payment, else its latest refunded one).
   */
  public Optional<StoredPayment> findByJob(UUID jobId, String clientId) {
    Optional<StoredPayment> named = dsl.select(PAYMENT.fields())
        .from(JOB)
        .join(PAYMENT).on(PAYMENT.PAYMENT_ID.eq(JOB.PAYMENT_ID))
        .where(JOB.JOB_ID.eq(jobId), PAYMENT.JOB_ID.eq(jobId), PAYMENT.CLIENT_ID.eq(clientId))
        .fetchOptional(r -> Settlements.toPayment(r.into(PAYMENT)));
    if (named.isPresent() || dsl.fetchExists(JOB, JOB.JOB_ID.eq(jobId))) {
      return named;
    }
    // Retired: at most one payment is live or released (payment_job_live_uq); any others were
    // refunded before it (payment_job_settled_idx).
    Optional<StoredPayment> live = dsl.selectFrom(PAYMENT)
        .where(PAYMENT.JOB_ID.eq(jobId), LIVE, PAYMENT.CLIENT_ID.eq(clientId))
        .fetchOptional(Settlements::toPayment);
    if (live.isPresent()) {
      return live;
    }
    return dsl.selectFrom(PAYMENT)
        .where(PAYMENT.JOB_ID.eq(jobId), PAYMENT.STATUS.in(inline(PaymentStatus.refunded), inline(PaymentStatus.failed)),
            PAYMENT.CLIENT_ID.eq(clientId))
        .orderBy(PAYMENT.CREATED_AT.desc())
        .limit(1)
        .fetchOptional(Settlements::toPayment);
  }

  /**
   * Voids a client's escrowed payment back to it. Answers a payment refunded before as it is
   * (nothing moves twice); refuses one already released ({@link Reason#SETTLED}).
   */
  public Settled refund(UUID paymentId, String clientId) {
    return Database.transaction(dsl, tx -> {
      var open = Settlements.lockOpen(tx, PAYMENT.PAYMENT_ID.eq(paymentId).and(PAYMENT.CLIENT_ID.eq(clientId)), 1,
          false);
      if (open.isEmpty()) {
        return settledBefore(tx, paymentId, clientId, PaymentStatus.refunded);
      }
      return settled(tx, issued -> Settlements.voidAll(tx, open, VoidReason.refund, JobStore.now(), issued));
    });
  }

  /**
   * Posts a client's escrowed payment to the owner of the worker that runs or ran its job, less the
   * fee. Answers a payment released before as it is; refuses one already refunded
   * ({@link Reason#SETTLED}) or whose job has not reached a worker ({@link Reason#NOT_PAYABLE}).
   */
  public Settled release(UUID paymentId, String clientId) {
    return Database.transaction(dsl, tx -> {
      var open = Settlements.lockOpen(tx, PAYMENT.PAYMENT_ID.eq(paymentId).and(PAYMENT.CLIENT_ID.eq(clientId)), 1,
          false);
      if (open.isEmpty()) {
        return settledBefore(tx, paymentId, clientId, PaymentStatus.released);
      }
      if (open.getFirst().workerOwnerId() == null) {
        throw new PaymentRefused(Reason.NOT_PAYABLE, "job " + open.getFirst().jobId()
            + " has not run on a worker: there is no one to release payment " + paymentId + " to");
      }
      return settled(tx, issued -> Settlements.post(tx, open, JobStore.now(), issued));
    });
  }

  /** The one payment that {@code settle} ends, its receipt stored last in {@code tx}. */
  private Settled settled(DSLContext tx, Function<IssuedReceipts, List<StoredPayment>> settle) {
    return new Settled(settling(tx, settle).getFirst(), true);
  }

  /** What {@code settle} ends in {@code tx}, with the receipts of those payments stored after it, last. */
  private List<StoredPayment> settling(DSLContext tx, Function<IssuedReceipts, List<StoredPayment>> settle) {
    IssuedReceipts issued = new IssuedReceipts(receipts);
    List<StoredPayment> ended = settle.apply(issued);
    issued.store(tx);
    return ended;
  }

  private static Settled settledBefore(DSLContext tx, UUID paymentId, String clientId, PaymentStatus wanted) {
    StoredPayment p = tx.selectFrom(PAYMENT)
        .where(PAYMENT.PAYMENT_ID.eq(paymentId), PAYMENT.CLIENT_ID.eq(clientId))
        .fetchOptional(Settlements::toPayment)
        .orElseThrow(() -> new PaymentRefused(Reason.NOT_FOUND, "payment " + paymentId + " not found"));
    if (p.status() == wanted) {
      return new Settled(p, false);
    }
    throw new PaymentRefused(Reason.SETTLED, "payment " + paymentId + " is already " + p.status().getLiteral()
        + (p.status() == PaymentStatus.refunded ? " (" + p.voidReason() + ")" : "") + ": it cannot be "
        + wanted.getLiteral());
  }

  /**
   * Posts the escrowed payments of jobs that {@code tx} has just completed, to the owner of the
   * worker that ran each (its session's owner, else its pinned key's), less the fee. Jobs without an
   * escrowed payment are skipped. Returns the payments released; their receipts are issued last:
   * nothing else may lock rows in {@code tx} after this.
   */
  public List<StoredPayment> postForCompletedJobs(DSLContext tx, Collection<UUID> jobIds) {
    return settling(tx, issued -> Settlements.postForJobs(tx, jobIds, JobStore.now(), issued));
  }

  /**
   * Voids the escrowed payments of jobs that {@code tx} has just failed, canceled or expired back
   * to their clients. Returns the payments refunded; their receipts are issued last, as above.
   */
  public List<StoredPayment> voidForJobs(DSLContext tx, Collection<UUID> jobIds, VoidReason reason) {
    return settling(tx, issued -> Settlements.voidForJobs(tx, jobIds, reason, JobStore.now(), issued));
  }

  /**
   * Voids up to {@code limit} escrows past their timeout back to their clients, skipping those
   * another transaction is settling; returns them. For a timer of each coordinator.
   */
  public List<StoredPayment> voidExpired(int limit) {
    return voidExpired(limit, JobStore.now());
  }

  /** {@link #voidExpired(int)} as of {@code now}. */
  List<StoredPayment> voidExpired(int limit, OffsetDateTime now) {
    return Database.transaction(dsl, tx -> {
      // Through the partial index of escrowed payments by expiry: its predicate is named plainly.
      var due = Settlements.lockOpen(tx, PAYMENT.STATUS.eq(inline(PaymentStatus.escrowed))
          .and(PAYMENT.EXPIRES_AT.le(now)), limit, true);
      return settling(tx, issued -> Settlements.voidAll(tx, due, VoidReason.timeout, now, issued));
    });
  }
}
