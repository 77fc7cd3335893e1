package net.aitbc.grid.coordinator.testing;

import static net.aitbc.grid.db.Tables.ACCOUNT;
import static net.aitbc.grid.db.Tables.LEDGER_ISSUED;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.TRANSFER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.TransferKind;
import net.aitbc.grid.db.tables.records.AccountRecord;
import net.aitbc.grid.db.tables.records.PaymentRecord;
import net.aitbc.grid.db.tables.records.ReceiptRecord;
import net.aitbc.grid.db.tables.records.TransferRecord;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.PaymentReceipts;
import org.jooq.DSLContext;

/**
 * The money invariants every payment test ends with (DESIGN.md §8): per currency, the balances of
 * the grid's accounts sum to the deposits (and the external account holds minus that); no balance
 * is below its limit; every balance is its transfers' credits minus debits; every escrow ended in
 * exactly one of released (post + fee = amount) and refunded (void = amount), or is still open and
 * not past its timeout; escrow accounts hold exactly the open escrows; every transfer names accounts
 * of its currency and its payment. And the payments' receipts
 * (DESIGN.md §7; the coordinators under test sign): every released or refunded payment has exactly
 * one, which says what happened to it, an open one has none, and the ledger's leaves stay dense.
 */
public final class PaymentInvariants {
  private PaymentInvariants() {}

  /** Checks them all as of now. */
  public static void check(DSLContext dsl) {
    check(dsl, OffsetDateTime.now());
  }

  /** Checks them all, with open escrows due after {@code now}. */
  public static void check(DSLContext dsl, OffsetDateTime now) {
    List<AccountRecord> accounts = dsl.selectFrom(ACCOUNT).fetch();
    List<TransferRecord> transfers = dsl.selectFrom(TRANSFER).fetch();
    List<PaymentRecord> payments = dsl.selectFrom(PAYMENT).fetch();
    Map<UUID, List<ReceiptRecord>> receipts = new HashMap<>();
    dsl.selectFrom(RECEIPT).where(RECEIPT.PAYMENT_ID.isNotNull()).fetch()
        .forEach(r -> receipts.computeIfAbsent(r.getPaymentId(), k -> new ArrayList<>()).add(r));

    Map<Long, BigDecimal> fromTransfers = new HashMap<>();
    Map<Currency, BigDecimal> deposits = new EnumMap<>(Currency.class);
    Map<UUID, List<TransferRecord>> byPayment = new HashMap<>();
    for (TransferRecord t : transfers) {
      assertThat(t.getAmount().signum()).as("transfer %s amount", t.getTransferId()).isPositive();
      fromTransfers.merge(t.getDebitAccountId(), t.getAmount().negate(), BigDecimal::add);
      fromTransfers.merge(t.getCreditAccountId(), t.getAmount(), BigDecimal::add);
      if (t.getKind() == TransferKind.deposit) {
        deposits.merge(t.getCurrency(), t.getAmount(), BigDecimal::add);
      } else {
        byPayment.computeIfAbsent(t.getPaymentId(), k -> new ArrayList<>()).add(t);
      }
    }

    checkReferences(dsl, transfers);

    Map<Currency, BigDecimal> held = new EnumMap<>(Currency.class);
    Map<Currency, BigDecimal> external = new EnumMap<>(Currency.class);
    Map<Currency, BigDecimal> escrow = new EnumMap<>(Currency.class);
    for (AccountRecord a : accounts) {
      String what = a.getKind() + " account of " + a.getOwnerId() + " in " + a.getCurrency();
      assertThat(a.getBalance()).as("%s: balance against its transfers", what)
          .isEqualByComparingTo(fromTransfers.getOrDefault(a.getAccountId(), BigDecimal.ZERO));
      if (a.getCreditLimit() != null) {
        assertThat(a.getBalance()).as("%s: balance within its limit", what)
            .isGreaterThanOrEqualTo(a.getCreditLimit().negate());
      }
      if (a.getKind() == AccountKind.external) {
        external.merge(a.getCurrency(), a.getBalance(), BigDecimal::add);
      } else {
        held.merge(a.getCurrency(), a.getBalance(), BigDecimal::add);
      }
      if (a.getKind() == AccountKind.escrow) {
        escrow.merge(a.getCurrency(), a.getBalance(), BigDecimal::add);
      }
    }
    for (Currency c : Currency.values()) {
      BigDecimal deposited = deposits.getOrDefault(c, BigDecimal.ZERO);
      assertThat(held.getOrDefault(c, BigDecimal.ZERO)).as("balances in %s against deposits", c)
          .isEqualByComparingTo(deposited);
      assertThat(external.getOrDefault(c, BigDecimal.ZERO)).as("external account in %s", c)
          .isEqualByComparingTo(deposited.negate());
    }

    Map<Currency, BigDecimal> open = new EnumMap<>(Currency.class);
    for (PaymentRecord p : payments) {
      checkPayment(p, byPayment.getOrDefault(p.getPaymentId(), List.of()), now);
      checkReceipt(p, receipts.getOrDefault(p.getPaymentId(), List.of()));
      if (p.getStatus() == PaymentStatus.escrowed) {
        open.merge(p.getCurrency(), p.getAmount(), BigDecimal::add);
      }
    }
    for (Currency c : Currency.values()) {
      assertThat(escrow.getOrDefault(c, BigDecimal.ZERO)).as("escrow in %s against open escrows", c)
          .isEqualByComparingTo(open.getOrDefault(c, BigDecimal.ZERO));
    }
    // Leaves are dense: indexes 0 to n-1 (the primary key makes them distinct), n as issued.
    var leaves = dsl.select(count(), min(RECEIPT.LEAF_IDX), max(RECEIPT.LEAF_IDX)).from(RECEIPT).fetchSingle();
    long issued = dsl.select(LEDGER_ISSUED.LEAVES).from(LEDGER_ISSUED).fetchSingle().value1();
    assertThat(issued).as("leaves issued against receipts stored").isEqualTo(leaves.value1().longValue());
    if (issued > 0) {
      assertThat(List.of(leaves.value2(), leaves.value3())).as("first and last leaf index")
          .containsExactly(0L, issued - 1);
    }
  }

