package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;

import com.fasterxml.jackson.databind.JsonNode;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import java.util.Map;
import java.util.regex.Pattern;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.GetEarningsRequest;
import net.aitbc.grid.v1.ListTransfersRequest;
import org.jspecify.annotations.Nullable;

/**
 * Reads the payment routes' bodies and queries into gRPC requests, or says why not: 400 when a body
 * is not JSON, 422 when a field has the wrong JSON type or shape (contract §4's JobPaymentCreate).
 * The rules of money (amount between 0.01 and 1,000,000 with at most 8 decimals, the currencies,
 * the escrow timeout's range) are the coordinator's, whose INVALID_ARGUMENT comes back as 422; the
 * bridge checks only what it cannot pass on faithfully.
 */
final class PaymentRequests {
  /** The gRPC fields whose REST names differ, as the coordinator's descriptions begin with them. */
  static final Map<String, String> FIELDS = Map.of("page_size", "limit");

  /** The CLI's server's rule for a payment's job id. */
  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9_-]{1,128}");
  private static final String EXAMPLE = "{\"job_id\": \"...\", \"amount\": 1.5, \"currency\": \"AITBC\"}";
  private static final String SETTLE_EXAMPLE = "{\"job_id\": \"...\", \"payment_id\": \"...\", \"reason\": \"...\"}";
  private static final int MIN_ESCROW_TIMEOUT_S = 300;
  private static final int MAX_ESCROW_TIMEOUT_S = 86_400;
  private static final int MAX_PAGE = 200;
  private static final int DEFAULT_TRANSFERS = 20;
  private static final int DEFAULT_HISTORY = 50;

  private PaymentRequests() {}

  /** A refund's or release's body: the job the client says the payment is for (may be empty), and why. */
  record Settle(String jobId, String reason) {}

  /** The body of {@code POST /v1/payments}. */
  static CreatePaymentRequest create(HttpData body) {
    JsonNode root = Requests.parse(body, EXAMPLE);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as " + EXAMPLE + ", not " + Requests.kind(root));
    }
    String jobId = Requests.text(root, "job_id", "job_id");
    if (jobId == null) {
      throw unprocessable("job_id is required: the job to pay for");
    }
    if (!JOB_ID.matcher(jobId).matches()) {
      throw unprocessable("job_id must be 1 to 128 letters, digits, _ or -, not '" + Requests.abbreviate(jobId) + "'");
    }
    CreatePaymentRequest.Builder b = CreatePaymentRequest.newBuilder().setJobId(jobId)
        .setAmount(amount(root, "amount"));
    String currency = Requests.text(root, "currency", "currency");
    if (currency != null) {
      if (currency.isBlank()) {
        // Blank is the default currency to the coordinator: a client that wrote "" meant something else.
        throw unprocessable("currency must be one of AITBC, BTC, ETH, USDT, not an empty string");
      }
      b.setCurrency(currency);
    }
    String method = Requests.text(root, "payment_method", "payment_method");
    if (method != null) {
      b.setPaymentMethod(method);
    }
    Long timeout = Requests.whole(root, "escrow_timeout_seconds", "escrow_timeout_seconds", Long.MAX_VALUE);
    if (timeout != null) {
      // Checked here: 0 would reach the coordinator as "not given" and take the default.
      if (timeout < MIN_ESCROW_TIMEOUT_S || timeout > MAX_ESCROW_TIMEOUT_S) {
        throw unprocessable("escrow_timeout_seconds must be between " + MIN_ESCROW_TIMEOUT_S + " and "
            + MAX_ESCROW_TIMEOUT_S + ", not " + timeout);
      }
      b.setEscrowTimeoutSeconds(timeout.intValue());
    }
    return b.build();
  }

  /**
   * An amount field as exact decimal text for the coordinator: required, a JSON number (a string,
   * even of digits, is refused, as the contract's amount is a float). Every digit the client wrote
   * is kept, so that 9 decimal places are refused rather than rounded.
   */
  static String amount(JsonNode object, String field) {
    JsonNode n = Requests.present(object, field);
    if (n == null) {
      throw unprocessable(field + " is required: a number between 0.01 and 1000000, e.g. 1.5");
    }
    if (!n.isNumber()) {
      throw unprocessable(field + " must be a number such as 1.5, not " + Requests.kind(n));
    }
    // toString, not toPlainString: 1e309 stays short, and the coordinator says it is far too large.
    return n.decimalValue().toString();
  }

  /**
   * The body of a refund or release of {@code paymentId}; it may be empty. A {@code payment_id} in it
   * must be the path's.
   */
  static Settle settle(HttpData body, String paymentId) {
    if (body.isEmpty()) {
      return new Settle("", "");
    }
    JsonNode root = Requests.parse(body, SETTLE_EXAMPLE);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as " + SETTLE_EXAMPLE + ", not "
          + Requests.kind(root));
    }
    String inBody = Requests.text(root, "payment_id", "payment_id");
    if (inBody != null && !inBody.equals(paymentId)) {
      throw badRequest("payment_id in the body ('" + Requests.abbreviate(inBody) + "') is not the one in the path");
    }
    String jobId = Requests.text(root, "job_id", "job_id");
    String reason = Requests.text(root, "reason", "reason");
    return new Settle(jobId == null ? "" : jobId, reason == null ? "" : reason);
  }

  /** {@code GET /v1/account?limit=&offset=}: a page of the caller's transfers, newest first. */
  static ListTransfersRequest transfers(QueryParams q) {
    return ListTransfersRequest.newBuilder()
        .setPageSize(Requests.limit(q, DEFAULT_TRANSFERS, MAX_PAGE))
        .setOffset(Requests.offset(q))
        .build();
  }

  /** {@code POST /v1/miners/{id}/earnings?from_time=&to_time=&limit=}: one worker's earnings. */
  static GetEarningsRequest earnings(String workerId, QueryParams q) {
    GetEarningsRequest.Builder b = GetEarningsRequest.newBuilder().setWorkerId(workerId.strip())
        .setPageSize(Requests.limit(q, DEFAULT_HISTORY, MAX_PAGE));
    String from = q.get("from_time");
    if (from != null && !from.isBlank()) {
      b.setFromTime(Requests.time("from_time", from));
    }
    String to = q.get("to_time");
    if (to != null && !to.isBlank()) {
      b.setToTime(Requests.time("to_time", to));
    }
    return b.build();
  }
}
