package net.aitbc.grid.ledger;

import java.util.Base64;

/** URL-safe base64 without padding, the encoding of key ids and signatures (contract §6). */
public final class B64 {
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

  private B64() {}

  /** {@code bytes} as URL-safe base64 without padding. */
  public static String encode(byte[] bytes) {
    return ENCODER.encodeToString(bytes);
  }

  /** The bytes of URL-safe unpadded base64; IllegalArgumentException unless the text is exactly what encode gives. */
  public static byte[] decode(String text) {
    byte[] bytes;
    try {
      bytes = DECODER.decode(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not URL-safe base64: " + e.getMessage(), e);
    }
    // The JDK decoder accepts padding and ignores stray low bits; one text per value keeps ids comparable.
    if (!ENCODER.encodeToString(bytes).equals(text)) {
      throw new IllegalArgumentException("not canonical unpadded URL-safe base64");
    }
    return bytes;
  }
}
