package net.aitbc.grid.coordinator.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** How long a checked key is trusted: fresh for the TTL, and for a bounded grace while the database is down. */
class KeyCacheTest {
  private final AtomicLong now = new AtomicLong();
  private final AtomicBoolean down = new AtomicBoolean();
  private final AtomicInteger reads = new AtomicInteger();
  private final Principal alice = new Principal("alice", Role.CLIENT, "0123456789abcdef", KeyLimits.DEFAULT);
  private final KeyCache cache = new KeyCache(hash -> {
    reads.incrementAndGet();
    if (down.get()) {
      throw new IllegalStateException("database down");
    }
    return Optional.of(alice);
  }, Duration.ofSeconds(5), Duration.ofSeconds(60), now::get);

  @Test
  void freshAnswersCostNoReads() {
    assertThat(cache.resolve("k")).isEqualTo(alice);
    now.set(Duration.ofSeconds(4).toNanos());
    assertThat(cache.resolve("k")).isEqualTo(alice);
    assertThat(reads).hasValue(1);
    now.set(Duration.ofSeconds(6).toNanos());
    assertThat(cache.resolve("k")).isEqualTo(alice);
    assertThat(reads).hasValue(2);
  }

  @Test
  void whileTheDatabaseIsDownACachedKeyIsTrustedForABoundedTime() {
    assertThat(cache.resolve("k")).isEqualTo(alice);
    down.set(true);
    now.set(Duration.ofSeconds(30).toNanos());
    assertThat(cache.resolve("k")).isEqualTo(alice);
    assertThat(cache.cached("k")).isNull();
    // TTL (5 s) plus grace (60 s) after it was checked: no longer trusted.
    now.set(Duration.ofSeconds(66).toNanos());
    assertThatThrownBy(() -> cache.resolve("k")).hasMessage("database down");
    // A key never seen is not trusted at all while the database is down.
    assertThatThrownBy(() -> cache.resolve("other")).hasMessage("database down");
  }

  @Test
  void whileOneCallerReadsAStaleKeyAgainTheOthersKeepTheStaleAnswer() throws Exception {
    java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch finish = new java.util.concurrent.CountDownLatch(1);
    AtomicInteger slowReads = new AtomicInteger();
    KeyCache slow = new KeyCache(hash -> {
      if (slowReads.incrementAndGet() > 1) {
        reading.countDown();
        try {
          finish.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
      return Optional.of(alice);
    }, Duration.ofSeconds(5), Duration.ofSeconds(60), now::get);
    assertThat(slow.resolve("k")).isEqualTo(alice);
    now.set(Duration.ofSeconds(6).toNanos());
    Thread refresher = Thread.ofVirtual().start(() -> slow.resolve("k"));
    reading.await();
    // The read in flight is the only one: these answer at once from the stale entry.
    for (int i = 0; i < 100; i++) {
      assertThat(slow.resolve("k")).isEqualTo(alice);
    }
    assertThat(slowReads).hasValue(2);
    finish.countDown();
    refresher.join();
    now.set(Duration.ofSeconds(7).toNanos());
    assertThat(slow.resolve("k")).isEqualTo(alice);
    assertThat(slowReads).hasValue(2);
  }
}
