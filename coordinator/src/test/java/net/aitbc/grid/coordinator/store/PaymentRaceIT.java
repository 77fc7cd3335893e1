package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.ACCOUNT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.ledger.ReceiptBodies;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.VoidReason;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Post against void of the same payment, 1,000 times with real concurrency (threads on separate
 * connections, four races at a time sharing the escrow and client accounts): exactly one wins each
 * time and the loser gets a clear answer.
 */
class PaymentRaceIT {
  private static final int RACES = 1000;
  private static final int AT_ONCE = 4;
  private static TestDatabase db;
  private static HikariDataSource pool;
  private static DSLContext dsl;
  private static Stores stores;
  private static PaymentStore payments;
  private static AccountStore accounts;

  @BeforeAll
  static void open() {
    db = TestDatabase.create();
    pool = Database.pool(db.url(), null, null, 2 * AT_ONCE + 2);
    Database.migrate(pool);
    dsl = Database.dsl(pool);
    // Receipts as a coordinator with a signing key issues them: each settled payment must get one.
    ReceiptBodies receipts = new ReceiptBodies();
    stores = Stores.over(dsl, receipts);
    payments = new PaymentStore(dsl, 100, receipts);
    accounts = new AccountStore(dsl);
  }

  @AfterAll
  static void close() {
    pool.close();
    db.close();
  }

  /** What one side of a race did: whether it moved the money, and what it was told. */
  private record Side(boolean won, String answer) {}

  @Test
  void postAndVoidOfOnePaymentHaveExactlyOneWinner() throws Exception {
    String client = "racer";
    String owner = "owner";
    accounts.deposit(client, new BigDecimal("1000"), Currency.AITBC, "fund");
    UUID session = UUID.randomUUID();
    stores.sessions().open(session, "w1", owner, "{}", java.time.Duration.ofHours(1));
    List<NewJob> jobs = new ArrayList<>();
    for (int i = 0; i < RACES; i++) {
      jobs.add(new NewJob(new JobIds().next(), client, null, "noop", null, "{}", Requirements.NONE, 5, 0, 1,
          Duration.ofHours(1), Duration.ofMinutes(5), new NewJob.Placement(session, "w1")));
    }
    List<UUID> jobIds = stores.jobs().insert(jobs).stream().map(s -> s.job().jobId()).toList();
    List<UUID> paymentIds = new ArrayList<>();
    for (UUID job : jobIds) {
      paymentIds.add(payments.create(new NewPayment(UUID.randomUUID(), job, client, BigDecimal.ONE, Currency.AITBC,
          "m", 3600)).payment().paymentId());
    }

    ExecutorService threads = Executors.newFixedThreadPool(2 * AT_ONCE);
    int posted = 0;
    int voided = 0;
    try {
      for (int start = 0; start < RACES; start += AT_ONCE) {
        List<Future<Side>> posts = new ArrayList<>();
        List<Future<Side>> voids = new ArrayList<>();
        for (int i = start; i < Math.min(start + AT_ONCE, RACES); i++) {
          UUID job = jobIds.get(i);
          UUID pid = paymentIds.get(i);
          CyclicBarrier together = new CyclicBarrier(2);
          // Alternate the ways in: the completion's post or the client's release, against the
          // client's refund or a cancel's void.
          boolean even = i % 2 == 0;
          posts.add(threads.submit(race(together, even ? () -> completion(job) : () -> release(pid, client))));
          voids.add(threads.submit(race(together, even ? () -> refund(pid, client) : () -> cancel(job))));
        }
        for (int k = 0; k < posts.size(); k++) {
          Side post = posts.get(k).get(30, TimeUnit.SECONDS);
          Side voiding = voids.get(k).get(30, TimeUnit.SECONDS);
          assertThat(post.won() ^ voiding.won()).as("race %d: %s / %s", start + k, post, voiding).isTrue();
          Side loser = post.won() ? voiding : post;
          assertThat(loser.answer()).as("race %d loser", start + k)
              .isIn("nothing to post", "nothing to void", "refused: already released", "refused: already refunded");
          posted += post.won() ? 1 : 0;
          voided += voiding.won() ? 1 : 0;
        }
      }
    } finally {
      threads.shutdownNow();
    }
    assertThat(posted + voided).isEqualTo(RACES);
    assertThat(dsl.fetchCount(net.aitbc.grid.db.Tables.PAYMENT,
        net.aitbc.grid.db.Tables.PAYMENT.STATUS.eq(PaymentStatus.released),
        net.aitbc.grid.db.Tables.PAYMENT.CLIENT_ID.eq(client))).isEqualTo(posted);
    BigDecimal earned = dsl.select(ACCOUNT.BALANCE).from(ACCOUNT)
        .where(ACCOUNT.OWNER_ID.eq(owner), ACCOUNT.KIND.eq(AccountKind.worker_owner)).fetchSingle().value1();
    assertThat(earned).isEqualByComparingTo(new BigDecimal("0.99").multiply(BigDecimal.valueOf(posted)));
    System.out.printf("post against void, %d races: %d posts won, %d voids won%n", RACES, posted, voided);
    PaymentInvariants.check(dsl);
    // The schema backs the row locks up: a second settlement of a payment is refused outright.
    UUID settled = paymentIds.getFirst();
    assertThatThrownBy(() -> Database.transaction(dsl, tx -> Transfers.apply(tx, List.of(new Transfers.Move(
        Transfers.AccountKey.escrow(Currency.AITBC), Transfers.AccountKey.client(client, Currency.AITBC),
        BigDecimal.ONE, net.aitbc.grid.db.enums.TransferKind.void_, settled, "another:" + settled)),
        JobStore.now()))).hasMessageContaining("transfer_settles_once_uq");
  }

