package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Path;
import com.linecorp.armeria.server.annotation.Post;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import net.aitbc.grid.bridge.HttpErrors.ApiError;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.GetExecutionReceiptRequest;
import net.aitbc.grid.v1.GetExecutionReceiptResponse;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.VerifyReceiptRequest;
import net.aitbc.grid.v1.VerifyReceiptResponse;

/**
 * Agent executions' receipts over REST (contract §8, {@code aitbc agent receipt [--verify]}), under
 * {@code /api/v1/agents} and its {@code /v1/agents} alias: an ended execution's signed receipt in the
 * upstream's shape (WorkflowService.GetExecutionReceipt, then ReceiptService.VerifyReceipt for
 * {@code verified} and the block), and the check of one someone holds (ReceiptService.VerifyReceipt,
 * the one verifier of every receipt). A client sees only its own executions' receipts.
 */
final class AgentReceiptRoutes {
  private static final Pattern EXECUTION_ID = Pattern.compile("[0-9a-f]{32}");

  private final CoordinatorClient coordinator;

  AgentReceiptRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /**
   * {@code GET /api/v1/agents/executions/{id}/receipt}: {@link AgentReceiptJson#envelope}; 404 with
   * the coordinator's reason while the execution runs, when it is not the caller's, or when no
   * signing key is configured.
   */
  @Get
  @Path("/api/v1/agents/executions/{id}/receipt")
  @Path("/v1/agents/executions/{id}/receipt")
  public HttpResponse receipt(@Param("id") String id, RequestHeaders headers) {
    if (!EXECUTION_ID.matcher(id).matches()) {
      // Not one of our ids (32 lowercase hex characters), so no execution of the caller's.
      return HttpErrors.response(HttpStatus.NOT_FOUND, "execution not found");
    }
    String key = ApiKey.of(headers);
    GetExecutionReceiptRequest get = GetExecutionReceiptRequest.newBuilder().setExecutionId(id).build();
    CompletableFuture<Answer> answer = CoordinatorClient.<GetExecutionReceiptResponse>unary(
            o -> coordinator.workflows(key).getExecutionReceipt(get, o))
        .thenCompose(r -> CoordinatorClient.<VerifyReceiptResponse>unary(o -> coordinator.receipts(key)
                .verifyReceipt(VerifyReceiptRequest.newBuilder().setReceiptJson(r.getReceipt().getReceiptJson())
                    .build(), o))
            .thenApply(check -> new Answer(r.getReceipt(), check)));
    return Json.reply(Call.RECEIPTS, answer, HttpStatus.OK, b -> AgentReceiptJson.envelope(b.receipt(), b.check()));
  }

  /** A receipt and the coordinator's check of it. */
  private record Answer(Receipt receipt, VerifyReceiptResponse check) {}

  /**
   * {@code POST /api/v1/agents/receipts/verify} with {@code {"receipt": ...}} ({@link
   * AgentReceiptJson#held}): 200 {@link AgentReceiptJson#verification}, valid or not.
   */
  @Post
  @Path("/api/v1/agents/receipts/verify")
  @Path("/v1/agents/receipts/verify")
  public HttpResponse verify(HttpRequest request) {
    return HttpResponse.of(request.aggregate().thenApply(body -> {
      AgentReceiptJson.Held held;
      try {
        held = AgentReceiptJson.held(body.content());
      } catch (ApiError e) {
        return HttpErrors.fromFailure(e, Call.VERIFY);
      }
      VerifyReceiptRequest verify = VerifyReceiptRequest.newBuilder().setReceiptJson(Json.text(held.receipt())).build();
      return Json.reply(Call.VERIFY, o -> coordinator.receipts(ApiKey.of(body.headers())).verifyReceipt(verify, o),
          HttpStatus.OK, (VerifyReceiptResponse r) -> AgentReceiptJson.verification(held, r));
    }));
  }
}
