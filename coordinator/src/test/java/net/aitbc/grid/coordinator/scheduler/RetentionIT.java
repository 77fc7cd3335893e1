package net.aitbc.grid.coordinator.scheduler;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.RetentionStore;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.GetJobPaymentRequest;
import net.aitbc.grid.v1.GetJobReceiptRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc.PaymentServiceBlockingStub;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.VerifyReceiptRequest;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Retention over a real coordinator and PostgreSQL: finished jobs older than the retention are
 * retired by two sweepers at once, each job once; young, unfinished and still-needed jobs stay; a
 * retired job is NOT_FOUND while its receipt still verifies and its payment still reads.
 */
class RetentionIT {
  /** The coordinator keeps every job: the test's own sweepers retire them. */
  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.retention(Duration.ZERO, Duration.ofHours(1)));

  private static final Duration RETENTION = Duration.ofSeconds(3);
  private static HikariDataSource pool;
  private static DSLContext dsl;

  @BeforeAll
  static void open() {
    pool = Database.pool(grid.db().url(), null, null, 4);
    dsl = Database.dsl(pool);
  }

  @AfterAll
  static void close() {
    pool.close();
  }

  @Test
  void oldFinishedJobsAreRetiredOnceByTwoSweepersAndWhatIsYoungOrNeededStays() throws Exception {
    String clientKey = grid.clientKey("keeper");
    JobServiceBlockingStub client = grid.clientWithKey(clientKey);
    PaymentServiceBlockingStub payments = GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()),
        clientKey);
    GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()),
            grid.coordinator().createKey(Role.ADMIN, "ops"))
        .deposit(DepositRequest.newBuilder().setClientId("keeper").setAmount("100").setIdempotencyKey("keeper-100")
            .build());

    // Old: three completed jobs (one paid, released on completion; one with an idempotency key), and
    // one whose escrow is still live, one that names an execution not known to have ended.
    List<String> completed = new ArrayList<>();
    String paid = submit(client, "t-old", "");
    completed.add(paid);
    completed.add(submit(client, "t-old", "key-1"));
    completed.add(submit(client, "t-old", ""));
    String paymentId = payments.createPayment(CreatePaymentRequest.newBuilder().setJobId(paid).setAmount("2")
        .setCurrency("aitbc").setEscrowTimeoutSeconds(3600).build()).getPayment().getPaymentId();
    try (TestWorker w = grid.worker("w-old", "t-old")) {
      for (int i = 0; i < completed.size(); i++) {
        complete(w);
      }
    }
    String escrowed = submit(client, "t-held", "");
    payments.createPayment(CreatePaymentRequest.newBuilder().setJobId(escrowed).setAmount("1").setCurrency("aitbc")
        .setEscrowTimeoutSeconds(3600).build());
    String stepJob = submit(client, "t-held", "");
    // What a coordinator could not have done but a bug might: both end without their holder ending.
    grid.query(q -> q.update(JOB).set(JOB.STATE, JobState.COMPLETED).set(JOB.FINISHED_AT, OffsetDateTime.now())
        .where(JOB.JOB_ID.in(id(escrowed), id(stepJob))).execute());
    grid.query(q -> q.update(JOB).set(JOB.EXECUTION_ID, UUID.randomUUID()).where(JOB.JOB_ID.eq(id(stepJob)))
        .execute());
    String queued = submit(client, "t-nobody", "");

    // Past the retention for all of those; then one more finishes, young.
    OffsetDateTime oldEnough = OffsetDateTime.now().plus(RETENTION).plus(Duration.ofMillis(200));
    await().atMost(Duration.ofSeconds(10)).until(() -> OffsetDateTime.now().isAfter(oldEnough));
    String young = submit(client, "t-young", "");
    try (TestWorker w = grid.worker("w-young", "t-young")) {
      complete(w);
    }

    // Two sweepers, concurrently, in small batches so that they contend: each job is retired once.
    RetentionStore store = new RetentionStore(dsl);
    ExecutorService two = Executors.newFixedThreadPool(2);
    try {
      List<CompletableFuture<Integer>> passes = new ArrayList<>();
      for (int i = 0; i < 2; i++) {
        passes.add(CompletableFuture.supplyAsync(() -> retireAll(store, 1), two));
      }
      int total = 0;
      for (CompletableFuture<Integer> p : passes) {
        total += p.get();
      }
      assertThat(total).isEqualTo(3);
    } finally {
      two.shutdownNow();
    }
    GridMetrics metrics = new GridMetrics(() -> 0, () -> 0);
    try (RetentionSweeper sweeper = new RetentionSweeper(store,
        new CoordinatorConfig.Retention(RETENTION, Duration.ofHours(1)), metrics)) {
      assertThat(sweeper.sweep()).isZero();
    }

    List<UUID> left = grid.query(q -> q.select(JOB.JOB_ID).from(JOB).where(JOB.CLIENT_ID.eq("keeper"))
        .fetch(JOB.JOB_ID));
    assertThat(left).containsExactlyInAnyOrder(id(escrowed), id(stepJob), id(queued), id(young));

    // A retired job is gone, saying why it may be; its receipt still reads and verifies.
    for (String job : completed) {
      assertThatThrownBy(() -> client.getJob(GetJobRequest.newBuilder().setJobId(job).build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND);
            assertThat(e.getStatus().getDescription()).contains("retired");
          });
      String receipt = client.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(job).build()).getReceipt()
          .getReceiptJson();
      assertThat(GrpcClients.withKey(ReceiptServiceGrpc.newBlockingStub(grid.channel()), clientKey)
          .verifyReceipt(VerifyReceiptRequest.newBuilder().setReceiptJson(receipt).build()).getValid()).isTrue();
    }
    // The paid job's payment reads by job and by id, released, and the money still adds up.
    var payment = payments.getJobPayment(GetJobPaymentRequest.newBuilder().setJobId(paid).build()).getPayment();
    assertThat(payment.getPaymentId()).isEqualTo(paymentId);
    PaymentStatus status = grid.query(q -> q.select(PAYMENT.STATUS).from(PAYMENT)
        .where(PAYMENT.PAYMENT_ID.eq(id(paymentId))).fetchSingle().value1());
    assertThat(status).isEqualTo(PaymentStatus.released);
    grid.query(q -> {
      PaymentInvariants.check(q);
      return null;
    });
    // A retired job's idempotency key is spent: the same key makes a new job.
    assertThat(submit(client, "t-old", "key-1")).isNotEqualTo(completed.get(1));
  }

  /** One pass to its end, in batches of {@code batch}. */
  private static int retireAll(RetentionStore store, int batch) {
    int total = 0;
    RetentionStore.Pass pass = store.start(RETENTION);
    while (pass != null) {
      RetentionStore.Batch b = store.retire(pass, batch);
      total += b.retired();
      pass = b.next();
    }
    return total;
  }

  private static String submit(JobServiceBlockingStub client, String type, String requestId) {
    return client.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}")
        .setRequestId(requestId).build()).getJob().getJobId();
  }

  private static void complete(TestWorker w) {
    w.credit(1);
    Assignment a = w.nextAssignment();
    w.complete(a.getJobId(), a.getAttempt(), "{\"ok\":true}", "{\"duration_ms\":100}");
    ConnectResponse r;
    do {
      r = w.next();
    } while (!r.hasOutcomeAck());
    assertThat(r.getOutcomeAck().getAccepted()).isTrue();
  }

  private static UUID id(String jobId) {
    return JobIds.parse(jobId).orElseThrow();
  }
}