  private static Callable<Side> race(CyclicBarrier together, Callable<Side> side) {
    return () -> {
      together.await(10, TimeUnit.SECONDS);
      try {
        return side.call();
      } catch (PaymentRefused e) {
        assertThat(e.reason()).isEqualTo(Reason.SETTLED);
        return new Side(false, "refused: " + e.getMessage().replaceAll(".*is (already \\w+).*", "$1"));
      }
    };
  }

  private static Side completion(UUID job) {
    boolean won = !Database.transaction(dsl, tx -> payments.postForCompletedJobs(tx, List.of(job))).isEmpty();
    return new Side(won, won ? "posted" : "nothing to post");
  }

  private static Side cancel(UUID job) {
    boolean won = !Database.transaction(dsl, tx -> payments.voidForJobs(tx, List.of(job), VoidReason.cancel))
        .isEmpty();
    return new Side(won, won ? "voided" : "nothing to void");
  }

  private static Side release(UUID pid, String client) {
    assertThat(payments.release(pid, client).changed()).isTrue();
    return new Side(true, "released");
  }

  private static Side refund(UUID pid, String client) {
    assertThat(payments.refund(pid, client).changed()).isTrue();
    return new Side(true, "refunded");
  }

  @Test
  void paymentsPostsAndVoidsOfManyClientsAndOwnersAtOnceNeverDeadlock() throws Exception {
    int clients = 4;
    int perThread = 60;
    List<String> owners = List.of("o-a", "o-b", "o-c", "o-d");
    List<NewJob.Placement> places = new ArrayList<>();
    for (String o : owners) {
      UUID session = UUID.randomUUID();
      stores.sessions().open(session, "w-" + o, o, "{}", java.time.Duration.ofHours(1));
      places.add(new NewJob.Placement(session, "w-" + o));
    }
    for (int c = 0; c < clients; c++) {
      accounts.deposit("mixed-" + c, new BigDecimal("400"), Currency.AITBC, "mixed-fund-" + c);
    }
    ExecutorService threads = Executors.newFixedThreadPool(2 * AT_ONCE);
    List<Future<Integer>> done = new ArrayList<>();
    try {
      for (int t = 0; t < 2 * AT_ONCE; t++) {
        int seed = t;
        done.add(threads.submit(() -> {
          java.util.Random random = new java.util.Random(seed);
          String client = "mixed-" + (seed % clients);
          int refused = 0;
          for (int i = 0; i < perThread; i++) {
            // Three jobs on workers of different owners, paid for; then posted and voided in
            // batches that touch the same escrow, client, owner and fee accounts as other threads.
            List<UUID> jobs = new ArrayList<>();
            for (int k = 0; k < 3; k++) {
              NewJob j = new NewJob(new JobIds().next(), client, null, "noop", null, "{}", Requirements.NONE, 5, 0,
                  1, Duration.ofHours(1), Duration.ofMinutes(5), places.get(random.nextInt(places.size())));
              jobs.add(stores.jobs().insert(List.of(j)).getFirst().job().jobId());
            }
            for (UUID job : jobs) {
              try {
                payments.create(new NewPayment(UUID.randomUUID(), job, client,
                    new BigDecimal(random.nextInt(300) + 1).movePointLeft(2), Currency.AITBC, "m", 3600));
              } catch (PaymentRefused e) {
                assertThat(e.reason()).isEqualTo(Reason.INSUFFICIENT_FUNDS);
                refused++;
              }
            }
            if (random.nextBoolean()) {
              Database.transaction(dsl, tx -> payments.postForCompletedJobs(tx, jobs));
            } else {
              Database.transaction(dsl, tx -> payments.voidForJobs(tx, jobs.subList(0, 2), VoidReason.failure));
              Database.transaction(dsl, tx -> payments.postForCompletedJobs(tx, jobs.subList(1, 3)));
            }
          }
          return refused;
        }));
      }
      int refused = 0;
      for (Future<Integer> f : done) {
        refused += f.get(120, TimeUnit.SECONDS);
      }
      System.out.printf("mixed load: %d payments refused for want of funds%n", refused);
    } finally {
      threads.shutdownNow();
    }
    PaymentInvariants.check(dsl);
  }
}
