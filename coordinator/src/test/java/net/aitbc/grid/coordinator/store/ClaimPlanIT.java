package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.select;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import org.jooq.DSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A claim walks the queue's index in order and stops at its limit, even when the table's statistics
 * were gathered while nothing was queued (what autovacuum does on a quiet day): then the planner
 * estimates one queued job, and before V19 read the whole backlog through the expiry index and sorted
 * it in every claim.
 */
class ClaimPlanIT {
  private static final Offer NOOP = Offer.of(List.of("noop"), List.of(), List.of(), 0, "", 0, "");
  private static TestDatabase db;
  private static HikariDataSource pool;
  private static DSLContext dsl;
  private static Stores stores;

  @BeforeAll
  static void open() throws Exception {
    db = TestDatabase.create();
    pool = Database.pool(db.url(), null, null, 2);
    Database.migrate(pool);
    dsl = Database.dsl(pool);
    stores = Stores.over(dsl, null);
    // A table of 20,000 jobs none of which is queued when ANALYZE samples it; ANALYZE has no jOOQ
    // statement.
    insert(20_000, 5);
    for (int i = 0; i < 20; i++) {
      stores.claims().claim(NOOP, 1_000, UUID.randomUUID(), "earlier");
    }
    try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
      s.execute("ANALYZE job");
    }
    insert(3_000, 9);
    insert(3_000, 5);
    insert("a", 60, 3);
    insert("b", 60, 4);
  }

  private static void insert(int count, int priority) {
    insert("noop", count, priority);
  }

  private static void insert(String type, int count, int priority) {
    JobIds ids = new JobIds();
    List<NewJob> jobs = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      jobs.add(new NewJob(ids.next(), "c", null, type, null, "{}", Requirements.NONE, priority, i, 3,
          Duration.ofHours(1), Duration.ofMinutes(1), null));
      if (jobs.size() == 1_000) {
        stores.jobs().insert(jobs);
        jobs.clear();
      }
    }
    stores.jobs().insert(jobs);
  }

  @AfterAll
  static void close() {
    pool.close();
    db.close();
  }

  @Test
  void theClaimReadsTheQueueIndexInOrderWithoutSorting() {
    String plan = dsl.explain(ClaimStore.candidates(NOOP, 100, "w", JobStore.now())).plan();
    assertThat(plan).contains("job_queued_idx").doesNotContain("Sort").doesNotContain("job_queued_expiry_idx");
  }

  @Test
  void anOfferOfSeveralTypesWalksTheQueueIndexOncePerType() {
    Offer both = Offer.of(List.of("noop", "other"), List.of(), List.of(), 0, "", 0, "");
    String plan = dsl.explain(ClaimStore.candidates(both, 100, "w", JobStore.now())).plan();
    assertThat(plan).contains("job_queued_idx").doesNotContain("job_queued_expiry_idx");
  }

  @Test
  void anOfferOfSeveralTypesTakesTheBestJobsOfAllOfThem() {
    Offer ab = Offer.of(List.of("a", "b"), List.of(), List.of(), 0, "", 0, "");
    List<ClaimedJob> claimed = stores.claims().claim(ab, 100, UUID.randomUUID(), "w");
    assertThat(claimed).filteredOn(j -> j.type().equals("b")).hasSize(60);
    assertThat(claimed).filteredOn(j -> j.type().equals("a")).extracting(ClaimedJob::fairTag)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 40).mapToObj(i -> (double) i).toList());
  }

  @Test
  void theTtlSweepStillFindsDueJobsThroughTheExpiryIndex() {
    String plan = dsl.explain(select(JOB.JOB_ID).from(JOB).where(TakeBackStore.queuedDue(currentOffsetDateTime()))
        .limit(100).forUpdate().skipLocked()).plan();
    assertThat(plan).contains("job_queued_expiry_idx");
  }

  @Test
  void theClaimStillTakesTheBestJobsFirst() {
    List<ClaimedJob> claimed = stores.claims().claim(NOOP, 50, UUID.randomUUID(), "w");
    assertThat(claimed).hasSize(50).allSatisfy(j -> assertThat(j.priority()).isEqualTo(9));
    // The first 50 in fair-share order (RETURNING gives them in no particular order).
    assertThat(claimed).extracting(ClaimedJob::fairTag)
        .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 50).mapToObj(i -> (double) i).toList());
  }
}
