package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.ACCOUNT;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.TRANSFER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.ledger.ReceiptBodies;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.coordinator.store.PaymentStore.Created;
import net.aitbc.grid.coordinator.store.PaymentStore.Settled;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.TransferKind;
import net.aitbc.grid.db.enums.VoidReason;
import net.aitbc.grid.ledger.CanonicalJson;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Payments on real PostgreSQL: escrow, post, void, idempotency, limits; the money invariants after each test. */
class PaymentStoreIT {
  static final int FEE_BPS = 250;
  private static TestDatabase db;
  private static HikariDataSource pool;
  private static DSLContext dsl;
  private static Stores stores;
  private static PaymentStore payments;
  private static AccountStore accounts;

  @BeforeAll
  static void open() {
    db = TestDatabase.create();
    pool = Database.pool(db.url(), null, null, 12);
    Database.migrate(pool);
    dsl = Database.dsl(pool);
    // Receipts as a coordinator with a signing key issues them: each settled payment must get one.
    ReceiptBodies receipts = new ReceiptBodies();
    stores = Stores.over(dsl, receipts);
    payments = new PaymentStore(dsl, FEE_BPS, receipts);
    accounts = new AccountStore(dsl);
  }

  @AfterAll
  static void close() {
    pool.close();
    db.close();
  }

  @AfterEach
  void moneyAddsUp() {
    PaymentInvariants.check(dsl);
  }

  /** A fresh client id with {@code funds} AITBC deposited (none if null). */
  static String client(String funds) {
    String c = "client-" + UUID.randomUUID();
    if (funds != null) {
      accounts.deposit(c, new BigDecimal(funds), Currency.AITBC, "fund-" + c);
    }
    return c;
  }

