package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.db.enums.Currency;

/**
 * The one place for the rules of money (contract §4): amounts are exact decimals of at most 8
 * places, a payment is between 0.01 and 1,000,000, currencies are AITBC, BTC, ETH and USDT, an
 * escrow times out after 300 to 86,400 s. Every refusal is a {@link PaymentRefused} of reason
 * {@link Reason#INVALID} that says what was wrong.
 */
public final class Money {
  /** Decimal places of every amount. */
  public static final int SCALE = 8;
  /** The smallest payment. */
  public static final BigDecimal MIN_PAYMENT = new BigDecimal("0.01");
  /** The largest payment. */
  public static final BigDecimal MAX_PAYMENT = new BigDecimal("1000000");
  /** The largest single deposit: balances must stay within numeric(20, 8). */
  public static final BigDecimal MAX_DEPOSIT = new BigDecimal("1000000000");
  /** The shortest escrow timeout, in seconds. */
  public static final int MIN_ESCROW_TIMEOUT_S = 300;
  /** The longest escrow timeout, in seconds. */
  public static final int MAX_ESCROW_TIMEOUT_S = 86_400;
  /** The escrow timeout when none is given (the CLI's default), in seconds. */
  public static final int DEFAULT_ESCROW_TIMEOUT_S = 3600;
  /** The currency when none is given. */
  public static final Currency DEFAULT_CURRENCY = Currency.AITBC;

  private static final int MAX_TEXT = 64;

  private Money() {}

  /**
   * Parses a decimal as a client wrote it ({@code "1.5"}, {@code "2"}, {@code "1e2"}): refuses
   * anything that is not a finite number with at most 8 decimal places.
   */
  public static BigDecimal parse(String text, String field) {
    String t = text.strip();
    if (t.isEmpty()) {
      throw invalid(field + " is required: a decimal such as \"1.5\"");
    }
    if (t.length() > MAX_TEXT) {
      throw invalid(field + " is not a decimal of at most " + MAX_TEXT + " characters");
    }
    BigDecimal value;
    try {
      value = new BigDecimal(t);
    } catch (NumberFormatException | ArithmeticException e) {
      throw invalid(field + " must be a decimal such as \"1.5\", not \"" + t + "\"");
    }
    return scaled(value, field);
  }

  /** {@code value} at scale 8, or a refusal if it has more than 8 decimal places. */
  public static BigDecimal scaled(BigDecimal value, String field) {
    BigDecimal stripped = value.stripTrailingZeros();
    if (stripped.scale() > SCALE) {
      throw invalid(field + " has more than " + SCALE + " decimal places: " + abbreviate(value));
    }
    if (stripped.precision() - stripped.scale() > 13) {
      // Far beyond any limit; checked before setScale, which would build a number of that size.
      throw invalid(field + " is far too large: " + abbreviate(value));
    }
    return stripped.setScale(SCALE, RoundingMode.UNNECESSARY);
  }

  /** A payment's amount: at least 0.01, at most 1,000,000, at most 8 decimals. */
  public static BigDecimal paymentAmount(BigDecimal value) {
    BigDecimal v = scaled(value, "amount");
    if (v.compareTo(MIN_PAYMENT) < 0 || v.compareTo(MAX_PAYMENT) > 0) {
      throw invalid("amount must be between 0.01 and 1000000, not " + v.stripTrailingZeros().toPlainString());
    }
    return v;
  }

  /** A deposit's amount: more than 0, at most 1,000,000,000, at most 8 decimals. */
  public static BigDecimal depositAmount(BigDecimal value) {
    BigDecimal v = scaled(value, "amount");
    if (v.signum() <= 0 || v.compareTo(MAX_DEPOSIT) > 0) {
      throw invalid("a deposit must be more than 0 and at most 1000000000, not "
          + v.stripTrailingZeros().toPlainString());
    }
    return v;
  }

  /** A credit limit: 0 or more, at most 1,000,000,000, at most 8 decimals. */
  public static BigDecimal creditLimit(BigDecimal value) {
    BigDecimal v = scaled(value, "credit_limit");
    if (v.signum() < 0 || v.compareTo(MAX_DEPOSIT) > 0) {
      throw invalid("credit_limit must be between 0 and 1000000000, not " + v.stripTrailingZeros().toPlainString());
    }
    return v;
  }

  /** A currency by name, in any case; blank means {@link #DEFAULT_CURRENCY}. */
  public static Currency currency(String text) {
    String t = text.strip().toUpperCase(Locale.ROOT);
    if (t.isEmpty()) {
      return DEFAULT_CURRENCY;
    }
    for (Currency c : Currency.values()) {
      if (c.getLiteral().equals(t)) {
        return c;
      }
    }
    throw invalid("currency must be one of AITBC, BTC, ETH, USDT, not \"" + abbreviate(text) + "\"");
  }

  /** An escrow timeout in seconds: 300 to 86,400; 0 means {@link #DEFAULT_ESCROW_TIMEOUT_S}. */
  public static int escrowTimeout(long seconds) {
    if (seconds == 0) {
      return DEFAULT_ESCROW_TIMEOUT_S;
    }
    if (seconds < MIN_ESCROW_TIMEOUT_S || seconds > MAX_ESCROW_TIMEOUT_S) {
      throw invalid("escrow_timeout_seconds must be between 300 and 86400, not " + seconds);
    }
    return (int) seconds;
  }

  /** A platform fee in basis points: 0 to 9,999, so that the worker's share is never nothing. */
  public static int feeBps(int bps) {
    if (bps < 0 || bps > 9_999) {
      throw new IllegalArgumentException("the platform fee must be 0 to 9999 basis points, not " + bps);
    }
    return bps;
  }

  /** The platform's fee on {@code amount}, rounded down to 8 places: rounding favours the worker. */
  public static BigDecimal fee(BigDecimal amount, int bps) {
    return amount.multiply(BigDecimal.valueOf(bps)).divide(BigDecimal.valueOf(10_000), SCALE, RoundingMode.DOWN);
  }

  private static String abbreviate(Object value) {
    String s = value instanceof BigDecimal d ? d.toString() : String.valueOf(value);
    return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + "…";
  }

  private static PaymentRefused invalid(String message) {
    return new PaymentRefused(Reason.INVALID, message);
  }
}
