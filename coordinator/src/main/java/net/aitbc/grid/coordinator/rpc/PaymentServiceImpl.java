package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.store.AccountStore;
import net.aitbc.grid.coordinator.store.EarningsStore;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Money;
import net.aitbc.grid.coordinator.store.NewPayment;
import net.aitbc.grid.coordinator.store.PaymentRefused;
import net.aitbc.grid.coordinator.store.PaymentStore;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredPayment;
import net.aitbc.grid.coordinator.store.TransferEntry;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.CreatePaymentResponse;
import net.aitbc.grid.v1.CurrencyEarnings;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.DepositResponse;
import net.aitbc.grid.v1.GetBalanceRequest;
import net.aitbc.grid.v1.GetBalanceResponse;
import net.aitbc.grid.v1.GetEarningsRequest;
import net.aitbc.grid.v1.GetEarningsResponse;
import net.aitbc.grid.v1.GetJobPaymentRequest;
import net.aitbc.grid.v1.GetJobPaymentResponse;
import net.aitbc.grid.v1.GetPaymentReceiptRequest;
import net.aitbc.grid.v1.GetPaymentReceiptResponse;
import net.aitbc.grid.v1.GetPaymentRequest;
import net.aitbc.grid.v1.GetPaymentResponse;
import net.aitbc.grid.v1.ListTransfersRequest;
import net.aitbc.grid.v1.ListTransfersResponse;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.RefundPaymentRequest;
import net.aitbc.grid.v1.RefundPaymentResponse;
import net.aitbc.grid.v1.ReleasePaymentRequest;
import net.aitbc.grid.v1.ReleasePaymentResponse;
import net.aitbc.grid.v1.SetCreditLimitRequest;
import net.aitbc.grid.v1.SetCreditLimitResponse;
import org.jspecify.annotations.Nullable;

/**
 * Payments and accounts. A client (or an admin, for its own client id) pays for, reads, refunds and
 * releases only its own jobs' payments: another's is NOT_FOUND. A worker key reads its owner's
 * balance and transfers only. Deposits are for admin keys.
 */
public final class PaymentServiceImpl extends PaymentServiceGrpc.PaymentServiceImplBase {
  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 200;
  private static final int MAX_METHOD = 64;
  /** The ErrorInfo domain of payment refusals. */
  static final String ERROR_DOMAIN = "payments.aitbc.net";

  private final PaymentStore payments;
  private final AccountStore accounts;
  private final EarningsStore earnings;
  private final ReceiptStore receipts;
  private final @Nullable Ledger ledger;

  /** The service over these stores; without a ledger (no signing key) payments have no receipts. */
  public PaymentServiceImpl(PaymentStore payments, AccountStore accounts, EarningsStore earnings,
      ReceiptStore receipts, @Nullable Ledger ledger) {
    this.payments = requireNonNull(payments, "payments");
    this.accounts = requireNonNull(accounts, "accounts");
    this.earnings = requireNonNull(earnings, "earnings");
    this.receipts = requireNonNull(receipts, "receipts");
    this.ledger = ledger;
  }

  @Override
  public void createPayment(CreatePaymentRequest request, StreamObserver<CreatePaymentResponse> out) {
    answer(out, () -> {
      String client = payer();
      UUID job = JobIds.parse(request.getJobId()).orElseThrow(() -> notFound("job " + quote(request.getJobId())
          + " not found"));
      String method = request.getPaymentMethod().isEmpty() ? "aitbc_token" : request.getPaymentMethod();
      if (method.length() > MAX_METHOD || method.indexOf('\0') >= 0) {
        throw invalid("payment_method must be at most " + MAX_METHOD + " characters without NUL");
      }
      NewPayment p = new NewPayment(new JobIds().next(), job, client,
          Money.paymentAmount(Money.parse(request.getAmount(), "amount")), Money.currency(request.getCurrency()),
          method, Money.escrowTimeout(request.getEscrowTimeoutSeconds()));
      PaymentStore.Created made = payments.create(p);
      return CreatePaymentResponse.newBuilder().setPayment(PaymentProtos.payment(made.payment()))
          .setExisting(made.existing()).build();
    });
  }

  @Override
  public void getPayment(GetPaymentRequest request, StreamObserver<GetPaymentResponse> out) {
    answer(out, () -> GetPaymentResponse.newBuilder()
        .setPayment(PaymentProtos.payment(find(request.getPaymentId(), payer()))).build());
  }