  /** Jobs of {@code client}, running on a session of a worker owned by {@code owner} (queued if owner is null). */
  static List<UUID> jobs(String client, String owner, int n) {
    NewJob.Placement placement = null;
    if (owner != null) {
      UUID session = UUID.randomUUID();
      stores.sessions().open(session, "w-" + owner, owner, "{}", java.time.Duration.ofHours(1));
      placement = new NewJob.Placement(session, "w-" + owner);
    }
    List<NewJob> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(new NewJob(new JobIds().next(), client, null, "noop", null, "{}", Requirements.NONE, 5, 0, 1,
          Duration.ofHours(1), Duration.ofMinutes(5), placement));
    }
    return stores.jobs().insert(jobs).stream().map(s -> s.job().jobId()).toList();
  }

  static UUID job(String client, String owner) {
    return jobs(client, owner, 1).getFirst();
  }

  static NewPayment payment(UUID job, String client, String amount) {
    return new NewPayment(UUID.randomUUID(), job, client, new BigDecimal(amount), Currency.AITBC, "aitbc_token", 3600);
  }

  static BigDecimal balance(String owner, AccountKind kind) {
    return accounts.balances(owner).stream().filter(b -> b.kind() == kind && b.currency() == Currency.AITBC)
        .map(AccountBalance::balance).findFirst().orElse(BigDecimal.ZERO);
  }

  static List<StoredPayment> post(UUID job) {
    return Database.transaction(dsl, tx -> payments.postForCompletedJobs(tx, List.of(job)));
  }

  /** The body of the payment's receipt; there must be exactly one. */
  static JsonNode receiptOf(UUID paymentId) {
    assertThat(dsl.fetchCount(RECEIPT, RECEIPT.PAYMENT_ID.eq(paymentId))).as("receipts of %s", paymentId).isOne();
    return CanonicalJson.parse(stores.receipts().byPayment(paymentId, null).orElseThrow().body());
  }

  @Test
  void aDepositWithTheSameKeyCountsOnce() {
    String c = client(null);
    var first = accounts.deposit(c, new BigDecimal("10.5"), Currency.BTC, "k-" + c);
    var again = accounts.deposit(c, new BigDecimal("10.5"), Currency.BTC, "k-" + c);
    assertThat(first.repeated()).isFalse();
    assertThat(again.repeated()).isTrue();
    assertThat(again.transferId()).isEqualTo(first.transferId());
    assertThat(again.balance()).isEqualByComparingTo("10.5");
    assertThatThrownBy(() -> accounts.deposit(c, new BigDecimal("11"), Currency.BTC, "k-" + c))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> assertThat(e.reason()).isEqualTo(Reason.CONFLICT));
    assertThat(accounts.transfers(c, 0, 10)).singleElement().satisfies(t -> {
      assertThat(t.credit()).isTrue();
      assertThat(t.amount()).isEqualByComparingTo("10.5");
    });
  }

  @Test
  void payingMovesTheAmountIntoEscrowOnceAndTheJobNamesThePayment() {
    String c = client("10");
    UUID job = job(c, null);
    NewPayment p = payment(job, c, "2.5");
    Created first = payments.create(p);
    Created retry = payments.create(new NewPayment(UUID.randomUUID(), job, c, new BigDecimal("2.50000000"),
        Currency.AITBC, "aitbc_token", 3600));
    assertThat(first.existing()).isFalse();
    assertThat(first.payment().status()).isEqualTo(PaymentStatus.escrowed);
    assertThat(retry.existing()).isTrue();
    assertThat(retry.payment().paymentId()).isEqualTo(p.paymentId());
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("7.5");
    assertThat(dsl.select(JOB.PAYMENT_ID).from(JOB).where(JOB.JOB_ID.eq(job)).fetchSingle().value1())
        .isEqualTo(p.paymentId());
    assertThat(payments.findByJob(job, c)).get().extracting(StoredPayment::paymentId).isEqualTo(p.paymentId());
    assertThatThrownBy(() -> payments.create(payment(job, c, "3")))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> assertThat(e.reason()).isEqualTo(Reason.CONFLICT));
  }

  @Test
  void notEnoughFundsMovesNothing() {
    String c = client("1");
    UUID job = job(c, null);
    long transfers = dsl.fetchCount(TRANSFER);
    assertThatThrownBy(() -> payments.create(payment(job, c, "1.00000001")))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.INSUFFICIENT_FUNDS);
          assertThat(e.getMessage()).contains("balance is 1").contains("1.00000001 is needed");
        });
    assertThat(dsl.fetchCount(TRANSFER)).isEqualTo(transfers);
    assertThat(dsl.fetchCount(PAYMENT, PAYMENT.JOB_ID.eq(job))).isZero();
    assertThat(dsl.select(JOB.PAYMENT_ID).from(JOB).where(JOB.JOB_ID.eq(job)).fetchSingle().value1()).isNull();
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("1");
    // A client without any account cannot pay either.
    String poor = client(null);
    UUID other = job(poor, null);
    assertThatThrownBy(() -> payments.create(payment(other, poor, "0.01")))
        .isInstanceOfSatisfying(PaymentRefused.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.INSUFFICIENT_FUNDS));
  }

  @Test
  void aCreditLimitLetsABalanceGoThatFarBelowZeroAndNoFurther() {
    String c = client(null);
    accounts.setCreditLimit(c, Currency.AITBC, new BigDecimal("5"));
    payments.create(payment(job(c, null), c, "4"));
    assertThatThrownBy(() -> payments.create(payment(job(c, null), c, "1.5")))
        .isInstanceOfSatisfying(PaymentRefused.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.INSUFFICIENT_FUNDS));
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("-4");
    // A limit the balance is already past is refused, and the old one stays.
    assertThatThrownBy(() -> accounts.setCreditLimit(c, Currency.AITBC, new BigDecimal("3")))
        .isInstanceOfSatisfying(PaymentRefused.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.INSUFFICIENT_FUNDS))
        .hasMessageContaining("is -4 AITBC");
    assertThat(accounts.setCreditLimit(c, Currency.AITBC, new BigDecimal("4")).creditLimit()).isEqualByComparingTo("4");
  }

  @Test
  void completionPostsToTheWorkersOwnerLessTheFeeOnce() {
    String c = client("100");
    String owner = "owner-" + UUID.randomUUID();
    UUID job = job(c, owner);
    UUID pid = payments.create(payment(job, c, "10")).payment().paymentId();
    List<StoredPayment> posted = post(job);
    assertThat(posted).singleElement().satisfies(p -> {
      assertThat(p.status()).isEqualTo(PaymentStatus.released);
      assertThat(p.workerOwnerId()).isEqualTo(owner);
      assertThat(p.feeAmount()).isEqualByComparingTo("0.25");
      assertThat(p.settlementTransferId()).isNotNull();
    });
    assertThat(post(job)).isEmpty();
    assertThat(balance(owner, AccountKind.worker_owner)).isEqualByComparingTo("9.75");
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("90");
    assertThat(payments.release(pid, c).changed()).isFalse();
    assertThatThrownBy(() -> payments.refund(pid, c))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.SETTLED);
          assertThat(e.getMessage()).contains("already released");
        });
    // One receipt, however often it was posted or released again; exact amounts, no job receipt yet.
    JsonNode receipt = receiptOf(pid);
    assertThat(receipt.get("status").asText()).isEqualTo("released");
    assertThat(receipt.get("amount").asText()).isEqualTo("10.00000000");
    assertThat(receipt.get("fee").asText()).isEqualTo("0.25000000");
    assertThat(receipt.get("worker_owner").asText()).isEqualTo(owner);
    assertThat(receipt.get("provider").asText()).isEqualTo("w-" + owner);
    assertThat(receipt.has("job_receipt_id")).isFalse();
    assertThat(receipt.get("transfer_id").asText()).isEqualTo(JobIds.format(posted.getFirst().settlementTransferId()));
    // The owner's earnings: released net of the fee, and what a job its worker runs holds in escrow.
    payments.create(payment(job(c, owner), c, "3"));
    EarningsStore.Earnings earned = new EarningsStore(dsl).of(owner, null, null, null, 10);
    assertThat(earned.totals()).singleElement().satisfies(t -> {
      assertThat(t.earned()).isEqualByComparingTo("9.75");
      assertThat(t.pending()).isEqualByComparingTo("3");
      assertThat(t.completedJobs()).isOne();
    });
    assertThat(earned.history()).singleElement().extracting(StoredPayment::workerId).isEqualTo("w-" + owner);
    assertThat(new EarningsStore(dsl).of(owner, "another-worker", null, null, 10).history()).isEmpty();
  }

  @Test
  void payingForACompletedJobReleasesAtOnce() {
    String c = client("5");
    String owner = "owner-" + UUID.randomUUID();
    UUID job = job(c, owner);
    dsl.update(JOB).set(JOB.STATE, JobState.COMPLETED).where(JOB.JOB_ID.eq(job)).execute();
    Created made = payments.create(payment(job, c, "1"));
    assertThat(made.payment().status()).isEqualTo(PaymentStatus.released);
    assertThat(balance(owner, AccountKind.worker_owner)).isEqualByComparingTo("0.975");
  }

  @Test
  void refundReturnsTheEscrowOnceAndThenNoReleaseHappens() {
    String c = client("3");
    UUID job = job(c, "owner-" + UUID.randomUUID());
    UUID pid = payments.create(payment(job, c, "3")).payment().paymentId();
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("0");
    Settled refunded = payments.refund(pid, c);
    assertThat(refunded.changed()).isTrue();
    assertThat(refunded.payment().voidReason()).isEqualTo(VoidReason.refund);
    assertThat(payments.refund(pid, c).changed()).isFalse();
    JsonNode receipt = receiptOf(pid);
    assertThat(receipt.get("status").asText()).isEqualTo("refunded");
    assertThat(receipt.get("void_reason").asText()).isEqualTo("refund");
    assertThat(receipt.get("fee").asText()).isEqualTo("0.00000000");
    assertThat(receipt.has("worker_owner")).isFalse();
    assertThat(post(job)).isEmpty();
    assertThatThrownBy(() -> payments.release(pid, c))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> assertThat(e.reason()).isEqualTo(Reason.SETTLED));
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("3");
    // After a refund the job may be paid for again.
    assertThat(payments.create(payment(job, c, "1")).existing()).isFalse();
  }

  @Test
  void anotherClientsJobOrPaymentIsNotFound() {
    String c = client("3");
    String other = client("3");
    UUID job = job(c, "owner-" + UUID.randomUUID());
    assertThatThrownBy(() -> payments.create(payment(job, other, "1")))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
    UUID pid = payments.create(payment(job, c, "1")).payment().paymentId();
    assertThat(payments.find(pid, other)).isEmpty();
    assertThat(payments.findByJob(job, other)).isEmpty();
    for (var call : List.<Runnable>of(() -> payments.refund(pid, other), () -> payments.release(pid, other))) {
      assertThatThrownBy(call::run)
          .isInstanceOfSatisfying(PaymentRefused.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
    }
    assertThat(balance(other, AccountKind.client)).isEqualByComparingTo("3");
  }

  @Test
  void releaseNeedsAWorkerAndAFinishedJobCannotBePaidFor() {
    String c = client("3");
    UUID queued = job(c, null);
    UUID pid = payments.create(payment(queued, c, "1")).payment().paymentId();
    assertThatThrownBy(() -> payments.release(pid, c))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_PAYABLE));
    UUID failed = job(c, null);
    dsl.update(JOB).set(JOB.STATE, JobState.FAILED).where(JOB.JOB_ID.eq(failed)).execute();
    assertThatThrownBy(() -> payments.create(payment(failed, c, "1")))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_PAYABLE));
  }

  @Test
  void cancelExpiryAndFinalFailureVoidInTheirOwnTransactions() {
    String c = client("10");
    String owner = "owner-" + UUID.randomUUID();
    UUID canceled = job(c, null);
    payments.create(payment(canceled, c, "1"));
    assertThat(stores.takeBacks().cancel(canceled, c, "canceled by client")).isPresent();

    NewJob shortLived = new NewJob(new JobIds().next(), c, null, "noop", null, "{}", Requirements.NONE, 5, 0, 1,
        Duration.ofMillis(1), Duration.ofMinutes(5), null);
    UUID expired = stores.jobs().insert(List.of(shortLived)).getFirst().job().jobId();
    payments.create(payment(expired, c, "2"));
    dsl.update(JOB).set(JOB.EXPIRES_AT, OffsetDateTime.now().minusSeconds(1)).where(JOB.JOB_ID.eq(expired)).execute();
    assertThat(stores.takeBacks().expireDue(1000)).extracting(Ended::jobId).contains(expired);

    UUID failed = job(c, owner);
    payments.create(payment(failed, c, "3"));
    var row = dsl.select(JOB.SESSION_ID, JOB.ATTEMPT).from(JOB).where(JOB.JOB_ID.eq(failed)).fetchSingle();
    assertThat(stores.outcomes().record(List.of(new Outcome.Failed(failed, row.value2(), row.value1(), "boom", false,
        "w-" + owner)), attempt -> Duration.ZERO)).singleElement().extracting(Recorded::state)
        .isEqualTo(JobState.FAILED);

    assertThat(payments.findByJob(canceled, c).orElseThrow().voidReason()).isEqualTo(VoidReason.cancel);
    assertThat(payments.findByJob(expired, c).orElseThrow().voidReason()).isEqualTo(VoidReason.expiry);
    assertThat(payments.findByJob(failed, c).orElseThrow().voidReason()).isEqualTo(VoidReason.failure);
    for (var e : Map.of(canceled, "cancel", expired, "expiry", failed, "failure").entrySet()) {
      JsonNode receipt = receiptOf(payments.findByJob(e.getKey(), c).orElseThrow().paymentId());
      assertThat(receipt.get("void_reason").asText()).isEqualTo(e.getValue());
      assertThat(receipt.get("job_id").asText()).isEqualTo(JobIds.format(e.getKey()));
    }
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("10");
  }

  @Test
  void escrowsPastTheirTimeoutAreVoidedByTheSweep() {
    String c = client("10");
    UUID soon = job(c, "owner-" + UUID.randomUUID());
    UUID later = job(c, "owner-" + UUID.randomUUID());
    UUID soonPid = payments.create(new NewPayment(UUID.randomUUID(), soon, c, BigDecimal.ONE, Currency.AITBC, "m",
        300)).payment().paymentId();
    UUID laterPid = payments.create(new NewPayment(UUID.randomUUID(), later, c, BigDecimal.TWO, Currency.AITBC, "m",
        86_400)).payment().paymentId();
    OffsetDateTime inAnHour = OffsetDateTime.now().plusMinutes(61);
    assertThat(payments.voidExpired(10_000, inAnHour)).extracting(StoredPayment::paymentId).contains(soonPid)
        .doesNotContain(laterPid);
    assertThat(payments.find(soonPid, c).orElseThrow().voidReason()).isEqualTo(VoidReason.timeout);
    assertThat(receiptOf(soonPid).get("void_reason").asText()).isEqualTo("timeout");
    assertThat(payments.find(laterPid, c).orElseThrow().status()).isEqualTo(PaymentStatus.escrowed);
    // The job's completion comes too late: there is nothing left to post.
    assertThat(post(soon)).isEmpty();
    assertThat(payments.voidExpired(10_000, inAnHour)).isEmpty();
    PaymentInvariants.check(dsl, inAnHour);
  }

  @Test
  void transfersCannotBeChangedOrDeleted() {
    String c = client("1");
    assertThatThrownBy(() -> dsl.update(TRANSFER).set(TRANSFER.AMOUNT, BigDecimal.TEN).execute())
        .hasMessageContaining("transfers are immutable");
    assertThatThrownBy(() -> dsl.deleteFrom(TRANSFER).execute()).hasMessageContaining("transfers are immutable");
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("1");
    assertThat(dsl.fetchCount(ACCOUNT, ACCOUNT.OWNER_ID.eq(c))).isOne();
  }

  @Test
  void accountsAndPaymentsThatTransfersNameCannotBeDeleted() {
    String c = client("1");
    UUID job = job(c, null);
    UUID paymentId = payments.create(payment(job, c, "0.5")).payment().paymentId();
    assertThatThrownBy(() -> dsl.deleteFrom(ACCOUNT).where(ACCOUNT.OWNER_ID.eq(c)).execute())
        .hasMessageContaining("account rows are named by transfers: DELETE refused");
    assertThatThrownBy(() -> dsl.truncate(ACCOUNT).execute())
        .hasMessageContaining("named by transfers: TRUNCATE refused");
    assertThatThrownBy(() -> dsl.deleteFrom(PAYMENT).where(PAYMENT.PAYMENT_ID.eq(paymentId)).execute())
        .hasMessageContaining("payment rows are named by transfers: DELETE refused");
    assertThatThrownBy(() -> dsl.truncate(PAYMENT).execute())
        .hasMessageContaining("payment rows are named by transfers: TRUNCATE refused");
    assertThat(balance(c, AccountKind.client)).isEqualByComparingTo("0.5");
  }

  @Test
  void theInvariantCheckCatchesATransferThatNamesNoPaymentOrAnAccountOfAnotherCurrency() {
    String c = client("1");
    long clientAccount = dsl.select(ACCOUNT.ACCOUNT_ID).from(ACCOUNT)
        .where(ACCOUNT.OWNER_ID.eq(c), ACCOUNT.KIND.eq(AccountKind.client)).fetchSingle().value1();
    long external = dsl.select(ACCOUNT.ACCOUNT_ID).from(ACCOUNT)
        .where(ACCOUNT.KIND.eq(AccountKind.external), ACCOUNT.CURRENCY.eq(Currency.AITBC)).fetchSingle().value1();
    for (var bad : List.of(Map.entry(Currency.AITBC, "its payment"), Map.entry(Currency.BTC, "account's currency"))) {
      // Rolled back: transfers cannot be deleted, and the other tests' invariants would trip over it.
      assertThatThrownBy(() -> Database.transaction(dsl, tx -> {
        String key = "test:" + UUID.randomUUID();
        tx.insertInto(TRANSFER, TRANSFER.TRANSFER_ID, TRANSFER.DEBIT_ACCOUNT_ID, TRANSFER.CREDIT_ACCOUNT_ID,
                TRANSFER.CURRENCY, TRANSFER.AMOUNT, TRANSFER.KIND, TRANSFER.PAYMENT_ID, TRANSFER.IDEMPOTENCY_KEY,
                TRANSFER.CREATED_AT)
            .values(Transfers.id(key), clientAccount, external, bad.getKey(), new BigDecimal("0.01"),
                TransferKind.escrow, UUID.randomUUID(), key, OffsetDateTime.now())
            .execute();
        PaymentInvariants.check(tx);
        return null;
      })).isInstanceOf(AssertionError.class).hasMessageContaining(bad.getValue());
    }
  }

  @Test
  void theInvariantCheckCatchesMoneyThatTransfersDoNotExplain() {
    String c = client("1");
    var mine = ACCOUNT.OWNER_ID.eq(c).and(ACCOUNT.KIND.eq(AccountKind.client));
    dsl.update(ACCOUNT).set(ACCOUNT.BALANCE, new BigDecimal("2")).where(mine).execute();
    try {
      assertThatThrownBy(() -> PaymentInvariants.check(dsl)).isInstanceOf(AssertionError.class)
          .hasMessageContaining("balance against its transfers");
    } finally {
      dsl.update(ACCOUNT).set(ACCOUNT.BALANCE, BigDecimal.ONE).where(mine).execute();
    }
  }
}
