package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.jooq.impl.DSL.any;
import static org.jooq.impl.DSL.array;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.exists;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.selectOne;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.IntFunction;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.VoidReason;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;

/**
 * Ends attempts and jobs from outside the worker: takes running jobs back from lost sessions, from
 * sessions that never got them, from attempts past their run timeout and from outcomes that could
 * not be recorded; expires jobs past their TTL; cancels a client's job. Every change is one
 * conditional statement on the job's current attempt, so it never races an outcome. A job that
 * fails, expires or is canceled here has its payment's escrow voided, and the payment's receipt
 * issued, in the same transaction.
 */
public final class TakeBackStore {
  private static final List<JobState> UNFINISHED = List.of(JobState.QUEUED, JobState.RUNNING);
  // True of every job, and part of job_queued_expiry_idx's predicate: PostgreSQL uses that index only
  // for a query that says it, which the claim never does (V19).
  private static final Condition FINITE_EXPIRY =
      JOB.EXPIRES_AT.lt(inline("infinity").cast(SQLDataType.TIMESTAMPWITHTIMEZONE));

  /** Why attempts are taken back; each names the worker and attempt in the job's history. */
  public enum Why {
    /** The worker's session ended or its lease ran out. */
    LOST,
    /** The claim committed but the assignment never reached the worker. */
    NEVER_ARRIVED,
    /** The attempt ran past its run timeout; the job avoids that worker for a while. */
    OVERRAN,
    /** The worker's outcome could not be stored. */
    UNRECORDED;

    String describe(String worker, int attempt, long timeoutMs) {
      return switch (this) {
        case LOST -> "worker " + worker + " was lost while running attempt " + attempt;
        case NEVER_ARRIVED -> "attempt " + attempt + " never reached worker " + worker;
        case OVERRAN -> "attempt " + attempt + " ran past its timeout of " + Duration.ofMillis(timeoutMs).toSeconds()
            + " s on worker " + worker;
        case UNRECORDED -> "the outcome of attempt " + attempt + " on worker " + worker + " could not be recorded";
      };
    }
  }

  private final DSLContext dsl;
  private final @Nullable ReceiptMaker receipts;

