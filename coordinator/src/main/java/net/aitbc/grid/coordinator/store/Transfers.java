package net.aitbc.grid.coordinator.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static net.aitbc.grid.db.Tables.ACCOUNT;
import static net.aitbc.grid.db.Tables.TRANSFER;
import static org.jooq.impl.DSL.any;
import static org.jooq.impl.DSL.row;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.val;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.TransferKind;
import org.jooq.DSLContext;
import org.jooq.Record1;
import org.jooq.Row3;
import org.jooq.Table;
import org.jspecify.annotations.Nullable;

/**
 * The double-entry engine, inside a caller's transaction: each move is an immutable transfer that
 * debits one account and credits another by the same amount, and the two balances change with it.
 * Accounts are locked in the order of their ids, so that concurrent transactions never deadlock on
 * them; a move whose idempotency key is already recorded moves nothing again.
 */
final class Transfers {
  /** The owner of the escrow accounts (one per currency). */
  static final String ESCROW_OWNER = "escrow";
  /** The owner of the platform's fee accounts. */
  static final String FEE_OWNER = "platform";
  /** The owner of the accounts deposits come from. */
  static final String EXTERNAL_OWNER = "external";

  private static final Columns COLUMNS = new Columns();

  private Transfers() {}

  /**
   * An account by what it is for.
   *
   * @param ownerId a client id, or one of the platform's owners above
   * @param kind what the account is for
   * @param currency its currency
   */
  record AccountKey(String ownerId, AccountKind kind, Currency currency) {
    static AccountKey client(String clientId, Currency currency) {
      return new AccountKey(clientId, AccountKind.client, currency);
    }

    static AccountKey workerOwner(String ownerId, Currency currency) {
      return new AccountKey(ownerId, AccountKind.worker_owner, currency);
    }

    static AccountKey escrow(Currency currency) {
      return new AccountKey(ESCROW_OWNER, AccountKind.escrow, currency);
    }

    static AccountKey fee(Currency currency) {
      return new AccountKey(FEE_OWNER, AccountKind.platform_fee, currency);
    }

    static AccountKey external(Currency currency) {
      return new AccountKey(EXTERNAL_OWNER, AccountKind.external, currency);
    }
  }

  /**
   * One transfer to make.
   *
   * @param debit the account the amount leaves
   * @param credit the account it reaches, of the same currency
   * @param amount more than 0, at scale 8
   * @param kind what it is
   * @param paymentId the payment it belongs to; null only for a deposit
   * @param key its idempotency key, which also names its id
   */
  record Move(AccountKey debit, AccountKey credit, BigDecimal amount, TransferKind kind, @Nullable UUID paymentId,
      String key) {
    Move {
      if (debit.currency() != credit.currency() || amount.signum() <= 0) {
        throw new IllegalArgumentException("a transfer moves a positive amount within one currency: " + this);
      }
    }
  }

  /** A transfer's id, named by its idempotency key: a retry names the same transfer. */
  static UUID id(String key) {
    return UUID.nameUUIDFromBytes(("aitbc-grid-transfer:" + key).getBytes(UTF_8));
  }

  static String escrowKey(UUID paymentId) {
    return "escrow:" + paymentId;
  }

  static String postKey(UUID paymentId) {
    return "post:" + paymentId;
  }

  static String feeKey(UUID paymentId) {
    return "fee:" + paymentId;
  }

  static String voidKey(UUID paymentId) {
    return "void:" + paymentId;
  }

  static String depositKey(String key) {
    return "deposit:" + key;
  }

  /**
   * Makes the moves that were not made before and returns their keys. Throws {@link PaymentRefused}
   * ({@link Reason#INSUFFICIENT_FUNDS}) when an account would go below its limit: the caller's
   * transaction must then roll back, and nothing has moved.
   */
  static Set<String> apply(DSLContext tx, Collection<Move> moves, OffsetDateTime now) {
    return apply(tx, moves, now, false);
  }

  /**
   * {@link #apply} for moves that cannot have been made before (a payment's escrow in the
   * transaction that creates it; the post, fee or void of an escrow this transaction has locked and
   * settled): a plain INSERT, which skips the speculative insertion of {@code ON CONFLICT}; a
   * transfer that did exist would fail the transaction on its primary key.
   */
  static void applyNew(DSLContext tx, Collection<Move> moves, OffsetDateTime now) {
    apply(tx, moves, now, true);
  }

