package net.aitbc.grid.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The receipt of a payment that ended (released to the worker's owner, or refunded to the client),
 * signed and appended to the ledger like a job's receipt, and told apart from one by
 * {@code "type": "payment"}. Its amounts are exact decimal strings with 8 places
 * ({@code "1.50000000"}): a JSON number would pass through a double in most verifiers (Python's
 * {@code json} included), and 8 places fixed give each amount exactly one canonical spelling, the
 * ledger's own (numeric with scale 8).
 */
public final class PaymentReceipts {
  /** The value of {@code type} that marks a payment's receipt. */
  public static final String TYPE = "payment";
  /** Decimal places of every amount. */
  public static final int SCALE = 8;

  private static final Pattern AMOUNT = Pattern.compile("(0|[1-9][0-9]{0,11})\\.[0-9]{" + SCALE + "}");

  private PaymentReceipts() {}

  /** Whether {@code receipt} is a payment's (else it is taken for a job's). */
  public static boolean isPayment(JsonNode receipt) {
    return TYPE.equals(receipt.path("type").textValue());
  }

  /** An amount as a receipt writes it: exactly {@value #SCALE} decimal places; ArithmeticException if it has more. */
  public static String amount(BigDecimal value) {
    return value.setScale(SCALE, RoundingMode.UNNECESSARY).toPlainString();
  }

  /**
   * Problems with a signed payment receipt (empty = valid), each naming the field: its signature
   * against {@code coordinator}, its fields and their types, a release naming the worker's owner and
   * a refund its reason, and the fee within the amount (nothing for a refund).
   */
  static List<String> check(ObjectNode receipt, @Nullable VerifyingKey coordinator) {
    List<String> problems = new ArrayList<>(Signatures.check(receipt, coordinator));
    Fields fields = new Fields("", problems);
    fields.equalTo(receipt, "version", "1.0");
    fields.lowerHex(receipt, "receipt_id", 32);
    fields.lowerHex(receipt, "payment_id", 32);
    fields.lowerHex(receipt, "job_id", 32);
    if (receipt.has("job_receipt_id")) {
      fields.lowerHex(receipt, "job_receipt_id", 32);
    }
    fields.string(receipt, "client");
    fields.string(receipt, "currency");
    fields.lowerHex(receipt, "transfer_id", 32);
    fields.integer(receipt, "settled_at", 0);
    BigDecimal amount = amount(fields, receipt, "amount");
    BigDecimal fee = amount(fields, receipt, "fee");
    String status = fields.string(receipt, "status");
    if ("released".equals(status)) {
      fields.string(receipt, "worker_owner");
      if (receipt.has("provider")) {
        fields.string(receipt, "provider");
      }
      if (amount != null && fee != null && fee.compareTo(amount) > 0) {
        fields.problem("fee", "is more than the amount");
      }
    } else if ("refunded".equals(status)) {
      fields.string(receipt, "void_reason");
      if (fee != null && fee.signum() != 0) {
        fields.problem("fee", "must be " + amount(BigDecimal.ZERO) + " for a refund");
      }
    } else if (status != null) {
      fields.problem("status", "must be \"released\" or \"refunded\", got \"" + status + "\"");
    }
    return problems;
  }

  private static @Nullable BigDecimal amount(Fields fields, JsonNode receipt, String name) {
    String text = fields.string(receipt, name);
    if (text == null) {
      return null;
    }
    if (!AMOUNT.matcher(text).matches()) {
      fields.problem(name, "must be a decimal string with exactly " + SCALE + " places, got \"" + text + "\"");
      return null;
    }
    return new BigDecimal(text);
  }
}