  /**
   * Every transfer names an account of its currency on both sides and, unless a deposit, a payment
   * that exists (the schema no longer checks these row by row: V18). Read after the transfers, so
   * that what they name was committed before.
   */
  private static void checkReferences(DSLContext dsl, List<TransferRecord> transfers) {
    Map<Long, Currency> currencies = dsl.select(ACCOUNT.ACCOUNT_ID, ACCOUNT.CURRENCY).from(ACCOUNT)
        .fetchMap(ACCOUNT.ACCOUNT_ID, ACCOUNT.CURRENCY);
    Set<UUID> payments = dsl.select(PAYMENT.PAYMENT_ID).from(PAYMENT).fetchSet(PAYMENT.PAYMENT_ID);
    for (TransferRecord t : transfers) {
      String what = "transfer " + t.getTransferId() + " (" + t.getKind() + ")";
      assertThat(currencies.get(t.getDebitAccountId())).as("%s: its debit account's currency", what)
          .isEqualTo(t.getCurrency());
      assertThat(currencies.get(t.getCreditAccountId())).as("%s: its credit account's currency", what)
          .isEqualTo(t.getCurrency());
      if (t.getKind() != TransferKind.deposit) {
        assertThat(payments).as("%s: its payment", what).contains(t.getPaymentId());
      }
    }
  }

