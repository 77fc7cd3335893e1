package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Post;
import io.grpc.stub.StreamObserver;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.CreatePaymentResponse;
import net.aitbc.grid.v1.GetBalanceRequest;
import net.aitbc.grid.v1.GetBalanceResponse;
import net.aitbc.grid.v1.GetEarningsRequest;
import net.aitbc.grid.v1.GetEarningsResponse;
import net.aitbc.grid.v1.GetJobPaymentRequest;
import net.aitbc.grid.v1.GetJobPaymentResponse;
import net.aitbc.grid.v1.GetPaymentReceiptRequest;
import net.aitbc.grid.v1.GetPaymentRequest;
import net.aitbc.grid.v1.GetPaymentResponse;
import net.aitbc.grid.v1.ListTransfersRequest;
import net.aitbc.grid.v1.ListTransfersResponse;
import net.aitbc.grid.v1.Payment;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.RefundPaymentRequest;
import net.aitbc.grid.v1.RefundPaymentResponse;
import net.aitbc.grid.v1.ReleasePaymentRequest;
import net.aitbc.grid.v1.ReleasePaymentResponse;

/**
 * Payments over REST (contract §4), the caller's account, and a worker's earnings (§7). Each is one
 * call to the coordinator's PaymentService (the account two) with the caller's key;
 * the coordinator shows a client only its own payments, so another client's answers 404 here as an
 * unknown one does.
 */
final class PaymentRoutes {
  private static final String DEFAULT_CURRENCY = "AITBC";

  private final CoordinatorClient coordinator;

  PaymentRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /**
   * {@code POST /v1/payments}: 201 with the JobPaymentView, the amount held in escrow (released at
   * once if the job has completed). 422 for a bad field, 404 for another's or an unknown job, 402
   * when the balance does not cover it, 409 when the job has ended unpaid or has another payment.
   */
  @Post("/v1/payments")
  public HttpResponse create(HttpRequest request) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      CreatePaymentRequest create;
      try {
        create = PaymentRequests.create(body.content());
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.PAY);
      }
      return Json.reply(Call.PAY, o -> payments(body.headers()).createPayment(create, o), HttpStatus.CREATED,
          (CreatePaymentResponse r) -> PaymentJson.view(r.getPayment()));
    }));
  }

  /** {@code GET /v1/jobs/{job_id}/payment} (the CLI's {@code payment-status}): the job's latest payment. */
  @Get("/v1/jobs/{job_id}/payment")
  public HttpResponse jobPayment(@Param("job_id") String jobId, RequestHeaders headers) {
    GetJobPaymentRequest get = GetJobPaymentRequest.newBuilder().setJobId(jobId).build();
    return Json.reply(Call.JOB_PAYMENT, o -> payments(headers).getJobPayment(get, o), HttpStatus.OK,
        (GetJobPaymentResponse r) -> PaymentJson.view(r.getPayment()));
  }

  /** {@code GET /v1/payments/{payment_id}}: the JobPaymentView. */
  @Get("/v1/payments/{payment_id}")
  public HttpResponse payment(@Param("payment_id") String paymentId, RequestHeaders headers) {
    return Json.reply(Call.PAYMENT, get(paymentId, headers), HttpStatus.OK, PaymentJson::view);
  }

  /** {@code GET /v1/payments/{payment_id}/status}: the backend roadmap's brief status. */
  @Get("/v1/payments/{payment_id}/status")
  public HttpResponse status(@Param("payment_id") String paymentId, RequestHeaders headers) {
    return Json.reply(Call.PAYMENT, get(paymentId, headers), HttpStatus.OK, PaymentJson::status);
  }

  /**
   * {@code GET /v1/payments/{payment_id}/receipt} (the CLI's {@code payment-receipt}): the payment's
   * record with its transfers and, once it was released or refunded, its signed receipt and where
   * the ledger holds it; it names the job's signed receipt once there is one.
   */
  @Get("/v1/payments/{payment_id}/receipt")
  public HttpResponse receipt(@Param("payment_id") String paymentId, RequestHeaders headers) {
    GetPaymentReceiptRequest get = GetPaymentReceiptRequest.newBuilder().setPaymentId(paymentId).build();
    return Json.reply(Call.PAYMENT, o -> payments(headers).getPaymentReceipt(get, o), HttpStatus.OK,
        PaymentJson::receipt);
  }

  /**
   * {@code POST /v1/payments/{payment_id}/refund} with {@code {"job_id","payment_id","reason"}}:
   * 200 {@code {"status":"refunded","payment_id",...}}; a retry answers the same and moves nothing.
   * 400 when the payment is not the job's or was released; 404 for another's or an unknown payment.
   */
  @Post("/v1/payments/{payment_id}/refund")
  public HttpResponse refund(@Param("payment_id") String paymentId, HttpRequest request) {
    return settle(paymentId, request, (stub, settle, o) -> stub.refundPayment(RefundPaymentRequest.newBuilder()
            .setPaymentId(paymentId).setJobId(settle.jobId()).setReason(settle.reason()).build(), o),
        (RefundPaymentResponse r) -> PaymentJson.settled(r.getPayment(), r.getChanged()));
  }

  /**
   * {@code POST /v1/payments/{payment_id}/release} with {@code {"job_id","payment_id","reason"?}}:
   * pays the escrow to the owner of the worker that runs or ran the job, less the fee. 400 when it
   * was refunded or the job has not reached a worker.
   */
  @Post("/v1/payments/{payment_id}/release")
  public HttpResponse release(@Param("payment_id") String paymentId, HttpRequest request) {
    return settle(paymentId, request, (stub, settle, o) -> stub.releasePayment(ReleasePaymentRequest.newBuilder()
            .setPaymentId(paymentId).setJobId(settle.jobId()).setReason(settle.reason()).build(), o),
        (ReleasePaymentResponse r) -> PaymentJson.settled(r.getPayment(), r.getChanged()));
  }

  /** A refund or a release: the body's job and reason checked against the path, then one call. */
  @FunctionalInterface
  private interface Settling<R> {
    void call(PaymentServiceGrpc.PaymentServiceStub stub, PaymentRequests.Settle settle, StreamObserver<R> out);
  }

  private <R> HttpResponse settle(String paymentId, HttpRequest request, Settling<R> call,
      Function<R, ObjectNode> body) {
    return HttpResponse.of(request.aggregate().thenApply(aggregated -> {
      PaymentRequests.Settle settle;
      try {
        settle = PaymentRequests.settle(aggregated.content(), paymentId);
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.SETTLE);
      }
      PaymentServiceGrpc.PaymentServiceStub stub = payments(aggregated.headers());
      return Json.reply(Call.SETTLE, (StreamObserver<R> o) -> call.call(stub, settle, o), HttpStatus.OK, body);
    }));
  }

  /** {@code GET /v1/account?limit=&offset=}: the caller's balances and its transfers, newest first. */
  @Get("/v1/account")
  public HttpResponse account(QueryParams query, RequestHeaders headers) {
    ListTransfersRequest list = PaymentRequests.transfers(query);
    PaymentServiceGrpc.PaymentServiceStub stub = payments(headers);
    CompletableFuture<GetBalanceResponse> balances =
        CoordinatorClient.unary(o -> stub.getBalance(GetBalanceRequest.getDefaultInstance(), o));
    CompletableFuture<ListTransfersResponse> transfers = CoordinatorClient.unary(o -> stub.listTransfers(list, o));
    return Json.reply(Call.ACCOUNT, balances.thenCombine(transfers,
        (b, t) -> PaymentJson.account(b, t, list.getPageSize(), list.getOffset())), HttpStatus.OK, r -> r);
  }

  /**
   * {@code POST /v1/miners/{miner_id}/earnings?from_time=&to_time=&currency=} (the CLI's {@code miner
   * earnings}; GET as well): what this worker of the caller's earned. Zero for a worker the caller
   * does not own.
   */
  @Post("/v1/miners/{miner_id}/earnings")
  @Get("/v1/miners/{miner_id}/earnings")
  public HttpResponse earnings(@Param("miner_id") String minerId, QueryParams query, RequestHeaders headers) {
    GetEarningsRequest get = PaymentRequests.earnings(minerId, query);
    String currency = query.get("currency", DEFAULT_CURRENCY).strip().toUpperCase(Locale.ROOT);
    return Json.reply(Call.ACCOUNT, o -> payments(headers).getEarnings(get, o), HttpStatus.OK,
        (GetEarningsResponse r) -> PaymentJson.earnings(minerId, r, currency, query.get("from_time"),
            query.get("to_time")));
  }

  private CompletableFuture<Payment> get(String paymentId, RequestHeaders headers) {
    GetPaymentRequest get = GetPaymentRequest.newBuilder().setPaymentId(paymentId).build();
    return CoordinatorClient.<GetPaymentResponse>unary(o -> payments(headers).getPayment(get, o))
        .thenApply(GetPaymentResponse::getPayment);
  }

  private PaymentServiceGrpc.PaymentServiceStub payments(RequestHeaders headers) {
    return coordinator.payments(ApiKey.of(headers));
  }
}
