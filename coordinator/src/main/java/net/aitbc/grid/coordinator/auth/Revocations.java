package net.aitbc.grid.coordinator.auth;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes revocation reach what is already open: streams (worker sessions, job watches) register the
 * key they were opened with, and every {@code every} the keys in use are checked against the
 * database; the streams of a key that was revoked (or removed) are ended. While the database cannot
 * be read, open streams go on.
 */
public final class Revocations implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Revocations.class);

  private final Function<Collection<String>, Set<String>> inactive;
  private final Map<String, Set<Runnable>> watchers = new ConcurrentHashMap<>();
  private final ScheduledExecutorService timer;

  /** Checks every {@code every}; {@code inactive} says which of some key ids are no longer active. */
  public Revocations(Function<Collection<String>, Set<String>> inactive, Duration every) {
    this.inactive = requireNonNull(inactive, "inactive");
    this.timer = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("grid-revocations").daemon().factory());
    long ms = Math.max(1, every.toMillis());
    timer.scheduleWithFixedDelay(this::check, ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Runs {@code onRevoked} once if key {@code keyId} is revoked; close the result to stop watching. */
  public AutoCloseable watch(String keyId, Runnable onRevoked) {
    watchers.computeIfAbsent(keyId, k -> ConcurrentHashMap.newKeySet()).add(onRevoked);
    return () -> watchers.computeIfPresent(keyId, (k, set) -> {
      set.remove(onRevoked);
      return set.isEmpty() ? null : set;
    });
  }

  private void check() {
    if (watchers.isEmpty()) {
      return;
    }
    Set<String> gone;
    try {
      gone = inactive.apply(List.copyOf(watchers.keySet()));
    } catch (RuntimeException e) {
      logger.debug("cannot check keys for revocation now: {}", e.toString());
      return;
    }
    for (String keyId : gone) {
      Set<Runnable> ended = watchers.remove(keyId);
      if (ended == null) {
        continue;
      }
      logger.info("key {} was revoked: ending {} open stream(s)", keyId, ended.size());
      for (Runnable r : ended) {
        try {
          r.run();
        } catch (RuntimeException e) {
          logger.warn("ending a stream of revoked key {} failed: {}", keyId, e.toString());
        }
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