  /** A settled payment has exactly one receipt, saying what happened to it; an open one has none. */
  private static void checkReceipt(PaymentRecord p, List<ReceiptRecord> rs) {
    String what = "payment " + p.getPaymentId() + " (" + p.getStatus() + ")";
    if (p.getStatus() != PaymentStatus.released && p.getStatus() != PaymentStatus.refunded) {
      assertThat(rs).as("%s: receipts", what).isEmpty();
      return;
    }
    assertThat(rs).as("%s: receipts", what).hasSize(1);
    ReceiptRecord r = rs.getFirst();
    JsonNode body = CanonicalJson.parse(r.getBody());
    assertThat(r.getJobId()).as("%s: receipt's job", what).isEqualTo(p.getJobId());
    assertThat(r.getClientId()).as("%s: receipt's client", what).isEqualTo(p.getClientId());
    assertThat(body.path("type").asText()).as("%s: receipt's type", what).isEqualTo(PaymentReceipts.TYPE);
    assertThat(body.path("payment_id").asText()).as("%s: receipt's payment", what)
        .isEqualTo(JobIds.format(p.getPaymentId()));
    assertThat(body.path("status").asText()).as("%s: receipt's status", what).isEqualTo(p.getStatus().getLiteral());
    assertThat(body.path("amount").asText()).as("%s: receipt's amount", what)
        .isEqualTo(PaymentReceipts.amount(p.getAmount()));
    BigDecimal fee = p.getStatus() == PaymentStatus.released ? p.getFeeAmount() : BigDecimal.ZERO;
    assertThat(body.path("fee").asText()).as("%s: receipt's fee", what).isEqualTo(PaymentReceipts.amount(fee));
  }

  private static void checkPayment(PaymentRecord p, List<TransferRecord> ts, OffsetDateTime now) {
    String what = "payment " + p.getPaymentId() + " (" + p.getStatus() + ")";
    Map<TransferKind, BigDecimal> sums = new EnumMap<>(TransferKind.class);
    Map<TransferKind, Integer> counts = new EnumMap<>(TransferKind.class);
    for (TransferRecord t : ts) {
      assertThat(t.getCurrency()).as("%s: currency of its transfers", what).isEqualTo(p.getCurrency());
      sums.merge(t.getKind(), t.getAmount(), BigDecimal::add);
      counts.merge(t.getKind(), 1, Integer::sum);
    }
    int escrows = counts.getOrDefault(TransferKind.escrow, 0);
    int posts = counts.getOrDefault(TransferKind.post, 0);
    int fees = counts.getOrDefault(TransferKind.fee, 0);
    int voids = counts.getOrDefault(TransferKind.void_, 0);
    switch (p.getStatus()) {
      case pending, failed -> assertThat(ts).as("%s: moved nothing", what).isEmpty();
      case escrowed -> {
        assertThat(List.of(escrows, posts, fees, voids)).as("%s: escrow, post, fee, void", what)
            .containsExactly(1, 0, 0, 0);
        assertThat(p.getExpiresAt()).as("%s: open but past its timeout", what).isAfter(now);
      }
      case released -> {
        assertThat(List.of(escrows, posts, voids)).as("%s: escrow, post, void", what).containsExactly(1, 1, 0);
        assertThat(fees).as("%s: fees", what).isLessThanOrEqualTo(1);
        BigDecimal fee = sums.getOrDefault(TransferKind.fee, BigDecimal.ZERO);
        assertThat(sums.get(TransferKind.post).add(fee)).as("%s: post + fee", what).isEqualByComparingTo(p.getAmount());
        assertThat(p.getFeeAmount()).as("%s: fee recorded", what).isEqualByComparingTo(fee);
      }
      case refunded -> {
        assertThat(List.of(escrows, posts, fees, voids)).as("%s: escrow, post, fee, void", what)
            .containsExactly(1, 0, 0, 1);
        assertThat(sums.get(TransferKind.void_)).as("%s: void", what).isEqualByComparingTo(p.getAmount());
      }
    }
    if (escrows == 1) {
      assertThat(sums.get(TransferKind.escrow)).as("%s: escrowed amount", what).isEqualByComparingTo(p.getAmount());
    }
  }
}
