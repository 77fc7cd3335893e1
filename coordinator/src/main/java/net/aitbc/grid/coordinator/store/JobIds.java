package net.aitbc.grid.coordinator.store;

import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Job ids: UUIDv7 (time-ordered, so that inserts stay at the right edge of the primary key index),
 * written as 32 lowercase hex characters. Ids need not be secret (every read checks the owner), so
 * the random bits come from a fast generator rather than a locked SecureRandom.
 */
public final class JobIds {
  private static final HexFormat HEX = HexFormat.of();

  /** A new time-ordered id. */
  public UUID next() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long millis = System.currentTimeMillis();
    long randA = random.nextLong();
    long msb = (millis << 16) | 0x7000L | (randA & 0x0FFFL);
    long lsb = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb);
  }

  /** The least id {@link #next} could make at {@code millis} (epoch milliseconds): ids below it are older. */
  public static UUID floor(long millis) {
    return new UUID((millis << 16) | 0x7000L, 0L);
  }

  /** Orders ids as PostgreSQL's uuid does (unsigned, byte by byte), which is creation order for ours. */
  public static int compare(UUID a, UUID b) {
    int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
    return high != 0 ? high : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
  }

  /** The 32-hex-character form of an id. */
  public static String format(UUID id) {
    return HEX.toHexDigits(id.getMostSignificantBits()) + HEX.toHexDigits(id.getLeastSignificantBits());
  }

  /** Parses 32 hex characters (either case); empty for anything else. */
  public static Optional<UUID> parse(String text) {
    if (text.length() != 32) {
      return Optional.empty();
    }
    for (int i = 0; i < 32; i++) {
      char c = text.charAt(i);
      // ASCII only: Character.digit would also take other scripts' digits, which HexFormat refuses.
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
        return Optional.empty();
      }
    }
    return Optional.of(new UUID(
        HexFormat.fromHexDigitsToLong(text, 0, 16), HexFormat.fromHexDigitsToLong(text, 16, 32)));
  }
}