  @Override
  public void getPaymentReceipt(GetPaymentReceiptRequest request, StreamObserver<GetPaymentReceiptResponse> out) {
    answer(out, () -> {
      String client = payer();
      StoredPayment p = find(request.getPaymentId(), client);
      GetPaymentReceiptResponse.Builder b = GetPaymentReceiptResponse.newBuilder()
          .setPayment(PaymentProtos.payment(p));
      Ledger l = ledger;
      if (l != null) {
        receipts.byPayment(p.paymentId(), client).ifPresent(r -> b.setReceipt(LedgerProtos.receipt(r, l)));
        receipts.byJob(p.jobId(), client).ifPresent(r -> b.setJobReceiptId(JobIds.format(r.receiptId())));
      }
      return b.build();
    });
  }

  @Override
  public void getJobPayment(GetJobPaymentRequest request, StreamObserver<GetJobPaymentResponse> out) {
    answer(out, () -> {
      String client = payer();
      StoredPayment p = JobIds.parse(request.getJobId()).flatMap(job -> payments.findByJob(job, client))
          .orElseThrow(() -> notFound("no payment found for job " + quote(request.getJobId())));
      return GetJobPaymentResponse.newBuilder().setPayment(PaymentProtos.payment(p)).build();
    });
  }

  @Override
  public void refundPayment(RefundPaymentRequest request, StreamObserver<RefundPaymentResponse> out) {
    answer(out, () -> {
      String client = payer();
      UUID id = owned(request.getPaymentId(), request.getJobId(), client);
      PaymentStore.Settled s = payments.refund(id, client);
      return RefundPaymentResponse.newBuilder().setPayment(PaymentProtos.payment(s.payment()))
          .setChanged(s.changed()).build();
    });
  }

  @Override
  public void releasePayment(ReleasePaymentRequest request, StreamObserver<ReleasePaymentResponse> out) {
    answer(out, () -> {
      String client = payer();
      UUID id = owned(request.getPaymentId(), request.getJobId(), client);
      PaymentStore.Settled s = payments.release(id, client);
      return ReleasePaymentResponse.newBuilder().setPayment(PaymentProtos.payment(s.payment()))
          .setChanged(s.changed()).build();
    });
  }

  @Override
  public void getBalance(GetBalanceRequest request, StreamObserver<GetBalanceResponse> out) {
    answer(out, () -> {
      Principal p = AuthInterceptor.principal();
      String owner = request.getClientId().isEmpty() ? p.clientId() : request.getClientId();
      if (!owner.equals(p.clientId()) && p.role() != Role.ADMIN) {
        throw Status.PERMISSION_DENIED.withDescription("only an admin key can read another client's balance")
            .asRuntimeException();
      }
      GetBalanceResponse.Builder b = GetBalanceResponse.newBuilder().setOwnerId(owner);
      accounts.balances(owner).forEach(a -> b.addBalances(PaymentProtos.balance(a)));
      return b.build();
    });
  }

  @Override
  public void listTransfers(ListTransfersRequest request, StreamObserver<ListTransfersResponse> out) {
    answer(out, () -> {
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
      if (pageSize < 1 || pageSize > MAX_PAGE) {
        throw invalid("page_size must be between 1 and " + MAX_PAGE + ", not " + request.getPageSize());
      }
      if (request.getOffset() < 0) {
        throw invalid("offset must not be negative, not " + request.getOffset());
      }
      List<TransferEntry> page = accounts.transfers(AuthInterceptor.principal().clientId(), request.getOffset(),
          pageSize + 1);
      ListTransfersResponse.Builder b = ListTransfersResponse.newBuilder();
      page.subList(0, Math.min(pageSize, page.size())).forEach(t -> b.addTransfers(PaymentProtos.transfer(t)));
      if (page.size() > pageSize) {
        b.setNextOffset(request.getOffset() + pageSize);
      }
      return b.build();
    });
  }

  @Override
  public void getEarnings(GetEarningsRequest request, StreamObserver<GetEarningsResponse> out) {
    answer(out, () -> {
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
      if (pageSize < 1 || pageSize > MAX_PAGE) {
        throw invalid("page_size must be between 1 and " + MAX_PAGE + ", not " + request.getPageSize());
      }
      String owner = AuthInterceptor.principal().clientId();
      EarningsStore.Earnings e = earnings.of(owner, request.getWorkerId().isEmpty() ? null : request.getWorkerId(),
          JobServiceImpl.time(request.hasFromTime() ? request.getFromTime() : null, "from_time"),
          JobServiceImpl.time(request.hasToTime() ? request.getToTime() : null, "to_time"), pageSize);
      GetEarningsResponse.Builder b = GetEarningsResponse.newBuilder().setOwnerId(owner);
      for (EarningsStore.Totals t : e.totals()) {
        b.addTotals(CurrencyEarnings.newBuilder().setCurrency(t.currency().getLiteral())
            .setEarned(PaymentProtos.amount(t.earned())).setPending(PaymentProtos.amount(t.pending()))
            .setCompletedJobs(t.completedJobs()));
      }
      e.history().forEach(p -> b.addHistory(PaymentProtos.payment(p)));
      return b.build();
    });
  }

