package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.GetEarningsRequest;
import net.aitbc.grid.v1.ListTransfersRequest;
import org.junit.jupiter.api.Test;

/** The payment routes' bodies and queries, read into gRPC requests or refused with what is wrong. */
class PaymentRequestsTest {
  private static final String JOB = "5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b";

  private static CreatePaymentRequest create(String json) {
    return PaymentRequests.create(HttpData.ofUtf8(json));
  }

  @Test
  void theClisPayBodyIsPassedOnWithItsExactDigits() {
    CreatePaymentRequest r = create("{\"job_id\": \"" + JOB + "\", \"amount\": 1.5, \"currency\": \"aitbc\","
        + " \"payment_method\": \"aitbc_token\", \"escrow_timeout_seconds\": 3600}");
    assertThat(r.getJobId()).isEqualTo(JOB);
    assertThat(r.getAmount()).isEqualTo("1.5");
    assertThat(r.getCurrency()).isEqualTo("aitbc");
    assertThat(r.getPaymentMethod()).isEqualTo("aitbc_token");
    assertThat(r.getEscrowTimeoutSeconds()).isEqualTo(3600);

    CreatePaymentRequest minimal = create("{\"job_id\": \"j-1\", \"amount\": 2}");
    assertThat(minimal.getAmount()).isEqualTo("2");
    assertThat(minimal.getCurrency()).isEmpty();
    assertThat(minimal.getEscrowTimeoutSeconds()).isZero();
    // Nine places reach the coordinator as written, which refuses them, rather than rounded to eight.
    assertThat(create("{\"job_id\": \"j\", \"amount\": 0.123456789}").getAmount()).isEqualTo("0.123456789");
    assertThat(create("{\"job_id\": \"j\", \"amount\": 1e309}").getAmount()).isEqualTo("1E+309");
    assertThat(create("{\"job_id\": \"j\", \"amount\": 1, \"currency\": null}").getCurrency()).isEmpty();
  }

  @Test
  void badFieldsAre422NamingTheField() {
    assertRefused("{\"amount\": 1.5}", 422, "job_id is required: the job to pay for");
    assertRefused("{\"job_id\": \"" + JOB + "\"}", 422, "amount is required: a number between 0.01 and 1000000, e.g. 1.5");
    assertRefused("{\"job_id\": \"j\", \"amount\": \"1.5\"}", 422, "amount must be a number such as 1.5, not a string");
    assertRefused("{\"job_id\": \"j\", \"amount\": true}", 422, "amount must be a number such as 1.5, not a boolean");
    assertRefused("{\"job_id\": \"a b\", \"amount\": 1}", 422, "job_id must be 1 to 128 letters, digits, _ or -, not 'a b'");
    assertRefused("{\"job_id\": \"\", \"amount\": 1}", 422, "job_id must be 1 to 128 letters, digits, _ or -, not ''");
    assertRefused("{\"job_id\": \"" + "a".repeat(129) + "\", \"amount\": 1}", 422,
        "job_id must be 1 to 128 letters, digits, _ or -, not '" + "a".repeat(64) + "…'");
    assertRefused("{\"job_id\": 7, \"amount\": 1}", 422, "job_id must be a string, not an integer");
    assertRefused("{\"job_id\": \"j\", \"amount\": 1, \"currency\": 3}", 422, "currency must be a string, not an integer");
    assertRefused("{\"job_id\": \"j\", \"amount\": 1, \"currency\": \"\"}", 422,
        "currency must be one of AITBC, BTC, ETH, USDT, not an empty string");
    assertRefused("{\"job_id\": \"j\", \"amount\": 1, \"escrow_timeout_seconds\": 0}", 422,
        "escrow_timeout_seconds must be between 300 and 86400, not 0");
    assertRefused("{\"job_id\": \"j\", \"amount\": 1, \"escrow_timeout_seconds\": 86401}", 422,
        "escrow_timeout_seconds must be between 300 and 86400, not 86401");
    assertRefused("{\"job_id\": \"j\", \"amount\": 1, \"escrow_timeout_seconds\": 600.5}", 422,
        "escrow_timeout_seconds must be a whole number, not a number with a fraction");
    assertRefused("[1]", 422, "the body must be a JSON object such as {\"job_id\": \"...\", \"amount\": 1.5,"
        + " \"currency\": \"AITBC\"}, not a list");
  }

  @Test
  void aBodyThatIsNotJsonIs400() {
    assertThatThrownBy(() -> create("")).isInstanceOfSatisfying(HttpErrors.ApiError.class,
        e -> assertThat(e.status().code()).isEqualTo(400)).hasMessageStartingWith("the request body is empty");
    assertThatThrownBy(() -> create("{\"job_id\": ")).isInstanceOfSatisfying(HttpErrors.ApiError.class,
        e -> assertThat(e.status().code()).isEqualTo(400)).hasMessageStartingWith("the request body is not valid JSON");
  }

  @Test
  void aSettleBodyIsOptionalAndMustNameThePathsPayment() {
    assertThat(PaymentRequests.settle(HttpData.empty(), "p")).isEqualTo(new PaymentRequests.Settle("", ""));
    assertThat(PaymentRequests.settle(HttpData.ofUtf8("{\"job_id\": \"j\", \"payment_id\": \"p\", \"reason\": \"job"
        + " failed\"}"), "p")).isEqualTo(new PaymentRequests.Settle("j", "job failed"));
    assertThatThrownBy(() -> PaymentRequests.settle(HttpData.ofUtf8("{\"payment_id\": \"q\"}"), "p"))
        .isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> assertThat(e.status().code()).isEqualTo(400))
        .hasMessage("payment_id in the body ('q') is not the one in the path");
    assertThatThrownBy(() -> PaymentRequests.settle(HttpData.ofUtf8("{\"reason\": 5}"), "p"))
        .isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> assertThat(e.status().code()).isEqualTo(422))
        .hasMessage("reason must be a string, not an integer");
  }

  @Test
  void accountAndEarningsQueries() {
    ListTransfersRequest t = PaymentRequests.transfers(QueryParams.of());
    assertThat(t.getPageSize()).isEqualTo(20);
    assertThat(t.getOffset()).isZero();
    assertThat(PaymentRequests.transfers(QueryParams.of("limit", "200", "offset", "40")).getOffset()).isEqualTo(40);
    assertThatThrownBy(() -> PaymentRequests.transfers(QueryParams.of("limit", "201")))
        .hasMessage("limit must be between 1 and 200, not 201");
    assertThatThrownBy(() -> PaymentRequests.transfers(QueryParams.of("offset", "x")))
        .hasMessage("offset must be a whole number of at least 0, not 'x'");

    GetEarningsRequest e = PaymentRequests.earnings("m1", QueryParams.of("miner_id", "m1",
        "from_time", "2026-03-01T00:00:00"));
    assertThat(e.getWorkerId()).isEqualTo("m1");
    assertThat(e.getFromTime().getSeconds()).isEqualTo(1772323200L);
    assertThat(e.hasToTime()).isFalse();
    assertThat(e.getPageSize()).isEqualTo(50);
    assertThatThrownBy(() -> PaymentRequests.earnings("m1", QueryParams.of("to_time", "soon")))
        .isInstanceOfSatisfying(HttpErrors.ApiError.class, x -> assertThat(x.status().code()).isEqualTo(400));
  }

  private static void assertRefused(String json, int status, String detail) {
    assertThatThrownBy(() -> create(json)).as(json).isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
      assertThat(e.status().code()).isEqualTo(status);
      assertThat(e.getMessage()).isEqualTo(detail);
    });
  }
}
