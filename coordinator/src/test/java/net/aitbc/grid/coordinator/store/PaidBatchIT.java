package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.TRANSFER;
import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.ledger.ReceiptBodies;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.TransferKind;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A submit batch with paid jobs, as the coordinator's submit committer stores it: the paid jobs are
 * stored and escrowed together; when a client cannot pay for all of its jobs, only the ones it
 * cannot pay for are refused. The money invariants are checked after each test.
 */
class PaidBatchIT {
  private static TestDatabase db;
  private static HikariDataSource pool;
  private static DSLContext dsl;
  private static JobStore jobs;
  private static PaymentStore payments;
  private static AccountStore accounts;
  private static SessionStore sessions;

  @BeforeAll
  static void open() {
    db = TestDatabase.create();
    pool = Database.pool(db.url(), null, null, 4);
    Database.migrate(pool);
    dsl = Database.dsl(pool);
    jobs = new JobStore(dsl);
    payments = new PaymentStore(dsl, 250, new ReceiptBodies());
    accounts = new AccountStore(dsl);
    sessions = new SessionStore(dsl);
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

  private static String client(String funds) {
    String c = "client-" + UUID.randomUUID();
    accounts.deposit(c, new BigDecimal(funds), Currency.AITBC, "fund-" + c);
    return c;
  }

  private static NewJob job(String client, @Nullable String amount, @Nullable String requestId,
      NewJob.@Nullable Placement placement, List<String> models) {
    return new NewJob(new JobIds().next(), client, requestId, "noop", null, "{}",
        new Requirements(null, null, null, models, null, null), 5, 0, 1, Duration.ofHours(1), Duration.ofMinutes(5),
        placement, amount == null ? null : new NewJob.JobPayment(new BigDecimal(amount), Currency.AITBC, 3600));
  }

  private static NewJob job(String client, @Nullable String amount) {
    return job(client, amount, null, null, List.of());
  }

  private static BigDecimal balance(String owner) {
    return accounts.balances(owner).stream().filter(b -> b.kind() == AccountKind.client)
        .map(AccountBalance::balance).findFirst().orElse(BigDecimal.ZERO);
  }

  /** The job's payment as stored, checked against what the job row names. */
  private static StoredPayment paymentOf(Submitted s) {
    UUID named = dsl.select(JOB.PAYMENT_ID).from(JOB).where(JOB.JOB_ID.eq(s.job().jobId())).fetchSingle().value1();
    assertThat(named).isNotNull().isEqualTo(s.job().paymentId());
    return payments.findByJob(s.job().jobId(), s.job().clientId()).orElseThrow();
  }

  @Test
  void paidJobsOfEveryKindAreStoredAndEscrowedTogetherWithTheUnpaid() {
    String c = client("10");
    UUID session = UUID.randomUUID();
    sessions.open(session, "w-batch", "owner-batch", "{}", java.time.Duration.ofHours(1));
    List<NewJob> batch = List.of(job(c, "1"), job(c, "2", null, new NewJob.Placement(session, "w-batch"), List.of()),
        job(c, "3", null, null, List.of("m")), job(c, null), job(c, "0.5", "req-" + c, null, List.of()));
    long transfers = dsl.fetchCount(TRANSFER);

    List<Submitted> stored = jobs.insert(batch, payments);

    assertThat(stored).extracting(Submitted::refused).containsOnlyNulls();
    assertThat(stored).extracting(Submitted::existing).containsOnly(false);
    assertThat(stored.get(1).placed()).isNotNull();
    assertThat(stored.get(3).job().paymentId()).isNull();
    List<String> amounts = new ArrayList<>();
    for (Submitted s : List.of(stored.get(0), stored.get(1), stored.get(2), stored.get(4))) {
      StoredPayment p = paymentOf(s);
      assertThat(p.status()).isEqualTo(PaymentStatus.escrowed);
      assertThat(p.feeBps()).isEqualTo(250);
      amounts.add(Transfers.plain(p.amount()));
    }
    assertThat(amounts).containsExactly("1", "2", "3", "0.5");
    assertThat(balance(c)).isEqualByComparingTo("3.5");
    assertThat(dsl.fetchCount(TRANSFER) - transfers).isEqualTo(4);
    assertThat(dsl.fetchCount(TRANSFER, TRANSFER.KIND.eq(TransferKind.escrow), TRANSFER.PAYMENT_ID.in(
        stored.stream().map(s -> s.job().paymentId()).toList()))).isEqualTo(4);

    // The same request again, in a batch with a new job: the retry pays nothing twice.
    List<Submitted> again = jobs.insert(List.of(job(c, "0.5", "req-" + c, null, List.of()), job(c, "1")), payments);
    assertThat(again.getFirst().existing()).isTrue();
    assertThat(again.getFirst().job().jobId()).isEqualTo(stored.get(4).job().jobId());
    assertThat(again.getFirst().job().paymentId()).isEqualTo(stored.get(4).job().paymentId());
    assertThat(paymentOf(again.get(1)).status()).isEqualTo(PaymentStatus.escrowed);
    assertThat(balance(c)).isEqualByComparingTo("2.5");
  }

  @Test
  void whenAClientCannotPayForAllItsJobsOnlyThoseItCannotPayForAreRefused() {
    String rich = client("10");
    String poor = client("3");
    List<NewJob> batch = List.of(job(rich, "4"), job(poor, "2"), job(rich, "4"), job(poor, "2"), job(poor, null));
    long transfers = dsl.fetchCount(TRANSFER);

    List<Submitted> stored = jobs.insert(batch, payments);

    assertThat(stored.get(3).refused()).isNotNull()
        .satisfies(e -> assertThat(e.reason()).isEqualTo(Reason.INSUFFICIENT_FUNDS));
    assertThat(dsl.fetchCount(JOB, JOB.JOB_ID.eq(batch.get(3).jobId()))).isZero();
    assertThat(dsl.fetchCount(PAYMENT, PAYMENT.JOB_ID.eq(batch.get(3).jobId()))).isZero();
    for (int i : new int[] {0, 1, 2}) {
      assertThat(stored.get(i).refused()).as("job %d", i).isNull();
      assertThat(paymentOf(stored.get(i)).status()).isEqualTo(PaymentStatus.escrowed);
    }
    assertThat(stored.get(4).refused()).isNull();
    assertThat(dsl.fetchCount(JOB, JOB.JOB_ID.eq(batch.get(4).jobId()))).isOne();
    assertThat(balance(rich)).isEqualByComparingTo("2");
    assertThat(balance(poor)).isEqualByComparingTo("1");
    assertThat(dsl.fetchCount(TRANSFER) - transfers).isEqualTo(3);
  }
}