  @Override
  public void deposit(DepositRequest request, StreamObserver<DepositResponse> out) {
    answer(out, () -> {
      Principal p = AuthInterceptor.principal();
      if (p.role() != Role.ADMIN) {
        throw Status.PERMISSION_DENIED.withDescription("only an admin key can deposit").asRuntimeException();
      }
      AccountStore.Deposited d = accounts.deposit(request.getClientId(),
          Money.parse(request.getAmount(), "amount"), Money.currency(request.getCurrency()),
          request.getIdempotencyKey().isEmpty() ? null : request.getIdempotencyKey());
      return DepositResponse.newBuilder().setTransferId(JobIds.format(d.transferId()))
          .setBalance(PaymentProtos.amount(d.balance())).setRepeated(d.repeated()).build();
    });
  }

  @Override
  public void setCreditLimit(SetCreditLimitRequest request, StreamObserver<SetCreditLimitResponse> out) {
    answer(out, () -> {
      if (AuthInterceptor.principal().role() != Role.ADMIN) {
        throw Status.PERMISSION_DENIED.withDescription("only an admin key can set a credit limit").asRuntimeException();
      }
      var a = accounts.setCreditLimit(request.getClientId(), Money.currency(request.getCurrency()),
          Money.parse(request.getCreditLimit(), "credit_limit"));
      return SetCreditLimitResponse.newBuilder().setAccount(PaymentProtos.balance(a)).build();
    });
  }

  /** The caller as a payer: clients and admins pay for their own jobs; a worker key cannot. */
  private static String payer() {
    Principal p = AuthInterceptor.principal();
    if (p.role() == Role.WORKER) {
      throw Status.PERMISSION_DENIED.withDescription("a worker key cannot pay for jobs; it may read its balance "
          + "and transfers").asRuntimeException();
    }
    return p.clientId();
  }

  private StoredPayment find(String paymentId, String client) {
    return JobIds.parse(paymentId).flatMap(id -> payments.find(id, client))
        .orElseThrow(() -> notFound("payment " + quote(paymentId) + " not found"));
  }

  /** The caller's payment's id, checked against the job the request names, if it names one. */
  private UUID owned(String paymentId, String jobId, String client) {
    StoredPayment p = find(paymentId, client);
    if (!jobId.isEmpty() && !JobIds.parse(jobId).map(p.jobId()::equals).orElse(false)) {
      throw Status.FAILED_PRECONDITION.withDescription("payment " + quote(paymentId) + " is not for job "
          + quote(jobId)).asRuntimeException();
    }
    return p.paymentId();
  }

  private static String quote(String s) {
    return GrpcErrors.abbreviate(s);
  }

  /** Answers with what {@code call} returns; a refused payment gets the status its reason maps to. */
  private static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
    GrpcErrors.answer(out, () -> {
      try {
        return call.get();
      } catch (PaymentRefused e) {
        throw status(e);
      }
    });
  }

  /**
   * The status a refusal maps to, carrying a {@code google.rpc.ErrorInfo} whose reason is the
   * refusal's ({@code INSUFFICIENT_FUNDS}, {@code NOT_PAYABLE}, …), so that a client (the REST
   * bridge) can tell refusals that share a status apart without reading the text.
   */
  static StatusRuntimeException status(PaymentRefused e) {
    Status.Code code = switch (e.reason()) {
      case INVALID -> Status.Code.INVALID_ARGUMENT;
      case NOT_FOUND -> Status.Code.NOT_FOUND;
      case INSUFFICIENT_FUNDS, NOT_PAYABLE, SETTLED -> Status.Code.FAILED_PRECONDITION;
      case CONFLICT -> Status.Code.ALREADY_EXISTS;
    };
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(code.value())
        .setMessage(GrpcErrors.abbreviate(e.getMessage(), 1000))
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(e.reason().name()).setDomain(ERROR_DOMAIN).build()))
        .build());
  }
}
