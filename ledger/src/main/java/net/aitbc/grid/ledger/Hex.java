package net.aitbc.grid.ledger;

/** Lowercase hexadecimal, as every hash and seed in the ledger is written. */
public final class Hex {
  private static final char[] DIGITS = "0123456789abcdef".toCharArray();

  private Hex() {}

  /** {@code bytes} as lowercase hex, two characters a byte. */
  public static String encode(byte[] bytes) {
    char[] out = new char[bytes.length * 2];
    for (int i = 0; i < bytes.length; i++) {
      out[2 * i] = DIGITS[(bytes[i] >> 4) & 0xf];
      out[2 * i + 1] = DIGITS[bytes[i] & 0xf];
    }
    return new String(out);
  }

  /** The bytes of hex text (either case, optional {@code 0x} prefix); IllegalArgumentException saying what is wrong. */
  public static byte[] decode(String hex) {
    String digits = hex.startsWith("0x") || hex.startsWith("0X") ? hex.substring(2) : hex;
    if (digits.length() % 2 != 0) {
      throw new IllegalArgumentException("hex has an odd number of digits (" + digits.length() + ")");
    }
    byte[] out = new byte[digits.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) (digit(digits, 2 * i) << 4 | digit(digits, 2 * i + 1));
    }
    return out;
  }

  /** True if {@code text} is exactly {@code length} lowercase hex digits. */
  static boolean isLowerHex(String text, int length) {
    if (text.length() != length) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static int digit(String digits, int at) {
    int d = Character.digit(digits.charAt(at), 16);
    // Character.digit also takes non-ASCII digits (e.g. fullwidth); only ASCII is hex here.
    if (d < 0 || digits.charAt(at) > 'f') {
      throw new IllegalArgumentException("not a hex digit at position " + at + ": '" + digits.charAt(at) + "'");
    }
    return d;
  }
}
