package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.db.Tables.ACCOUNT;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.VoidReason;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc.PaymentServiceBlockingStub;
import net.aitbc.grid.v1.RefundPaymentRequest;
import net.aitbc.grid.v1.RefundPaymentResponse;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The completion of a paid job, reported by its worker over the real stream, against the client's
 * refund of its payment over gRPC, 1,000 times with real concurrency (each pair released together,
 * a wave of races at a time): exactly one wins each time. Either the payment is released to the
 * owner of the worker that ran the job, less the fee, and the refund is refused with
 * FAILED_PRECONDITION (already released); or it is refunded and the completion still completes the
 * job, with its result and receipt, and pays nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PaymentCompletionRaceIT {
  private static final int RACES = 1000;
  private static final int WAVE = 50;
  private static final String CLIENT = "racer";
  private static final BigDecimal AMOUNT = BigDecimal.ONE;
  private static final BigDecimal FEE = new BigDecimal("0.05");

  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.paymentFee(500));

  private static JobServiceBlockingStub jobs;
  private static PaymentServiceBlockingStub payments;
  /** Workers of two owners, so that each release is seen to go to the owner of the worker that ran the job. */
  private static final Map<String, String> OWNERS = Map.of("race-a1", "owner", "race-a2", "owner",
      "race-b1", "owner-b", "race-b2", "owner-b");
  private static final Map<TestWorker, String> workers = new java.util.LinkedHashMap<>();
  private static ExecutorService threads;
  private static ScheduledExecutorService heartbeats;

  @BeforeAll
  static void setUp() {
    String key = grid.clientKey(CLIENT);
    jobs = grid.clientWithKey(key);
    payments = GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()), key);
    GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()),
        grid.coordinator().createKey(Role.ADMIN, "ops")).deposit(DepositRequest.newBuilder().setClientId(CLIENT)
        .setAmount(Integer.toString(RACES)).setCurrency("AITBC").setIdempotencyKey("racer-fund").build());
    String ownerB = grid.coordinator().createKey(Role.WORKER, "owner-b");
    for (String id : OWNERS.keySet().stream().sorted().toList()) {
      workers.put(TestWorker.connect(grid.coordinator().grpcPort(), id.startsWith("race-a") ? grid.workerKey() : ownerB,
          Register.newBuilder().setWorkerId(id).setVersion("test")
              .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes("race").setConcurrency(WAVE)).build()), id);
    }
    threads = Executors.newFixedThreadPool(3 * WAVE);
    // The sessions live through waves slowed down by a busy machine, as a real worker's heartbeat keeps them.
    heartbeats = Executors.newSingleThreadScheduledExecutor();
    heartbeats.scheduleWithFixedDelay(() -> workers.keySet().forEach(TestWorker::heartbeat), 500, 500,
        TimeUnit.MILLISECONDS);
  }

  @AfterAll
  static void tearDown() {
    heartbeats.shutdownNow();
    threads.shutdownNow();
    workers.keySet().forEach(TestWorker::close);
  }

  /** One race: the job, where it runs, and what each side was told. */
  private record Race(UUID jobId, UUID paymentId, String workerId, int attempt, OutcomeAck ack, Refund refund) {}

  /** The refund's answer: the payment refunded, or the refusal's status, reason and description. */
  private record Refund(boolean won, Status.Code code, String reason, String description) {}

  @Test
  void completionAgainstRefundOfTheSamePaymentHasExactlyOneWinner() throws Exception {
    List<Race> races = new ArrayList<>(RACES);
    for (int start = 0; start < RACES; start += WAVE) {
      races.addAll(wave(Math.min(WAVE, RACES - start)));
    }

    Map<UUID, Race> byJob = new HashMap<>();
    races.forEach(r -> byJob.put(r.jobId(), r));
    assertThat(byJob).hasSize(RACES);
    var rows = grid.query(db -> db.select(JOB.JOB_ID, JOB.STATE, JOB.RESULT, PAYMENT.STATUS, PAYMENT.VOID_REASON,
            PAYMENT.WORKER_OWNER_ID, PAYMENT.WORKER_ID, PAYMENT.FEE_AMOUNT)
        .from(JOB).join(PAYMENT).on(PAYMENT.PAYMENT_ID.eq(JOB.PAYMENT_ID))
        .where(JOB.CLIENT_ID.eq(CLIENT)).fetch());
    Map<UUID, Integer> receipts = new HashMap<>();
    Map<UUID, Integer> paymentReceipts = new HashMap<>();
    grid.query(db -> db.select(RECEIPT.JOB_ID, RECEIPT.PAYMENT_ID).from(RECEIPT).fetch())
        .forEach(r -> (r.value2() == null ? receipts : paymentReceipts).merge(r.value1(), 1, Integer::sum));
    assertThat(rows).hasSize(RACES);
    int released = 0;
    Map<String, Integer> releasedTo = new HashMap<>();
    for (var row : rows) {
      Race race = byJob.get(row.value1());
      String what = "race of job " + JobIds.format(race.jobId()) + ": " + race;
      // The outcome is recorded whoever wins: the job completed with its result and its receipt.
      assertThat(race.ack().getAccepted()).as(what).isTrue();
      assertThat(row.value2()).as(what).isEqualTo(JobState.COMPLETED);
      assertThat(row.value3().data().replace(" ", "")).as(what).isEqualTo("{\"race\":true}");
      assertThat(receipts.get(race.jobId())).as(what + ": job receipts").isEqualTo(1);
      // Whoever won, the payment ended once, with one receipt of its own.
      assertThat(paymentReceipts.get(race.jobId())).as(what + ": payment receipts").isEqualTo(1);
      if (race.refund().won()) {
        assertThat(row.value4()).as(what).isEqualTo(PaymentStatus.refunded);
        assertThat(row.value5()).as(what).isEqualTo(VoidReason.refund);
      } else {
        assertThat(race.refund().code()).as(what).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(race.refund().reason()).as(what).isEqualTo("SETTLED");
        assertThat(race.refund().description()).as(what).contains("is already released", "cannot be refunded");
        assertThat(row.value4()).as(what).isEqualTo(PaymentStatus.released);
        assertThat(row.value6()).as(what).isEqualTo(OWNERS.get(race.workerId()));
        assertThat(row.value7()).as(what).isEqualTo(race.workerId());
        assertThat(row.value8()).as(what).isEqualByComparingTo(FEE);
        released++;
        releasedTo.merge(row.value6(), 1, Integer::sum);
      }
    }
    int refunded = RACES - released;
    System.out.printf("completion against refund, %d races: %d completions paid out, %d refunds won (%s)%n",
        RACES, released, refunded, releasedTo);
    // Real races: with the sides released together, each side wins some.
    assertThat(released).as("completions that won").isPositive();
    assertThat(refunded).as("refunds that won").isPositive();

    BigDecimal paidOut = AMOUNT.subtract(FEE);
    for (String owner : List.of("owner", "owner-b")) {
      assertThat(balance(owner, AccountKind.worker_owner)).as("earned by %s", owner)
          .isEqualByComparingTo(paidOut.multiply(BigDecimal.valueOf(releasedTo.getOrDefault(owner, 0))));
    }
    assertThat(balance(CLIENT, AccountKind.client)).as("the client's balance")
        .isEqualByComparingTo(BigDecimal.valueOf(RACES - released));
    assertThat(balance("platform", AccountKind.platform_fee)).as("fees")
        .isEqualByComparingTo(FEE.multiply(BigDecimal.valueOf(released)));
    grid.query(db -> {
      PaymentInvariants.check(db);
      return null;
    });
  }

  /** Runs {@code n} races at once: n paid jobs handed to the workers, then each completion against its refund. */
  private List<Race> wave(int n) throws Exception {
    List<Future<Job>> created = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      created.add(threads.submit(() -> jobs.createJob(CreateJobRequest.newBuilder()
          .setPayloadJson("{\"type\":\"race\"}").setPaymentAmount(AMOUNT.toPlainString()).setPaymentCurrency("AITBC")
          .build()).getJob()));
    }
    Map<String, UUID> paymentOf = new HashMap<>();
    for (Future<Job> f : created) {
      Job j = f.get(10, TimeUnit.SECONDS);
      assertThat(j.getPaymentId()).as("job %s paid for", j.getJobId()).isNotEmpty();
      paymentOf.put(j.getJobId(), JobIds.parse(j.getPaymentId()).orElseThrow());
    }
    // Each worker may take every job of the wave (what is left over carries to the next).
    workers.keySet().forEach(w -> w.credit(n));
    Map<String, Assignment> assigned = new HashMap<>();
    Map<String, TestWorker> heldBy = new HashMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (assigned.size() < n) {
      assertThat(System.nanoTime() - deadline).as("jobs of the wave assigned within 20 s: %d of %d", assigned.size(), n)
          .isNegative();
      for (TestWorker w : workers.keySet()) {
        for (ConnectResponse m : w.drainReceived()) {
          assertThat(m.getMessageCase()).as("a message to %s", w.registered().getSessionId())
              .isEqualTo(ConnectResponse.MessageCase.ASSIGNMENT);
          assigned.put(m.getAssignment().getJobId(), m.getAssignment());
          heldBy.put(m.getAssignment().getJobId(), w);
        }
      }
      LockSupport.parkNanos(200_000);
    }
    assertThat(assigned.keySet()).isEqualTo(paymentOf.keySet());

    List<Future<?>> completions = new ArrayList<>(n);
    List<Future<Refund>> refunds = new ArrayList<>(n);
    List<String> order = new ArrayList<>(assigned.keySet());
    for (String jobId : order) {
      Assignment a = assigned.get(jobId);
      TestWorker w = heldBy.get(jobId);
      CyclicBarrier together = new CyclicBarrier(2);
      // A little jitter either side, so that neither way in always gets there first.
      long jitter = ThreadLocalRandom.current().nextLong(-500_000, 500_000);
      completions.add(threads.submit(() -> {
        together.await(10, TimeUnit.SECONDS);
        LockSupport.parkNanos(Math.max(0, jitter));
        w.complete(jobId, a.getAttempt(), "{\"race\":true}");
        return null;
      }));
      refunds.add(threads.submit(() -> {
        together.await(10, TimeUnit.SECONDS);
        LockSupport.parkNanos(Math.max(0, -jitter));
        return refund(paymentOf.get(jobId), jobId);
      }));
    }
    for (Future<?> c : completions) {
      c.get(10, TimeUnit.SECONDS);
    }
    Map<String, OutcomeAck> acks = new HashMap<>();
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (acks.size() < n) {
      assertThat(System.nanoTime() - deadline).as("outcomes of the wave acknowledged within 20 s: %d of %d",
          acks.size(), n).isNegative();
      for (TestWorker w : workers.keySet()) {
        for (ConnectResponse m : w.drainReceived()) {
          assertThat(m.getMessageCase()).isEqualTo(ConnectResponse.MessageCase.OUTCOME_ACK);
          acks.put(m.getOutcomeAck().getJobId(), m.getOutcomeAck());
        }
      }
      LockSupport.parkNanos(500_000);
    }
    List<Race> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String jobId = order.get(i);
      Assignment a = assigned.get(jobId);
      out.add(new Race(JobIds.parse(jobId).orElseThrow(), paymentOf.get(jobId), workers.get(heldBy.get(jobId)),
          a.getAttempt(), acks.get(jobId), refunds.get(i).get(10, TimeUnit.SECONDS)));
    }
    return out;
  }

  /** The refund's answer; UNAVAILABLE (no connection within the pool's wait, on a loaded host) is retried, as a client would. */
  private static Refund refund(UUID paymentId, String jobId) {
    Refund r = refundOnce(paymentId, jobId);
    for (int retry = 0; retry < 3 && r.code() == Status.Code.UNAVAILABLE; retry++) {
      r = refundOnce(paymentId, jobId);
    }
    return r;
  }

  private static Refund refundOnce(UUID paymentId, String jobId) {
    try {
      RefundPaymentResponse r = payments.withDeadlineAfter(10, TimeUnit.SECONDS).refundPayment(
          RefundPaymentRequest.newBuilder().setPaymentId(JobIds.format(paymentId)).setJobId(jobId).build());
      assertThat(r.getChanged()).as("refund of %s moved the money", jobId).isTrue();
      assertThat(r.getPayment().getStatus()).isEqualTo(net.aitbc.grid.v1.PaymentStatus.PAYMENT_STATUS_REFUNDED);
      return new Refund(true, Status.Code.OK, "", "");
    } catch (StatusRuntimeException e) {
      var details = StatusProto.fromThrowable(e);
      String reason = "";
      if (details != null && details.getDetailsCount() > 0) {
        try {
          reason = details.getDetails(0).unpack(ErrorInfo.class).getReason();
        } catch (com.google.protobuf.InvalidProtocolBufferException notInfo) {
          reason = "(unreadable details)";
        }
      }
      return new Refund(false, e.getStatus().getCode(), reason, String.valueOf(e.getStatus().getDescription()));
    }
  }

  private static BigDecimal balance(String owner, AccountKind kind) {
    return grid.query(db -> db.select(ACCOUNT.BALANCE).from(ACCOUNT)
        .where(ACCOUNT.OWNER_ID.eq(owner), ACCOUNT.KIND.eq(kind)).fetchOptional(ACCOUNT.BALANCE)
        .orElse(BigDecimal.ZERO));
  }
}
