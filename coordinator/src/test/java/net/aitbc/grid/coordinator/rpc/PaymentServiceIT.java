package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.AccountBalance;
import net.aitbc.grid.v1.AccountKind;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.CreatePaymentResponse;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.SetCreditLimitRequest;
import net.aitbc.grid.v1.GetBalanceRequest;
import net.aitbc.grid.v1.GetEarningsRequest;
import net.aitbc.grid.v1.GetEarningsResponse;
import net.aitbc.grid.v1.GetJobPaymentRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetPaymentReceiptRequest;
import net.aitbc.grid.v1.GetPaymentRequest;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListTransfersRequest;
import net.aitbc.grid.v1.Payment;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc.PaymentServiceBlockingStub;
import net.aitbc.grid.v1.PaymentStatus;
import net.aitbc.grid.v1.RefundPaymentRequest;
import net.aitbc.grid.v1.ReleasePaymentRequest;
import net.aitbc.grid.v1.Transfer;
import net.aitbc.grid.v1.TransferKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** PaymentService over real gRPC: who may do what, bad input, and money moving with the job's life. */
class PaymentServiceIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.paymentFee(500));

  private static JobServiceBlockingStub aliceJobs;
  private static PaymentServiceBlockingStub alice;
  private static PaymentServiceBlockingStub bob;
  private static PaymentServiceBlockingStub admin;
  private static PaymentServiceBlockingStub workerOwner;

  @BeforeAll
  static void keys() {
    String aliceKey = grid.clientKey("alice");
    aliceJobs = grid.clientWithKey(aliceKey);
    alice = payments(aliceKey);
    bob = payments(grid.clientKey("bob"));
    admin = payments(grid.coordinator().createKey(Role.ADMIN, "ops"));
    workerOwner = payments(grid.workerKey());
    admin.deposit(DepositRequest.newBuilder().setClientId("alice").setAmount("100").setIdempotencyKey("alice-100")
        .build());
    admin.deposit(DepositRequest.newBuilder().setClientId("bob").setAmount("100").setIdempotencyKey("bob-100")
        .build());
  }

  private static PaymentServiceBlockingStub payments(String key) {
    return GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()), key);
  }

  @AfterEach
  void moneyAddsUp() {
    grid.query(dsl -> {
      PaymentInvariants.check(dsl);
      return null;
    });
  }

  private static String job(String type) {
    return aliceJobs.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}").build())
        .getJob().getJobId();
  }

  private static CreatePaymentResponse pay(String jobId, String amount) {
    return alice.createPayment(CreatePaymentRequest.newBuilder().setJobId(jobId).setAmount(amount)
        .setCurrency("aitbc").setPaymentMethod("aitbc_token").setEscrowTimeoutSeconds(3600).build());
  }

  private static String balance(PaymentServiceBlockingStub who, AccountKind kind) {
    return who.getBalance(GetBalanceRequest.getDefaultInstance()).getBalancesList().stream()
        .filter(b -> b.getKind() == kind && b.getCurrency().equals("AITBC")).map(AccountBalance::getBalance)
        .findFirst().orElse("0");
  }

  /** The next assignment; the ack of an earlier completion may come before or after it. */
  private static Assignment nextAssignmentAfterAcks(TestWorker w) {
    while (true) {
      ConnectResponse m = w.next();
      if (m.hasAssignment()) {
        return m.getAssignment();
      }
      assertThat(m.getMessageCase()).isEqualTo(ConnectResponse.MessageCase.OUTCOME_ACK);
    }
  }

  private static Status.Code code(Runnable call) {
    try {
      call.run();
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
    throw new AssertionError("the call succeeded");
  }

  @Test
  void aDepositRetriedMovesNothingAndOnlyAnAdminDeposits() {
    var again = admin.deposit(DepositRequest.newBuilder().setClientId("alice").setAmount("100")
        .setIdempotencyKey("alice-100").build());
    assertThat(again.getRepeated()).isTrue();
    assertThat(code(() -> alice.deposit(DepositRequest.newBuilder().setClientId("alice").setAmount("5").build())))
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> admin.deposit(DepositRequest.newBuilder().setClientId("alice").setAmount("-5").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void onlyAnAdminSetsACreditLimitAndItLetsTheBalanceGoThatFarBelowZero() {
    SetCreditLimitRequest dave = SetCreditLimitRequest.newBuilder().setClientId("dave").setCreditLimit("3").build();
    assertThat(code(() -> alice.setCreditLimit(dave))).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(code(() -> admin.setCreditLimit(dave.toBuilder().setCreditLimit("-1").build())))
        .isEqualTo(Status.Code.INVALID_ARGUMENT);
    var set = admin.setCreditLimit(dave).getAccount();
    assertThat(set.getCreditLimit()).isEqualTo("3");
    assertThat(set.getBalance()).isEqualTo("0");
  }

  @Test
  void payingEscrowsOnceAndCancelingTheJobRefunds() {
    String before = balance(alice, AccountKind.ACCOUNT_KIND_CLIENT);
    String jobId = job("pay-cancel");
    CreatePaymentResponse made = pay(jobId, "2.5");
    assertThat(made.getExisting()).isFalse();
    Payment p = made.getPayment();
    assertThat(p.getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_ESCROWED);
    assertThat(p.getAmount()).isEqualTo("2.5");
    assertThat(p.getCurrency()).isEqualTo("AITBC");
    assertThat(p.getPaymentId()).matches("[0-9a-f]{32}");
    assertThat(pay(jobId, "2.50").getExisting()).isTrue();
    assertThat(aliceJobs.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob().getPaymentId())
        .isEqualTo(p.getPaymentId());
    assertThat(alice.getJobPayment(GetJobPaymentRequest.newBuilder().setJobId(jobId).build()).getPayment())
        .isEqualTo(p);

    aliceJobs.cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build());
    Payment refunded = alice.getPayment(GetPaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build())
        .getPayment();
    assertThat(refunded.getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_REFUNDED);
    assertThat(refunded.getRefundReason()).isEqualTo("cancel");
    assertThat(refunded.getSettlementTransferId()).matches("[0-9a-f]{32}");
    assertThat(balance(alice, AccountKind.ACCOUNT_KIND_CLIENT)).isEqualTo(before);
    List<Transfer> transfers = alice.listTransfers(ListTransfersRequest.newBuilder().setPageSize(2).build())
        .getTransfersList();
    assertThat(transfers).extracting(Transfer::getKind)
        .containsExactlyInAnyOrder(TransferKind.TRANSFER_KIND_ESCROW, TransferKind.TRANSFER_KIND_VOID);
  }

  @Test
  void anotherClientsJobOrPaymentIsNotFound() {
    String jobId = job("pay-private");
    Payment p = pay(jobId, "1").getPayment();
    String bobBefore = balance(bob, AccountKind.ACCOUNT_KIND_CLIENT);
    assertThat(List.of(
        code(() -> bob.getPayment(GetPaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build())),
        code(() -> bob.getJobPayment(GetJobPaymentRequest.newBuilder().setJobId(jobId).build())),
        code(() -> bob.getPaymentReceipt(GetPaymentReceiptRequest.newBuilder().setPaymentId(p.getPaymentId())
            .build())),
        code(() -> bob.refundPayment(RefundPaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build())),
        code(() -> bob.releasePayment(ReleasePaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build())),
        code(() -> bob.createPayment(CreatePaymentRequest.newBuilder().setJobId(jobId).setAmount("1").build()))))
        .containsOnly(Status.Code.NOT_FOUND);
    assertThat(balance(bob, AccountKind.ACCOUNT_KIND_CLIENT)).isEqualTo(bobBefore);
    // A worker key reads balances only.
    assertThat(code(() -> workerOwner.getPayment(GetPaymentRequest.newBuilder().setPaymentId(p.getPaymentId())
        .build()))).isEqualTo(Status.Code.PERMISSION_DENIED);
  }

  @Test
  void badInputIsRefusedAndMovesNothing() {
    String jobId = job("pay-bad");
    String before = balance(alice, AccountKind.ACCOUNT_KIND_CLIENT);
    for (String amount : List.of("-1", "0", "0.009", "1000000.01", "1.123456789", "1e309", "abc", "")) {
      assertThat(code(() -> pay(jobId, amount))).as(amount).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    for (var bad : List.of(CreatePaymentRequest.newBuilder().setJobId(jobId).setAmount("1").setCurrency("EUR"),
        CreatePaymentRequest.newBuilder().setJobId(jobId).setAmount("1").setEscrowTimeoutSeconds(299),
        CreatePaymentRequest.newBuilder().setJobId(jobId).setAmount("1").setEscrowTimeoutSeconds(86_401))) {
      assertThat(code(() -> alice.createPayment(bad.build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    StatusRuntimeException poor = (StatusRuntimeException) org.assertj.core.api.Assertions.catchThrowable(
        () -> pay(jobId, "1000000"));
    assertThat(poor.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(poor.getStatus().getDescription()).contains("insufficient funds");
    assertThat(code(() -> pay("f".repeat(32), "1"))).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(code(() -> alice.getJobPayment(GetJobPaymentRequest.newBuilder().setJobId(jobId).build())))
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(balance(alice, AccountKind.ACCOUNT_KIND_CLIENT)).isEqualTo(before);
  }

  @Test
  void aRunningJobIsReleasedToItsWorkersOwnerAndACompletedOneAtOnce() {
    String ownerBefore = balance(workerOwner, AccountKind.ACCOUNT_KIND_WORKER_OWNER);
    try (TestWorker w = grid.worker("pay-w1", "pay-run")) {
      w.credit(2);
      String running = job("pay-run");
      Assignment a = w.nextAssignment();
      assertThat(a.getJobId()).isEqualTo(running);
      Payment p = pay(running, "4").getPayment();
      Payment released = alice.releasePayment(ReleasePaymentRequest.newBuilder().setPaymentId(p.getPaymentId())
          .setJobId(running).build()).getPayment();
      assertThat(released.getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_RELEASED);
      assertThat(released.getWorkerOwnerId()).isEqualTo("owner");
      assertThat(released.getFeeAmount()).isEqualTo("0.2");
      assertThat(code(() -> alice.refundPayment(RefundPaymentRequest.newBuilder().setPaymentId(p.getPaymentId())
          .build()))).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(alice.releasePayment(ReleasePaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build())
          .getChanged()).isFalse();

      w.complete(a.getJobId(), a.getAttempt(), "{\"ok\":true}");
      String done = job("pay-run");
      Assignment b = nextAssignmentAfterAcks(w);
      w.complete(b.getJobId(), b.getAttempt(), "{\"ok\":true}");
      await().atMost(Duration.ofSeconds(10)).until(() -> aliceJobs.getJob(GetJobRequest.newBuilder().setJobId(done)
          .build()).getJob().getState() == JobState.JOB_STATE_COMPLETED);
      assertThat(pay(done, "2").getPayment().getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_RELEASED);
    }
    assertThat(new java.math.BigDecimal(balance(workerOwner, AccountKind.ACCOUNT_KIND_WORKER_OWNER))
        .subtract(new java.math.BigDecimal(ownerBefore))).isEqualByComparingTo("5.7");
    GetEarningsResponse earned = workerOwner.getEarnings(GetEarningsRequest.newBuilder().setWorkerId("pay-w1").build());
    assertThat(earned.getOwnerId()).isEqualTo("owner");
    assertThat(earned.getTotalsList()).singleElement().satisfies(t -> {
      assertThat(t.getEarned()).isEqualTo("5.7");
      assertThat(t.getCompletedJobs()).isEqualTo(2);
    });
    assertThat(earned.getHistoryList()).hasSize(2).allSatisfy(p -> assertThat(p.getWorkerOwnerId()).isEqualTo("owner"));
    assertThatThrownBy(() -> workerOwner.createPayment(CreatePaymentRequest.newBuilder().setJobId("a".repeat(32))
        .setAmount("1").build())).isInstanceOf(StatusRuntimeException.class).hasMessageContaining("PERMISSION_DENIED");
  }

  @Test
  void theCompletionOfAPaidJobReleasesItsEscrowInTheSameTransaction() {
    String ownerBefore = balance(workerOwner, AccountKind.ACCOUNT_KIND_WORKER_OWNER);
    try (TestWorker w = grid.worker("pay-w2", "pay-done")) {
      w.credit(1);
      String jobId = job("pay-done");
      Assignment a = w.nextAssignment();
      Payment p = pay(jobId, "3").getPayment();
      assertThat(p.getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_ESCROWED);
      w.complete(a.getJobId(), a.getAttempt(), "{\"ok\":true}");
      await().atMost(Duration.ofSeconds(10)).until(() -> alice.getPayment(GetPaymentRequest.newBuilder()
          .setPaymentId(p.getPaymentId()).build()).getPayment().getStatus() == PaymentStatus.PAYMENT_STATUS_RELEASED);
      // The job and its payment were committed together: completed is never seen with the escrow still held.
      assertThat(aliceJobs.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob().getState())
          .isEqualTo(JobState.JOB_STATE_COMPLETED);
    }
    assertThat(new java.math.BigDecimal(balance(workerOwner, AccountKind.ACCOUNT_KIND_WORKER_OWNER))
        .subtract(new java.math.BigDecimal(ownerBefore))).isEqualByComparingTo("2.85");
  }

  @Test
  void paidJobsSubmittedTogetherAreStoredWithTheirEscrowOrNotAtAll() throws Exception {
    String carolKey = grid.clientKey("carol");
    JobServiceBlockingStub carolJobs = grid.clientWithKey(carolKey);
    admin.deposit(DepositRequest.newBuilder().setClientId("carol").setAmount("100").setIdempotencyKey("carol-100")
        .build());
    int n = 30;
    List<java.util.concurrent.Future<Object>> answers = new java.util.ArrayList<>();
    // Submitted at once so that the committer batches them: 20 fit the balance, 10 do not.
    try (var pool = java.util.concurrent.Executors.newFixedThreadPool(n)) {
      var start = new java.util.concurrent.CountDownLatch(1);
      for (int i = 0; i < n; i++) {
        answers.add(pool.submit(() -> {
          start.await();
          try {
            return carolJobs.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"pay-batch\"}")
                .setPaymentAmount("5").setPaymentCurrency("aitbc").build()).getJob();
          } catch (StatusRuntimeException e) {
            return e;
          }
        }));
      }
      start.countDown();
    }
    List<net.aitbc.grid.v1.Job> stored = new java.util.ArrayList<>();
    for (var a : answers) {
      Object o = a.get();
      if (o instanceof net.aitbc.grid.v1.Job j) {
        stored.add(j);
      } else {
        StatusRuntimeException e = (StatusRuntimeException) o;
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(io.grpc.protobuf.StatusProto.fromThrowable(e).getDetails(0)
            .unpack(com.google.rpc.ErrorInfo.class).getReason()).isEqualTo("INSUFFICIENT_FUNDS");
      }
    }
    assertThat(stored).hasSize(20).allSatisfy(j -> {
      assertThat(j.getPaymentId()).matches("[0-9a-f]{32}");
      assertThat(j.getPaymentStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_ESCROWED);
    });
    assertThat(carolJobs.listJobs(net.aitbc.grid.v1.ListJobsRequest.newBuilder().setPageSize(100).build())
        .getJobsList()).hasSize(20).allSatisfy(j -> assertThat(j.getPaymentStatus())
            .isEqualTo(PaymentStatus.PAYMENT_STATUS_ESCROWED));
    PaymentServiceBlockingStub carol = payments(carolKey);
    assertThat(carol.getBalance(GetBalanceRequest.getDefaultInstance()).getBalancesList())
        .filteredOn(b -> b.getKind() == AccountKind.ACCOUNT_KIND_CLIENT).singleElement()
        .satisfies(b -> assertThat(new java.math.BigDecimal(b.getBalance())).isEqualByComparingTo("0"));
    // Bad amounts on a job are refused before anything is stored.
    assertThat(code(() -> carolJobs.createJob(CreateJobRequest.newBuilder().setPayloadJson("{}")
        .setPaymentAmount("0.001").build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(code(() -> carolJobs.createJob(CreateJobRequest.newBuilder().setPayloadJson("{}")
        .setPaymentAmount("1").setPaymentCurrency("DOGE").build()))).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }
}