  private static Set<String> apply(DSLContext tx, Collection<Move> moves, OffsetDateTime now, boolean fresh) {
    if (moves.isEmpty()) {
      return Set.of();
    }
    Map<String, Move> byKey = new LinkedHashMap<>();
    Set<AccountKey> keys = new LinkedHashSet<>();
    for (Move m : moves) {
      byKey.putIfAbsent(m.key(), m);
      keys.add(m.debit());
      keys.add(m.credit());
    }
    Map<AccountKey, Long> ids = ids(tx, keys, false);
    Set<String> made = insert(tx, byKey.values(), ids, now, fresh);
    // One change per account, applied in the order of the ids (TreeMap) like the locks.
    Map<Long, BigDecimal> deltas = new TreeMap<>();
    for (String key : made) {
      Move m = byKey.get(key);
      deltas.merge(ids.get(m.debit()), m.amount().negate(), BigDecimal::add);
      deltas.merge(ids.get(m.credit()), m.amount(), BigDecimal::add);
    }
    deltas.values().removeIf(d -> d.signum() == 0);
    if (!deltas.isEmpty()) {
      // Locked only now, after the transfers' rows: the escrow and fee accounts are every paid job's,
      // and each transaction that changes them waits for the one before it to commit; the inserts
      // above only share-lock them (their foreign keys), which never waits for a balance change.
      lockIds(tx, deltas.keySet());
      changeBalances(tx, deltas, ids);
    }
    return made;
  }

  /** The ids of these accounts, created if need be, each locked against concurrent balance changes. */
  static Map<AccountKey, Long> lock(DSLContext tx, Collection<AccountKey> keys) {
    return ids(tx, keys, true);
  }

  /** The ids of these accounts, created if need be; with {@code locked}, locked in the order of the ids. */
  private static Map<AccountKey, Long> ids(DSLContext tx, Collection<AccountKey> keys, boolean locked) {
    Map<AccountKey, Long> ids = find(tx, keys, locked);
    if (ids.size() < keys.size()) {
      var insert = tx.insertInto(ACCOUNT, ACCOUNT.OWNER_ID, ACCOUNT.KIND, ACCOUNT.CURRENCY, ACCOUNT.CREDIT_LIMIT);
      for (AccountKey k : keys) {
        if (!ids.containsKey(k)) {
          insert = insert.values(k.ownerId(), k.kind(), k.currency(),
              k.kind() == AccountKind.external ? null : BigDecimal.ZERO);
        }
      }
      insert.onConflictDoNothing().execute();
      ids = find(tx, keys, locked);
    }
    return ids;
  }

  private static Map<AccountKey, Long> find(DSLContext tx, Collection<AccountKey> keys, boolean locked) {
    List<Row3<String, AccountKind, Currency>> rows = new ArrayList<>(keys.size());
    for (AccountKey k : keys) {
      rows.add(row(k.ownerId(), k.kind(), k.currency()));
    }
    Map<AccountKey, Long> ids = new HashMap<>();
    var query = tx.select(ACCOUNT.ACCOUNT_ID, ACCOUNT.OWNER_ID, ACCOUNT.KIND, ACCOUNT.CURRENCY)
        .from(ACCOUNT)
        .where(row(ACCOUNT.OWNER_ID, ACCOUNT.KIND, ACCOUNT.CURRENCY).in(rows))
        .orderBy(ACCOUNT.ACCOUNT_ID);
    (locked ? query.forNoKeyUpdate() : query)
        .forEach(r -> ids.put(new AccountKey(r.value2(), r.value3(), r.value4()), r.value1()));
    return ids;
  }

  /** Locks these accounts against concurrent balance changes, in the order of their ids. */
  private static void lockIds(DSLContext tx, Collection<Long> accountIds) {
    tx.select(ACCOUNT.ACCOUNT_ID)
        .from(ACCOUNT)
        .where(ACCOUNT.ACCOUNT_ID.eq(any(accountIds.toArray(Long[]::new))))
        .orderBy(ACCOUNT.ACCOUNT_ID)
        .forNoKeyUpdate()
        .execute();
  }

