package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Path;
import com.linecorp.armeria.server.annotation.Post;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.GetInclusionProofRequest;
import net.aitbc.grid.v1.GetInclusionProofResponse;
import net.aitbc.grid.v1.GetJobReceiptRequest;
import net.aitbc.grid.v1.GetJobReceiptResponse;
import net.aitbc.grid.v1.GetReceiptRequest;
import net.aitbc.grid.v1.GetReceiptResponse;
import net.aitbc.grid.v1.ListReceiptsRequest;
import net.aitbc.grid.v1.ListReceiptsResponse;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.VerifyReceiptRequest;
import net.aitbc.grid.v1.VerifyReceiptResponse;

/**
 * Signed receipts over REST: a job's, the explorer's list, one by its leaf hash, their inclusion
 * proofs and their check. Each is one call to the coordinator's ReceiptService (or
 * JobService.GetJobReceipt) with the caller's key; the coordinator shows a client only its own
 * receipts, so another client's answers 404 here as an unknown one does.
 */
final class ReceiptRoutes {
  private final CoordinatorClient coordinator;

  ReceiptRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /** {@code GET /v1/jobs/{job_id}/receipt}: the signed receipt; 404 {@code receipt not available}. */
  @Get("/v1/jobs/{job_id}/receipt")
  public HttpResponse jobReceipt(@Param("job_id") String jobId, RequestHeaders headers) {
    GetJobReceiptRequest get = GetJobReceiptRequest.newBuilder().setJobId(jobId).build();
    return Json.reply(Call.JOB_RECEIPT, o -> coordinator.jobs(ApiKey.of(headers)).getJobReceipt(get, o),
        HttpStatus.OK, (GetJobReceiptResponse r) -> LedgerJson.signed(r.getReceipt()));
  }

  /** {@code GET /v1/jobs/{job_id}/receipts}: {@code {"items": [signed receipt...]}}, empty for a job that has none. */
  @Get("/v1/jobs/{job_id}/receipts")
  public HttpResponse jobReceipts(@Param("job_id") String jobId, RequestHeaders headers) {
    ListReceiptsRequest list = LedgerRequests.jobReceipts(jobId);
    return Json.reply(Call.RECEIPTS, o -> receipts(headers).listReceipts(list, o), HttpStatus.OK,
        LedgerJson::jobReceipts);
  }

  /** {@code GET /v1/explorer/receipts?limit=&offset=&job_id=&status=}: the caller's receipts, newest first. */
  @Get("/v1/explorer/receipts")
  public HttpResponse explorerReceipts(QueryParams query, RequestHeaders headers) {
    ListReceiptsRequest list = LedgerRequests.receipts(query);
    String jobId = LedgerRequests.jobId(query);
    return Json.reply(Call.RECEIPTS, o -> receipts(headers).listReceipts(list, o), HttpStatus.OK,
        (ListReceiptsResponse r) -> LedgerJson.explorerReceipts(r, jobId));
  }

  /**
   * {@code GET /explorer/transactions/{hash}} (the CLI's {@code blockchain transaction}) and its
   * {@code /v1} alias: the receipt whose leaf hash this is; {@code chain_id} is ignored.
   */
  @Get
  @Path("/explorer/transactions/{hash}")
  @Path("/v1/explorer/transactions/{hash}")
  public HttpResponse transaction(@Param("hash") String hash, RequestHeaders headers) {
    GetReceiptRequest get = LedgerRequests.transaction(hash);
    return Json.reply(Call.TRANSACTION, o -> receipts(headers).getReceipt(get, o), HttpStatus.OK,
        (GetReceiptResponse r) -> LedgerJson.transaction(r.getReceipt()));
  }

  /** {@code GET /v1/ledger/proofs/inclusion?receipt_id=|leaf_hash=&tree_size=}. */
  @Get("/v1/ledger/proofs/inclusion")
  public HttpResponse inclusionProof(QueryParams query, RequestHeaders headers) {
    GetInclusionProofRequest get = LedgerRequests.inclusion(query);
    return Json.reply(Call.PROOF, o -> receipts(headers).getInclusionProof(get, o), HttpStatus.OK,
        (GetInclusionProofResponse r) -> LedgerJson.inclusion(r));
  }

  /**
   * {@code POST /v1/receipts/verify}: a signed receipt (or {@code {"receipt": {...}}}) checked by the
   * coordinator; 200 with {@code valid} false and the problems when it does not hold.
   */
  @Post("/v1/receipts/verify")
  public HttpResponse verify(HttpRequest request) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      VerifyReceiptRequest verify;
      try {
        verify = VerifyReceiptRequest.newBuilder().setReceiptJson(LedgerRequests.verifyBody(body.content())).build();
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.VERIFY);
      }
      return Json.reply(Call.VERIFY, o -> receipts(body.headers()).verifyReceipt(verify, o), HttpStatus.OK,
          (VerifyReceiptResponse r) -> LedgerJson.verification(r));
    }));
  }

  private ReceiptServiceGrpc.ReceiptServiceStub receipts(RequestHeaders headers) {
    return coordinator.receipts(ApiKey.of(headers));
  }
}