  /** A store over this database; with a {@code receipts} maker, each payment refunded here gets its receipt. */
  public TakeBackStore(DSLContext dsl, @Nullable ReceiptMaker receipts) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.receipts = receipts;
  }

  /**
   * Takes running jobs away from sessions whose lease ran out (up to {@code limit}), by the
   * database's clock, which stamped the leases: a replica with a wrong clock takes back no live session's jobs.
   */
  public List<Ended> requeueLost(IntFunction<Duration> backoff, int limit) {
    // Driven from the few running jobs, each looking up its session: the session table keeps growing.
    Condition lost = exists(selectOne().from(WORKER_SESSION)
        .where(WORKER_SESSION.SESSION_ID.eq(JOB.SESSION_ID), WORKER_SESSION.LEASE_EXPIRES_AT.lt(currentOffsetDateTime())));
    return takeBack(lost, Why.LOST, null, backoff, limit);
  }

  /** Takes all running jobs away from these sessions, which are gone. */
  public List<Ended> requeueFrom(Collection<UUID> sessionIds, IntFunction<Duration> backoff) {
    if (sessionIds.isEmpty()) {
      return List.of();
    }
    return takeBack(JOB.SESSION_ID.in(sessionIds), Why.LOST, null, backoff, Integer.MAX_VALUE);
  }

  /**
   * Takes these attempts back if each is still current and running; {@code avoidWorkerFor} keeps
   * the job from the same worker for that long after its retry becomes due (null: no such rule).
   */
  public List<Ended> takeBack(List<AttemptRef> attempts, Why why, @Nullable Duration avoidWorkerFor,
      IntFunction<Duration> backoff) {
    if (attempts.isEmpty()) {
      return List.of();
    }
    Condition which = DSL.or(attempts.stream()
        .map(o -> JOB.JOB_ID.eq(o.jobId()).and(JOB.ATTEMPT.eq(o.attempt())).and(JOB.SESSION_ID.eq(o.sessionId())))
        .toList());
    return takeBack(which, why, avoidWorkerFor, backoff, attempts.size());
  }

  /** Running attempts handed out before {@code before} to these sessions. */
  public List<AttemptRef> runningOn(Collection<UUID> sessionIds, OffsetDateTime before) {
    if (sessionIds.isEmpty()) {
      return List.of();
    }
    return dsl.select(JOB.JOB_ID, JOB.ATTEMPT, JOB.SESSION_ID)
        .from(JOB)
        .where(JOB.STATE.eq(inline(JobState.RUNNING)), JOB.SESSION_ID.in(sessionIds), JOB.STARTED_AT.lt(before))
        .fetch(r -> new AttemptRef(r.value1(), r.value2(), r.value3()));
  }

  private List<Ended> takeBack(Condition which, Why why, @Nullable Duration avoidWorkerFor,
      IntFunction<Duration> backoff, int limit) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      var rows = tx.select(JOB.JOB_ID, JOB.ATTEMPT, JOB.MAX_ATTEMPTS, JOB.WORKER_ID, JOB.SESSION_ID, JOB.STARTED_AT,
              JOB.TIMEOUT_MS)
          .from(JOB)
          .where(JOB.STATE.eq(inline(JobState.RUNNING)).and(which))
          .limit(limit)
          .forUpdate()
          .skipLocked()
          .fetch();
      List<Attempts.Ending> endings = new ArrayList<>(rows.size());
      for (var r : rows) {
        endings.add(new Attempts.Ending(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(), r.value6(),
            why.describe(r.value4(), r.value2(), r.value7()), true, avoidWorkerFor));
      }
      IssuedReceipts issued = new IssuedReceipts(receipts);
      List<Ended> ended = Attempts.end(tx, endings, now, backoff, issued);
      issued.store(tx);
      return ended;
    });
  }

  /** Expires up to {@code limit} queued and {@code limit} running jobs whose TTL has run out. */
  public List<Ended> expireDue(int limit) {
    // By the database's clock, as every coordinator that sweeps sees it.
    Field<OffsetDateTime> now = currentOffsetDateTime();
    List<Ended> ended = new ArrayList<>(expire(queuedDue(now), limit));
    ended.addAll(expire(JOB.STATE.eq(inline(JobState.RUNNING)).and(JOB.EXPIRES_AT.le(now)), limit));
    return ended;
  }

  /** Queued jobs whose TTL has run out, found through job_queued_expiry_idx. */
  static Condition queuedDue(Field<OffsetDateTime> now) {
    return JOB.STATE.eq(inline(JobState.QUEUED)).and(FINITE_EXPIRY).and(JOB.EXPIRES_AT.le(now));
  }

  /** Expires one job if its TTL has run out and it has not finished. */
  public Optional<Ended> expireIfDue(UUID jobId) {
    return expire(JOB.JOB_ID.eq(jobId).and(JOB.STATE.in(UNFINISHED)).and(JOB.EXPIRES_AT.le(JobStore.now())), 1)
        .stream().findFirst();
  }

  private List<Ended> expire(Condition due, int limit) {
    var ids = select(JOB.JOB_ID).from(JOB).where(due).limit(limit).forUpdate().skipLocked();
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      List<Ended> ended = tx.update(JOB)
          .set(JOB.STATE, JobState.EXPIRED)
          .set(JOB.ERROR, "job expired")
          .set(JOB.FINISHED_AT, now)
          .where(JOB.JOB_ID.eq(any(array(ids))))
          .returningResult(JOB.JOB_ID, JOB.ATTEMPT, JOB.SESSION_ID)
          .fetch(r -> new Ended(r.value1(), r.value2(), JobState.EXPIRED, r.value3()));
      // An expired job pays nothing: its escrow goes back to the client with the expiry.
      IssuedReceipts issued = new IssuedReceipts(receipts);
      Settlements.voidForJobs(tx, ended.stream().map(Ended::jobId).toList(), VoidReason.expiry, now, issued);
      issued.store(tx);
      return ended;
    });
  }

  /**
   * Cancels a client's queued or running job. Empty when the job does not exist or has already
   * ended; {@link Ended#sessionId()} names the session to revoke it from when it was running.
   */
  public Optional<Ended> cancel(UUID jobId, String clientId, String reason) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      Optional<Ended> ended = tx.update(JOB)
          .set(JOB.STATE, JobState.CANCELED)
          .set(JOB.ERROR, reason)
          .set(JOB.FINISHED_AT, now)
          .where(JOB.JOB_ID.eq(jobId), JOB.CLIENT_ID.eq(clientId), JOB.STATE.in(UNFINISHED))
          .returningResult(JOB.ATTEMPT, JOB.SESSION_ID)
          .fetchOptional(r -> new Ended(jobId, r.value1(), JobState.CANCELED, r.value2()));
      // A canceled job pays nothing: its escrow goes back to the client with the cancel.
      if (ended.isPresent()) {
        IssuedReceipts issued = new IssuedReceipts(receipts);
        Settlements.voidForJobs(tx, List.of(jobId), VoidReason.cancel, now, issued);
        issued.store(tx);
      }
      return ended;
    });
  }
}
