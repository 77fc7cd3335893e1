package net.aitbc.grid.coordinator.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * API keys checked against the database, remembered for a short time so that a call costs no read.
 * A revoked key stops working within {@code ttl}. While the database cannot be read, a key checked
 * less than {@code ttl + staleGrace} ago is still trusted; after that its calls are refused as
 * unavailable. Unknown keys are remembered too, so a flood of bad keys costs no reads. When an
 * answer goes stale, one caller reads the key again while the others keep the stale answer (a
 * revoked key may work for one read longer than {@code ttl}), so that the hundreds of calls in
 * flight with a busy client's key do not all read it at once.
 */
public final class KeyCache {
  private static final Logger logger = LoggerFactory.getLogger(KeyCache.class);
  private static final int LIMIT = 50_000;

  private final Function<byte[], Optional<Principal>> lookup;
  private final long ttlNanos;
  private final long staleNanos;
  private final LongSupplier clock;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  /** A cache over {@code lookup} (by key hash), with {@code clock} giving nanoseconds. */
  public KeyCache(Function<byte[], Optional<Principal>> lookup, Duration ttl, Duration staleGrace, LongSupplier clock) {
    this.lookup = requireNonNull(lookup, "lookup");
    this.ttlNanos = ttl.toNanos();
    this.staleNanos = ttl.plus(staleGrace).toNanos();
    this.clock = requireNonNull(clock, "clock");
  }

  /**
   * The principal of a key, or null when the key is unknown or revoked; throws what the lookup
   * threw when the database cannot be read and no recent enough answer is cached.
   */
  public @Nullable Principal resolve(String key) {
    long now = clock.getAsLong();
    // Keyed by the key itself: no hash on the hot path while the entry is fresh.
    Cached cached = cache.get(key);
    if (cached != null && now - cached.loadedAt < ttlNanos) {
      return cached.principal;
    }
    if (cached != null && now - cached.loadedAt < staleNanos && !cached.refreshing.compareAndSet(false, true)) {
      return cached.principal;
    }
    Principal principal;
    try {
      principal = lookup.apply(ApiKeys.hash(key)).orElse(null);
    } catch (RuntimeException e) {
      if (cached != null) {
        cached.refreshing.set(false);
      }
      if (cached != null && now - cached.loadedAt < staleNanos) {
        logger.debug("cannot check a key now ({}); trusting the answer of {} ms ago", e.toString(),
            (now - cached.loadedAt) / 1_000_000);
        return cached.principal;
      }
      throw e;
    }
    if (cache.size() >= LIMIT) {
      cache.clear();
    }
    cache.put(key, new Cached(principal, now));
    return principal;
  }

  /** The principal of a key if a fresh answer is cached (no database read); null otherwise. */
  public @Nullable Principal cached(String key) {
    Cached cached = cache.get(key);
    return cached != null && clock.getAsLong() - cached.loadedAt < ttlNanos ? cached.principal : null;
  }

  private record Cached(@Nullable Principal principal, long loadedAt, AtomicBoolean refreshing) {
    Cached(@Nullable Principal principal, long loadedAt) {
      this(principal, loadedAt, new AtomicBoolean());
    }
  }
}
