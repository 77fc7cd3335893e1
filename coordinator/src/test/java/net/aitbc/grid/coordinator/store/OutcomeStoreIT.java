package net.aitbc.grid.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.db.enums.JobState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Outcomes are fenced by attempt and session, also when several share one commit batch. */
class OutcomeStoreIT {
  private static TestDatabase db;
  private static HikariDataSource pool;
  private static Stores stores;
  private static final Offer NOOP = Offer.of(List.of("noop"), List.of(), List.of(), 0, "", 0, "");

  @BeforeAll
  static void open() {
    db = TestDatabase.create();
    pool = Database.pool(db.url(), null, null, 4);
    Database.migrate(pool);
    stores = Stores.over(Database.dsl(pool), null);
  }

  @AfterAll
  static void close() {
    pool.close();
    db.close();
  }

  /** A job on its second attempt: attempt 1 ran on session {@code first} and was taken back. */
  private static UUID jobOnSecondAttempt(UUID first, UUID second) {
    UUID id = new JobIds().next();
    stores.jobs().insert(List.of(new NewJob(id, "c", null, "noop", null, "{}", Requirements.NONE, 5, 0, 3,
        Duration.ofMinutes(5), Duration.ofMinutes(1), null)));
    assertThat(stores.claims().claim(NOOP, 1, first, "w1")).singleElement().extracting(ClaimedJob::attempt)
        .isEqualTo(1);
    assertThat(stores.takeBacks().requeueFrom(List.of(first), attempt -> Duration.ZERO)).hasSize(1);
    assertThat(stores.claims().claim(NOOP, 1, second, "w2")).singleElement().extracting(ClaimedJob::attempt)
        .isEqualTo(2);
    return id;
  }

  @Test
  void aStaleAndTheCurrentCompletionInOneBatchAcceptOnlyTheCurrent() {
    UUID first = UUID.randomUUID();
    UUID second = UUID.randomUUID();
    UUID job = jobOnSecondAttempt(first, second);
    List<Recorded> answers = stores.outcomes().record(List.of(
        new Outcome.Completed(job, 1, first, "{\"by\":\"stale\"}", "{}"),
        new Outcome.Completed(job, 2, second, "{\"by\":\"current\"}", "{}")), attempt -> Duration.ZERO);
    assertThat(answers.get(0).accepted()).isFalse();
    assertThat(answers.get(0).reason()).isEqualTo("attempt 1 is stale: the job is on attempt 2");
    assertThat(answers.get(1).accepted()).isTrue();
    assertThat(stores.jobs().find(job, "c").orElseThrow().resultJson()).contains("current");
  }

  @Test
  void theOrderWithinTheBatchDoesNotMatter() {
    UUID first = UUID.randomUUID();
    UUID second = UUID.randomUUID();
    UUID job = jobOnSecondAttempt(first, second);
    List<Recorded> answers = stores.outcomes().record(List.of(
        new Outcome.Completed(job, 2, second, "{\"by\":\"current\"}", "{}"),
        new Outcome.Completed(job, 1, first, "{\"by\":\"stale\"}", "{}"),
        new Outcome.Completed(job, 2, second, "{\"by\":\"current\"}", "{}")), attempt -> Duration.ZERO);
    assertThat(answers).extracting(Recorded::accepted).containsExactly(true, false, true);
    assertThat(stores.jobs().find(job, "c").orElseThrow().state()).isEqualTo(JobState.COMPLETED);
  }
}
