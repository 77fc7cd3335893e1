package net.aitbc.grid.ledger;

import java.math.BigDecimal;

/** A double as Python's {@code repr(float)} writes it: shortest round-trip digits in Python's layout. */
final class PythonFloat {
  private PythonFloat() {}

  /** Appends {@code Python repr(value)}; IllegalArgumentException for NaN and infinities (they are not JSON). */
  static void append(double value, StringBuilder out) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException("JSON has no " + value + ": only finite numbers can be signed");
    }
    // Double.toString gives the shortest round-trip digits since JDK 19, except that when one digit
    // would do it may pick a closer two-digit decimal (4.9E-324 where Python writes 5e-324).
    String java = Double.toString(Math.abs(value));
    int e = java.indexOf('E');
    String mantissa = e < 0 ? java : java.substring(0, e);
    int exponent = e < 0 ? 0 : Integer.parseInt(java.substring(e + 1));
    int dot = mantissa.indexOf('.');
    StringBuilder digits = new StringBuilder(mantissa.length()).append(mantissa, 0, dot).append(mantissa, dot + 1, mantissa.length());
    int point = dot + exponent; // value = 0.DIGITS × 10^point once leading zeros are gone
    int lead = 0;
    while (lead < digits.length() - 1 && digits.charAt(lead) == '0') {
      lead++;
    }
    digits.delete(0, lead);
    point -= lead;
    int end = digits.length();
    while (end > 1 && digits.charAt(end - 1) == '0') {
      end--;
    }
    digits.setLength(end);
    if (digits.charAt(0) == '0') {
      point = 1; // zero: Python writes 0.0
    } else if (digits.length() == 2 && Math.abs(value) < Double.MIN_NORMAL) {
      // Only subnormals are coarse enough for a one-digit decimal to round-trip when Java chose two.
      point += oneDigit(Math.abs(value), digits, point);
    }
    if (Math.copySign(1.0, value) < 0) {
      out.append('-');
    }
    layout(digits, point, out);
  }

  /** Replaces two digits by the closest one-digit decimal that still reads back as {@code abs}, if any; returns the shift of the point. */
  private static int oneDigit(double abs, StringBuilder digits, int point) {
    int high = digits.charAt(0) - '0';
    BigDecimal exact = new BigDecimal(abs);
    int best = -1;
    BigDecimal bestDistance = null;
    for (int d = high; d <= high + 1; d++) {
      BigDecimal candidate = BigDecimal.valueOf(d).scaleByPowerOfTen(point - 1);
      if (candidate.doubleValue() != abs) {
        continue;
      }
      BigDecimal distance = candidate.subtract(exact).abs();
      if (bestDistance == null || distance.compareTo(bestDistance) < 0) {
        best = d;
        bestDistance = distance;
      }
    }
    if (best < 0) {
      return 0;
    }
    digits.setLength(0);
    if (best == 10) {
      digits.append('1');
      return 1;
    }
    digits.append((char) ('0' + best));
    return 0;
  }

  /** Python's float_repr_style 'short' layout: fixed notation when -4 < point <= 16, else d.ddde±XX. */
  private static void layout(CharSequence digits, int point, StringBuilder out) {
    int n = digits.length();
    if (point > -4 && point <= 16) {
      if (point <= 0) {
        out.append("0.").repeat('0', -point).append(digits);
      } else if (point >= n) {
        out.append(digits).repeat('0', point - n).append(".0");
      } else {
        out.append(digits, 0, point).append('.').append(digits, point, n);
      }
      return;
    }
    out.append(digits.charAt(0));
    if (n > 1) {
      out.append('.').append(digits, 1, n);
    }
    int exponent = point - 1;
    out.append('e').append(exponent < 0 ? '-' : '+');
    int abs = Math.abs(exponent);
    if (abs < 10) {
      out.append('0');
    }
    out.append(abs);
  }
}