  private static Set<String> insert(DSLContext tx, Collection<Move> moves, Map<AccountKey, Long> ids,
      OffsetDateTime now, boolean fresh) {
    int n = moves.size();
    UUID[] transferIds = new UUID[n];
    Long[] debits = new Long[n];
    Long[] credits = new Long[n];
    Currency[] currencies = new Currency[n];
    BigDecimal[] amounts = new BigDecimal[n];
    TransferKind[] kinds = new TransferKind[n];
    UUID[] payments = new UUID[n];
    String[] keys = new String[n];
    int i = 0;
    for (Move m : moves) {
      transferIds[i] = id(m.key());
      debits[i] = ids.get(m.debit());
      credits[i] = ids.get(m.credit());
      currencies[i] = m.debit().currency();
      amounts[i] = m.amount();
      kinds[i] = m.kind();
      payments[i] = m.paymentId();
      keys[i] = m.key();
      i++;
    }
    Columns c = COLUMNS;
    var insert = tx.insertInto(TRANSFER, TRANSFER.TRANSFER_ID, TRANSFER.DEBIT_ACCOUNT_ID, TRANSFER.CREDIT_ACCOUNT_ID,
            TRANSFER.CURRENCY, TRANSFER.AMOUNT, TRANSFER.KIND, TRANSFER.PAYMENT_ID, TRANSFER.IDEMPOTENCY_KEY,
            TRANSFER.CREATED_AT)
        .select(select(c.each(transferIds, TRANSFER.TRANSFER_ID), c.each(debits, TRANSFER.DEBIT_ACCOUNT_ID),
            c.each(credits, TRANSFER.CREDIT_ACCOUNT_ID), c.each(currencies, TRANSFER.CURRENCY),
            c.each(amounts, TRANSFER.AMOUNT), c.each(kinds, TRANSFER.KIND), c.each(payments, TRANSFER.PAYMENT_ID),
            c.each(keys, TRANSFER.IDEMPOTENCY_KEY), val(now, TRANSFER.CREATED_AT)));
    if (fresh) {
      insert.execute();
      return new LinkedHashSet<>(Arrays.asList(keys));
    }
    return insert
        .onConflict(TRANSFER.TRANSFER_ID)
        .doNothing()
        .returningResult(TRANSFER.IDEMPOTENCY_KEY)
        .fetchSet(Record1::value1);
  }

  /** Adds each delta to its account's balance unless that would take it below its limit. */
  private static void changeBalances(DSLContext tx, Map<Long, BigDecimal> deltas, Map<AccountKey, Long> ids) {
    Long[] accountIds = deltas.keySet().toArray(Long[]::new);
    BigDecimal[] changes = deltas.values().toArray(BigDecimal[]::new);
    Table<?> d = select(COLUMNS.each(accountIds, ACCOUNT.ACCOUNT_ID).as(ACCOUNT.ACCOUNT_ID),
        COLUMNS.each(changes, ACCOUNT.BALANCE).as(ACCOUNT.BALANCE)).asTable("delta");
    var newBalance = ACCOUNT.BALANCE.plus(d.field(ACCOUNT.BALANCE));
    Set<Long> changed = tx.update(ACCOUNT)
        .set(ACCOUNT.BALANCE, newBalance)
        .from(d)
        .where(ACCOUNT.ACCOUNT_ID.eq(d.field(ACCOUNT.ACCOUNT_ID)),
            ACCOUNT.CREDIT_LIMIT.isNull().or(newBalance.ge(ACCOUNT.CREDIT_LIMIT.neg())))
        .returningResult(ACCOUNT.ACCOUNT_ID)
        .fetchSet(Record1::value1);
    if (changed.size() == deltas.size()) {
      return;
    }
    for (Map.Entry<AccountKey, Long> e : ids.entrySet()) {
      if (deltas.containsKey(e.getValue()) && !changed.contains(e.getValue())) {
        throw insufficient(tx, e.getKey(), e.getValue(), deltas.get(e.getValue()).negate());
      }
    }
    throw new IllegalStateException("balances changed for " + changed + " of " + deltas.keySet());
  }

  private static PaymentRefused insufficient(DSLContext tx, AccountKey key, long accountId, BigDecimal needed) {
    var r = tx.select(ACCOUNT.BALANCE, ACCOUNT.CREDIT_LIMIT).from(ACCOUNT).where(ACCOUNT.ACCOUNT_ID.eq(accountId))
        .fetchSingle();
    BigDecimal limit = r.value2() == null ? BigDecimal.ZERO : r.value2();
    return new PaymentRefused(Reason.INSUFFICIENT_FUNDS, "insufficient funds: " + key.ownerId() + "'s "
        + key.currency().getLiteral() + " balance is " + plain(r.value1())
        + (limit.signum() > 0 ? " with a credit limit of " + plain(limit) : "") + ", and " + plain(needed)
        + " is needed");
  }

  static String plain(BigDecimal amount) {
    return amount.stripTrailingZeros().toPlainString();
  }
}
