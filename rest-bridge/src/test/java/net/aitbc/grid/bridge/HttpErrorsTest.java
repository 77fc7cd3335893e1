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
