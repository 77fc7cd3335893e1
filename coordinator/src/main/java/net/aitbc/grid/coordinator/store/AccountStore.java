package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.ACCOUNT;
import static net.aitbc.grid.db.Tables.TRANSFER;
import static org.jooq.impl.DSL.inline;

import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.coordinator.store.Transfers.AccountKey;
import net.aitbc.grid.coordinator.store.Transfers.Move;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.TransferKind;
import net.aitbc.grid.db.tables.Account;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;

/** Owners' accounts: an admin's deposits and credit limits; balances and transfers as owners read them. */
public final class AccountStore {
  private static final int MAX_KEY = 200;
  /**
   * The only transfers that debit or credit an owner's (client or worker_owner) account, named in the
   * query so that it can use the partial indexes of exactly those (V15).
   */
  private static final Condition OWNER_DEBITS = TRANSFER.KIND.eq(inline(TransferKind.escrow));
  private static final Condition OWNER_CREDITS = TRANSFER.KIND.in(inline(TransferKind.deposit),
      inline(TransferKind.post), inline(TransferKind.void_));

  private final DSLContext dsl;

  /** A store over this database. */
  public AccountStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * What a deposit did.
   *
   * @param transferId the deposit's transfer
   * @param balance the client account's balance after it
   * @param repeated whether this key was deposited before: nothing moved this time
   */
  public record Deposited(UUID transferId, BigDecimal balance, boolean repeated) {}

  /**
   * Credits a client's account from outside the grid (an admin's deposit). The same {@code key}
   * again moves nothing and answers the same transfer; with a different owner, amount or currency it
   * is refused ({@link Reason#CONFLICT}). A null key makes a deposit that cannot be retried.
   */
  public Deposited deposit(String clientId, BigDecimal amount, Currency currency, @Nullable String key) {
    BigDecimal value = Money.depositAmount(amount);
    String owner = owner(clientId);
    if (key != null && (key.isBlank() || key.length() > MAX_KEY || key.indexOf('\0') >= 0)) {
      throw new PaymentRefused(Reason.INVALID, "the idempotency key must be 1 to " + MAX_KEY
          + " characters without NUL");
    }
    String k = Transfers.depositKey(key == null ? UUID.randomUUID().toString() : key);
    AccountKey account = AccountKey.client(owner, currency);
    return Database.transaction(dsl, tx -> {
      boolean made = !Transfers.apply(tx, List.of(new Move(AccountKey.external(currency), account, value,
          TransferKind.deposit, null, k)), JobStore.now()).isEmpty();
      if (!made) {
        var before = tx.select(TRANSFER.AMOUNT, TRANSFER.CURRENCY, ACCOUNT.OWNER_ID)
            .from(TRANSFER).join(ACCOUNT).on(ACCOUNT.ACCOUNT_ID.eq(TRANSFER.CREDIT_ACCOUNT_ID))
            .where(TRANSFER.TRANSFER_ID.eq(Transfers.id(k)))
            .fetchSingle();
        if (before.value1().compareTo(value) != 0 || before.value2() != currency || !before.value3().equals(owner)) {
          throw new PaymentRefused(Reason.CONFLICT, "idempotency key " + key + " was used for a deposit of "
              + Transfers.plain(before.value1()) + " " + before.value2().getLiteral() + " to " + before.value3());
        }
      }
      BigDecimal balance = tx.select(ACCOUNT.BALANCE).from(ACCOUNT)
          .where(ACCOUNT.OWNER_ID.eq(owner), ACCOUNT.KIND.eq(inline(AccountKind.client)),
              ACCOUNT.CURRENCY.eq(currency))
          .fetchSingle(r -> r.value1());
      return new Deposited(Transfers.id(k), balance, !made);
    });
  }

  /**
   * Lets a client's account go down to minus {@code limit} (an admin's decision; 0 by default) and
   * returns the account afterwards. Refused, changing nothing, when the balance is already lower.
   */
  public AccountBalance setCreditLimit(String clientId, Currency currency, BigDecimal limit) {
    BigDecimal value = Money.creditLimit(limit);
    AccountKey account = AccountKey.client(owner(clientId), currency);
    return Database.transaction(dsl, tx -> {
      long id = Transfers.lock(tx, List.of(account)).get(account);
      BigDecimal balance = tx.select(ACCOUNT.BALANCE).from(ACCOUNT).where(ACCOUNT.ACCOUNT_ID.eq(id))
          .fetchSingle(r -> r.value1());
      if (balance.compareTo(value.negate()) < 0) {
        throw new PaymentRefused(Reason.INSUFFICIENT_FUNDS, "the balance of " + clientId + " is "
            + Transfers.plain(balance) + " " + currency.getLiteral() + ", below minus the credit limit asked for ("
            + Transfers.plain(value) + "); it stays as it is");
      }
      tx.update(ACCOUNT).set(ACCOUNT.CREDIT_LIMIT, value).where(ACCOUNT.ACCOUNT_ID.eq(id)).execute();
      return new AccountBalance(AccountKind.client, currency, balance, value);
    });
  }

  /** An owner's accounts (what it pays from, what its workers earned), by kind and currency. */
  public List<AccountBalance> balances(String ownerId) {
    return dsl.select(ACCOUNT.KIND, ACCOUNT.CURRENCY, ACCOUNT.BALANCE, ACCOUNT.CREDIT_LIMIT)
        .from(ACCOUNT)
        .where(ACCOUNT.OWNER_ID.eq(ownerId), ACCOUNT.KIND.in(AccountKind.client, AccountKind.worker_owner))
        .orderBy(ACCOUNT.KIND, ACCOUNT.CURRENCY)
        .fetch(r -> new AccountBalance(r.value1(), r.value2(), r.value3(), r.value4()));
  }

  /** A page of an owner's transfers, newest first. */
  public List<TransferEntry> transfers(String ownerId, long offset, int limit) {
    Account mine = ACCOUNT.as("mine");
    var owned = mine.OWNER_ID.eq(ownerId).and(mine.KIND.in(AccountKind.client, AccountKind.worker_owner));
    return dsl.select(TRANSFER.TRANSFER_ID, TRANSFER.KIND, TRANSFER.CURRENCY, TRANSFER.AMOUNT,
            TRANSFER.CREDIT_ACCOUNT_ID.eq(mine.ACCOUNT_ID), mine.KIND, TRANSFER.PAYMENT_ID, TRANSFER.CREATED_AT)
        .from(TRANSFER)
        .join(mine).on(mine.ACCOUNT_ID.eq(TRANSFER.DEBIT_ACCOUNT_ID).and(OWNER_DEBITS)
            .or(mine.ACCOUNT_ID.eq(TRANSFER.CREDIT_ACCOUNT_ID).and(OWNER_CREDITS)))
        .where(owned)
        .orderBy(TRANSFER.CREATED_AT.desc(), TRANSFER.TRANSFER_ID.desc())
        .offset(offset)
        .limit(limit)
        .fetch(r -> new TransferEntry(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(), r.value6(),
            r.value7(), r.value8()));
  }

  private static String owner(String clientId) {
    if (clientId.isBlank() || clientId.length() > MAX_KEY) {
      throw new PaymentRefused(Reason.INVALID, "client_id must be 1 to " + MAX_KEY + " characters");
    }
    return clientId;
  }
}
