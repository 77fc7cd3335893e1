package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.linecorp.armeria.common.AggregatedHttpResponse;
import io.grpc.Status;
import java.util.concurrent.CompletionException;
import net.aitbc.grid.bridge.HttpErrors.Call;
import org.junit.jupiter.api.Test;

/** The gRPC status → HTTP mapping, code by code, including the ones a live coordinator rarely answers. */
class HttpErrorsTest {

  @Test
  void everyStatusMapsToItsHttpAnswer() {
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("priority must be between 0 and 9"), Call.SUBMIT,
        422, "priority must be between 0 and 9");
    assertAnswer(Status.NOT_FOUND.withDescription("job abc not found"), Call.READ, 404, "job not found");
    assertAnswer(Status.FAILED_PRECONDITION.withDescription("job is RUNNING"), Call.RESULT, 425, "job not ready");
    assertAnswer(Status.FAILED_PRECONDITION.withDescription("job is COMPLETED"), Call.CANCEL, 409, "job not cancelable");
    assertAnswer(Status.FAILED_PRECONDITION.withDescription("nope"), Call.SUBMIT, 409, "nope");
    assertAnswer(Status.ALREADY_EXISTS.withDescription("exists"), Call.SUBMIT, 409, "exists");
    assertAnswer(Status.DEADLINE_EXCEEDED, Call.READ, 504, "the coordinator did not answer in time");
    assertAnswer(Status.UNAUTHENTICATED.withDescription("invalid api key"), Call.READ, 401, "invalid api key");
    assertAnswer(Status.PERMISSION_DENIED.withDescription("a worker key cannot call it"), Call.READ, 403,
        "a worker key cannot call it");
    assertAnswer(Status.INTERNAL.withDescription("internal error"), Call.LIST, 502,
        "coordinator error: INTERNAL internal error");
  }

  @Test
  void invalidArgumentsAreTheCallersFaultInTheRoutesTerms() {
    // A body field: 422, with the gRPC field the bridge renamed named as the client wrote it.
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("ttl must be at most 30 days, not 99999999 s"), Call.SUBMIT,
        422, "ttl_seconds must be at most 30 days, not 99999999 s");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("timeout must be between 1 s and 30 days, not 0 s"),
        Call.SUBMIT, 422, "timeout_seconds must be between 1 s and 30 days, not 0 s");
    // A query parameter: 400, as the bridge's own refusals of query values.
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("page_size must be between 1 and 1000, not 5000"), Call.LIST,
        400, "limit must be between 1 and 1000, not 5000");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("skip must not be negative"), Call.LIST, 400,
        "offset must not be negative");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("create_time_to must be a time between the years 1 and 9999"),
        Call.LIST, 400, "to_time must be a time between the years 1 and 9999");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("payload_json.prompt contains a NUL character"), Call.SUBMIT,
        422, "payload.prompt contains a NUL character");
    // Only a leading field name is renamed: a client's quoted value stays as written.
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("job type 'timeout' is not valid"), Call.SUBMIT, 422,
        "job type 'timeout' is not valid");
    // A job id that is not one: the routes whose only argument it is answer the contract's 404.
    for (Call call : new Call[] {Call.READ, Call.RESULT, Call.CANCEL, Call.WATCH}) {
      assertAnswer(Status.INVALID_ARGUMENT.withDescription("job_id must be 32 hex characters, not 'abc'"), call, 404,
          "job not found");
    }
  }

  @Test
  void receiptAndLedgerRoutesAnswerInTheirOwnTerms() {
    // Not found: the CLI's server's words where it has them, else the coordinator's.
    assertAnswer(Status.NOT_FOUND.withDescription("receipt not available: job abc has none (it has not completed)"),
        Call.JOB_RECEIPT, 404, "receipt not available");
    assertAnswer(Status.NOT_FOUND.withDescription("job abc not found"), Call.JOB_RECEIPT, 404, "receipt not available");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("job_id must be 32 hex characters"), Call.JOB_RECEIPT, 404,
        "receipt not available");
    assertAnswer(Status.NOT_FOUND.withDescription("receipt with that leaf hash not found"), Call.TRANSACTION, 404,
        "transaction not found");
    assertAnswer(Status.NOT_FOUND.withDescription("block 9 not found"), Call.BLOCK, 404, "block not found");
    assertAnswer(Status.NOT_FOUND.withDescription("receipt not sealed yet"), Call.PROOF, 404, "receipt not sealed yet");
    // A coordinator without a signing key has no receipts to show.
    assertAnswer(Status.FAILED_PRECONDITION.withDescription("this coordinator issues no receipts"), Call.JOB_RECEIPT,
        404, "receipt not available");
    assertAnswer(Status.FAILED_PRECONDITION.withDescription("this coordinator issues no receipts"), Call.TRANSACTION,
        404, "transaction not found");
    assertAnswer(Status.FAILED_PRECONDITION.withDescription("this coordinator issues no receipts"), Call.VERIFY,
        409, "this coordinator issues no receipts");
    // Bad values: 422, the gRPC names in the REST query's terms.
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("tree size 7 is not a block's"), Call.PROOF, 422,
        "tree size 7 is not a block's");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("page_size must be between 1 and 1000, not 5000"),
        Call.BLOCKS, 422, "limit must be between 1 and 1000, not 5000");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("first_size must be between 0 and second_size"),
        Call.LEDGER, 422, "first must be between 0 and second_size");
    assertAnswer(Status.INVALID_ARGUMENT.withDescription("receipt_json is not JSON"), Call.VERIFY, 422,
        "receipt_json is not JSON");
    assertAnswer(Status.PERMISSION_DENIED.withDescription("a worker key cannot call it"), Call.RECEIPTS, 403,
        "a worker key cannot call it");
  }

  @Test
  void overloadAndOutagesSayWhenToRetry() {
    AggregatedHttpResponse limited = answer(Status.RESOURCE_EXHAUSTED.withDescription("rate limit: retry after 30 s"));
    assertThat(limited.status().code()).isEqualTo(429);
    assertThat(limited.headers().get("retry-after")).isEqualTo("30");

    AggregatedHttpResponse overloaded = answer(Status.RESOURCE_EXHAUSTED.withDescription("overloaded; retry later"));
    assertThat(overloaded.headers().get("retry-after")).isEqualTo("1");

    AggregatedHttpResponse down = answer(Status.UNAVAILABLE.withDescription("io exception"));
    assertThat(down.status().code()).isEqualTo(503);
    assertThat(down.headers().get("retry-after")).isEqualTo("1");
    assertThat(detail(down)).startsWith("coordinator unavailable");
  }

  @Test
  void bridgeBugsAre500WithoutDetailsAndRefusalsKeepTheirStatus() {
    AggregatedHttpResponse bug = HttpErrors.fromFailure(new CompletionException(new IllegalStateException("oops")),
        Call.READ).aggregate().join();
    assertThat(bug.status().code()).isEqualTo(500);
    assertThat(detail(bug)).isEqualTo("internal error");

    AggregatedHttpResponse refused = HttpErrors.fromFailure(HttpErrors.badRequest("limit must be…"), Call.LIST)
        .aggregate().join();
    assertThat(refused.status().code()).isEqualTo(400);
    assertThat(detail(refused)).isEqualTo("limit must be…");
  }

  private static void assertAnswer(Status status, Call call, int code, String detail) {
    AggregatedHttpResponse r = HttpErrors.fromFailure(status.asRuntimeException(), call).aggregate().join();
    assertThat(r.status().code()).as(status.toString()).isEqualTo(code);
    assertThat(r.contentType()).isNotNull();
    assertThat(r.contentType().isJson()).isTrue();
    assertThat(detail(r)).isEqualTo(detail);
  }

  private static AggregatedHttpResponse answer(Status status) {
    return HttpErrors.fromFailure(status.asRuntimeException(), Call.SUBMIT).aggregate().join();
  }

  private static String detail(AggregatedHttpResponse r) {
    try {
      return Grid.JSON.readTree(r.contentUtf8()).get("detail").asText();
    } catch (java.io.IOException e) {
      throw new AssertionError(r.contentUtf8(), e);
    }
  }
}
