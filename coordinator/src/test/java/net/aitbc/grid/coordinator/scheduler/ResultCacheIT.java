package net.aitbc.grid.coordinator.scheduler;

import static net.aitbc.grid.db.Tables.RESULT_CACHE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.ResultCache;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.v1.AccountBalance;
import net.aitbc.grid.v1.AccountKind;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.GetBalanceRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc.PaymentServiceBlockingStub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The result cache over real gRPC, a real worker stream and real PostgreSQL (issue 15). */
class ResultCacheIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.resultCache(Duration.ofHours(1), 10_000_000));

  private static final List<String> submitted = new ArrayList<>();
  private static String aliceKey;
  private static JobServiceBlockingStub alice;

  @BeforeAll
  static void clients() {
    aliceKey = grid.clientKey("alice");
    alice = grid.clientWithKey(aliceKey);
    PaymentServiceBlockingStub admin = GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()),
        grid.coordinator().createKey(Role.ADMIN, "ops"));
    admin.deposit(DepositRequest.newBuilder().setClientId("alice").setAmount("100").setIdempotencyKey("alice-100")
        .build());
  }

  @BeforeEach
  void emptyCache() {
    grid.query(dsl -> dsl.deleteFrom(RESULT_CACHE).execute());
  }

  private static void cancelWhatIsLeft() {
    // A test that failed half-way leaves jobs queued; the next test's worker must not get them.
    for (String id : submitted) {
      if (read(id).getState() == JobState.JOB_STATE_QUEUED || read(id).getState() == JobState.JOB_STATE_RUNNING) {
        alice.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build());
      }
    }
    submitted.clear();
  }

  @AfterEach
  void moneyAddsUp() {
    cancelWhatIsLeft();
    grid.query(dsl -> {
      PaymentInvariants.check(dsl);
      return null;
    });
  }

  private static Job submit(String payload) {
    return submit(CreateJobRequest.newBuilder().setPayloadJson(payload).build());
  }

  private static Job submit(CreateJobRequest request) {
    Job job = alice.createJob(request).getJob();
    submitted.add(job.getJobId());
    return job;
  }

  private static Job read(String jobId) {
    return alice.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob();
  }

  private static String result(String jobId) {
    return alice.getJobResult(GetJobResultRequest.newBuilder().setJobId(jobId).build()).getResultJson();
  }

  /** Submits {@code payload}, has {@code w} run it with {@code resultJson}, and waits until it is completed. */
  private static Job run(TestWorker w, String payload, String resultJson) {
    Job job = submit(payload);
    assertThat(job.getCacheHit()).isFalse();
    w.credit(1);
    Assignment a = nextAssignmentAfterAcks(w);
    assertThat(a.getJobId()).isEqualTo(job.getJobId());
    w.complete(a.getJobId(), a.getAttempt(), resultJson);
    // The session's lease is short in tests: the worker heartbeats while it waits.
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      w.heartbeat();
      return read(job.getJobId()).getState() == JobState.JOB_STATE_COMPLETED;
    });
    return read(job.getJobId());
  }

  /** The next assignment; the ack of an earlier completion may come before it. */
  private static Assignment nextAssignmentAfterAcks(TestWorker w) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      // The session's lease is short in tests: the worker heartbeats while it waits.
      w.heartbeat();
      ConnectResponse m = w.poll(Duration.ofMillis(500));
      if (m == null) {
        continue;
      }
      if (m.hasAssignment()) {
        return m.getAssignment();
      }
      assertThat(m.getMessageCase()).isEqualTo(ConnectResponse.MessageCase.OUTCOME_ACK);
    }
    throw new AssertionError("no assignment within 20 s");
  }

  /** The job the worker is handed next, if any within a short wait: a hit must never reach a worker. */
  private static void noAssignment(TestWorker w) {
    w.credit(1);
    w.heartbeat();
    assertThat(w.drainReceivedWithin(Duration.ofMillis(500))).noneMatch(m -> m.hasAssignment());
  }

  @Test
  void anIdenticalNoopIsAnsweredAtOnceWithoutAWorker() {
    try (TestWorker w = grid.worker("cache-w1", "noop")) {
      Job first = run(w, "{\"type\": \"noop\", \"echo\": \"a\", \"n\": 1}", "{\"echo\": \"a\"}");
      assertThat(first.getCacheHit()).isFalse();

      // The same work with its keys in another order is the same job.
      Job hit = submit("{\"n\": 1, \"echo\": \"a\", \"type\": \"noop\"}");
      assertThat(hit.getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
      assertThat(hit.getCacheHit()).isTrue();
      assertThat(hit.getWorkerId()).isEmpty();
      Job read = read(hit.getJobId());
      assertThat(read.getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
      assertThat(read.getCacheHit()).isTrue();
      assertThat(read.getAttempt()).isZero();
      assertThat(read.getMetricsJson()).contains("\"source_job_id\": \"" + first.getJobId() + "\"");
      assertThat(result(hit.getJobId())).isEqualTo(result(first.getJobId()));
      // Its receipt is signed, says it is a hit, costs nothing and names no worker.
      String json = alice.getJobResult(GetJobResultRequest.newBuilder().setJobId(hit.getJobId()).build())
          .getReceiptJson();
      ObjectNode receipt = (ObjectNode) CanonicalJson.parse(json);
      assertThat(Receipts.check(receipt, TestConfigs.SIGNING_KEY.verifyingKey())).isEmpty();
      assertThat(receipt.get("job_id").asText()).isEqualTo(hit.getJobId());
      assertThat(receipt.get("cache_hit").asBoolean()).isTrue();
      assertThat(receipt.get("provider").asText()).isEqualTo("result-cache");
      assertThat(receipt.get("price").doubleValue()).isZero();
      assertThat(receipt.get("metadata").has("worker")).isFalse();
      assertThat(receipt.get("metadata").get("metrics").get("source_job_id").asText()).isEqualTo(first.getJobId());
      assertThat(receipt.get("metadata").get("result")).isEqualTo(CanonicalJson.parse("{\"echo\": \"a\"}"));
      noAssignment(w);
      assertThat(grid.<Long>query(dsl -> dsl.select(RESULT_CACHE.HITS).from(RESULT_CACHE).fetchOne().value1())).isEqualTo(1L);
    }
  }

  @Test
  void anOptOutAnotherPayloadAndANonDeterministicTypeMiss() {
    try (TestWorker w = grid.worker("cache-w2", "noop", "inference")) {
      run(w, "{\"type\": \"noop\", \"echo\": \"b\"}", "{\"echo\": \"b\"}");
      // Opted out: runs again, and fills nothing.
      run(w, "{\"type\": \"noop\", \"echo\": \"b\", \"cache\": false}", "{\"echo\": \"b\"}");
      run(w, "{\"type\": \"noop\", \"echo\": \"c\"}", "{\"echo\": \"c\"}");
      run(w, "{\"type\": \"inference\", \"prompt\": \"hi\"}", "{\"output\": \"hello\"}");
      run(w, "{\"type\": \"inference\", \"prompt\": \"hi\"}", "{\"output\": \"hello\"}");
      assertThat(grid.<Integer>query(dsl -> dsl.fetchCount(RESULT_CACHE))).isEqualTo(2);
      // An opt-in marker is not part of the work: it hits what ran without one.
      assertThat(submit("{\"type\": \"noop\", \"echo\": \"c\", \"cache\": true}").getCacheHit()).isTrue();
    }
  }

  @Test
  void anEmbeddingHitsOnlyWithTheSameModel() {
    try (TestWorker w = TestWorker.connect(grid.coordinator().grpcPort(), grid.workerKey(), "cache-w3",
        List.of("embedding"), List.of("mini", "other"))) {
      run(w, "{\"type\": \"embedding\", \"model\": \"mini\", \"input\": \"x\"}", "{\"embedding\": [0.5]}");
      Job hit = submit("{\"type\": \"embedding\", \"model\": \"MINI\", \"input\": \"x\"}");
      assertThat(hit.getCacheHit()).as("cached: %s", grid.<String>query(dsl -> dsl.selectFrom(RESULT_CACHE).fetch().format()))
          .isTrue();
      assertThat(result(hit.getJobId())).isEqualTo("{\"embedding\": [0.5]}");
      run(w, "{\"type\": \"embedding\", \"model\": \"other\", \"input\": \"x\"}", "{\"embedding\": [0.25]}");
    }
  }

  @Test
  void theSweepExpiresEntriesByAgeAndBySize() {
    try (TestWorker w = grid.worker("cache-w4", "noop")) {
      run(w, "{\"type\": \"noop\", \"echo\": \"d\"}", "{\"echo\": \"d\"}");
      run(w, "{\"type\": \"noop\", \"echo\": \"e\"}", "{\"echo\": \"e\"}");
      assertThat(submit("{\"type\": \"noop\", \"echo\": \"e\"}").getCacheHit()).isTrue();
      // Room for one entry: the least recently hit (d) goes.
      int one = grid.query(dsl -> dsl.select(RESULT_CACHE.SIZE_BYTES).from(RESULT_CACHE).limit(1).fetchOne().value1());
      assertThat(grid.<Integer>query(dsl -> new ResultCache(dsl, new ResultCache.Policy(Duration.ofHours(1), one)).sweep()))
          .isEqualTo(1);
      assertThat(submit("{\"type\": \"noop\", \"echo\": \"d\"}").getCacheHit()).isFalse();
      // A second sweep, by another replica say, deletes nothing more.
      assertThat(grid.<Integer>query(dsl -> new ResultCache(dsl, new ResultCache.Policy(Duration.ofHours(1), one)).sweep()))
          .isZero();
      // Older than a TTL of a millisecond: all of it goes.
      await().pollDelay(Duration.ofMillis(5)).until(() -> true);
      assertThat(grid.<Integer>query(dsl -> new ResultCache(dsl, new ResultCache.Policy(Duration.ofMillis(1), one)).sweep()))
          .isEqualTo(1);
      assertThat(submit("{\"type\": \"noop\", \"echo\": \"e\"}").getCacheHit()).isFalse();
      noAssignmentBut(w, 2);
    }
  }

  /** The worker is handed exactly {@code n} more jobs (the misses), which it completes. */
  private static void noAssignmentBut(TestWorker w, int n) {
    w.credit(n);
    for (int i = 0; i < n; i++) {
      Assignment a = nextAssignmentAfterAcks(w);
      w.complete(a.getJobId(), a.getAttempt(), "{}");
    }
    noAssignment(w);
  }

  @Test
  void aPaidHitPaysNothing() {
    PaymentServiceBlockingStub pay = GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()), aliceKey);
    try (TestWorker w = grid.worker("cache-w5", "noop")) {
      run(w, "{\"type\": \"noop\", \"echo\": \"paid\"}", "{\"echo\": \"paid\"}");
      String before = balance(pay);
      Job hit = submit(CreateJobRequest.newBuilder().setPayloadJson("{\"type\": \"noop\", \"echo\": \"paid\"}")
          .setPaymentAmount("2.5").setPaymentCurrency("AITBC").build());
      assertThat(hit.getCacheHit()).isTrue();
      assertThat(hit.getPaymentId()).isEmpty();
      assertThat(read(hit.getJobId()).getPaymentId()).isEmpty();
      assertThat(balance(pay)).isEqualTo(before);
      // Nor can it be paid for afterwards: no worker ran it, so no one could be paid.
      StatusRuntimeException late = catchThrowableOfType(StatusRuntimeException.class,
          () -> pay.createPayment(CreatePaymentRequest.newBuilder().setJobId(hit.getJobId()).setAmount("1")
              .setCurrency("aitbc").setPaymentMethod("aitbc_token").setEscrowTimeoutSeconds(3600).build()));
      assertThat(late.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(late.getStatus().getDescription()).contains("result cache");
      assertThat(balance(pay)).isEqualTo(before);
      // A paid miss still escrows.
      Job miss = submit(CreateJobRequest.newBuilder().setPayloadJson("{\"type\": \"noop\", \"echo\": \"new\"}")
          .setPaymentAmount("2.5").setPaymentCurrency("AITBC").build());
      assertThat(miss.getCacheHit()).isFalse();
      assertThat(miss.getPaymentId()).isNotEmpty();
    }
  }

  private static String balance(PaymentServiceBlockingStub who) {
    return who.getBalance(GetBalanceRequest.getDefaultInstance()).getBalancesList().stream()
        .filter(b -> b.getKind() == AccountKind.ACCOUNT_KIND_CLIENT && b.getCurrency().equals("AITBC"))
        .map(AccountBalance::getBalance).findFirst().orElse("0");
  }
}
