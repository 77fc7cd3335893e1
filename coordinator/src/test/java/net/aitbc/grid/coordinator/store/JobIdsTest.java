package net.aitbc.grid.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class JobIdsTest {
  private final JobIds ids = new JobIds();

  @Test
  void idsAreVersion7AndRoundTripThroughHex() {
    UUID id = ids.next();
    String hex = JobIds.format(id);

    assertThat(id.version()).isEqualTo(7);
    assertThat(id.variant()).isEqualTo(2);
    assertThat(hex).matches("[0-9a-f]{32}").isEqualTo(id.toString().replace("-", ""));
    assertThat(JobIds.parse(hex)).contains(id);
    assertThat(JobIds.parse(hex.toUpperCase())).contains(id);
  }

  @Test
  void idsMadeLaterSortLater() throws InterruptedException {
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      made.add(JobIds.format(ids.next()));
      Thread.sleep(2);
    }
    assertThat(made).isSorted();
  }

  @Test
  void theFloorOfAMillisecondIsBelowEveryIdMadeThenAndAboveEveryIdMadeBefore() {
    long now = System.currentTimeMillis();
    UUID id = ids.next();
    UUID floor = JobIds.floor(now);
    assertThat(JobIds.compare(floor, id)).isNegative();
    assertThat(JobIds.compare(JobIds.floor(now + 1_000), id)).isPositive();
    // Unsigned, as PostgreSQL orders uuids: a high first bit sorts last, where UUID.compareTo says first.
    UUID high = new UUID(0x8000_0000_0000_0000L, 0);
    assertThat(JobIds.compare(high, id)).isPositive();
    assertThat(high.compareTo(id)).isNegative();
  }

  @Test
  void anythingElseIsNotAnId() {
    assertThat(JobIds.parse("")).isEmpty();
    assertThat(JobIds.parse("abc")).isEmpty();
    assertThat(JobIds.parse("g".repeat(32))).isEmpty();
    assertThat(JobIds.parse("5b2f0c9e-7a4d-4e1f-9c3b-2a1d0e9f8a7b")).isEmpty();
    assertThat(JobIds.parse("0".repeat(33))).isEmpty();
  }
}
