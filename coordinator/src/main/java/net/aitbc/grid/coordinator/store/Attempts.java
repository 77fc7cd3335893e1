package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.JOB_ATTEMPT;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.IntFunction;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.VoidReason;
import org.jooq.DSLContext;
import org.jooq.Query;
import org.jspecify.annotations.Nullable;

/**
 * The one rule for an attempt that ended without completing its job, whoever ended it (its worker
 * reported a failure, its worker was lost, it never reached its worker, it ran past its timeout):
 * the attempt goes into the job's history, and the job is queued again after a backoff while it has
 * attempts left and the failure may pass, else it fails, and its payment's escrow is voided back
 * to the client.
 */
final class Attempts {
  private Attempts() {}

  /**
   * An attempt that ended, read from the job's row under a lock.
   *
   * @param jobId the job
   * @param attempt the attempt that ended
   * @param maxAttempts the job's limit
   * @param workerId the worker that ran it
   * @param sessionId the session that held it
   * @param startedAt when it started
   * @param error why it ended
   * @param retryable whether another attempt may succeed
   * @param avoidWorkerFor keep the job from this worker for this long (it overran there), or null
   */
  record Ending(UUID jobId, int attempt, int maxAttempts, @Nullable String workerId, @Nullable UUID sessionId,
      @Nullable OffsetDateTime startedAt, String error, boolean retryable, @Nullable Duration avoidWorkerFor) {}

  /**
   * Records the attempts and moves each job on; returns what happened to each, in order. The
   * receipts of payments refunded here go to {@code issued}.
   */
  static List<Ended> end(DSLContext tx, List<Ending> endings, OffsetDateTime now, IntFunction<Duration> backoff,
      IssuedReceipts issued) {
    if (endings.isEmpty()) {
      return List.of();
    }
    var history = tx.insertInto(JOB_ATTEMPT, JOB_ATTEMPT.JOB_ID, JOB_ATTEMPT.ATTEMPT, JOB_ATTEMPT.WORKER_ID,
        JOB_ATTEMPT.SESSION_ID, JOB_ATTEMPT.STARTED_AT, JOB_ATTEMPT.ENDED_AT, JOB_ATTEMPT.ERROR);
    List<Query> updates = new ArrayList<>(endings.size());
    List<Ended> out = new ArrayList<>(endings.size());
    List<UUID> failed = new ArrayList<>();
    for (Ending e : endings) {
      history = history.values(e.jobId(), e.attempt(), e.workerId(), e.sessionId(), e.startedAt(), now, e.error());
      if (e.retryable() && e.attempt() < e.maxAttempts()) {
        OffsetDateTime runAfter = now.plus(backoff.apply(e.attempt()));
        boolean avoid = e.avoidWorkerFor() != null && e.workerId() != null;
        updates.add(tx.update(JOB)
            .set(JOB.STATE, JobState.QUEUED)
            .set(JOB.ERROR, e.error())
            .setNull(JOB.SESSION_ID)
            .set(JOB.RUN_AFTER, runAfter)
            .set(JOB.AVOID_WORKER_ID, avoid ? e.workerId() : null)
            .set(JOB.AVOID_UNTIL, avoid ? runAfter.plus(e.avoidWorkerFor()) : null)
            .where(JOB.JOB_ID.eq(e.jobId())));
        out.add(new Ended(e.jobId(), e.attempt(), JobState.QUEUED, e.sessionId()));
      } else {
        updates.add(tx.update(JOB)
            .set(JOB.STATE, JobState.FAILED)
            .set(JOB.ERROR, e.retryable() ? e.error() + " (gave up after " + e.attempt() + " attempts)" : e.error())
            .set(JOB.FINISHED_AT, now)
            .where(JOB.JOB_ID.eq(e.jobId())));
        out.add(new Ended(e.jobId(), e.attempt(), JobState.FAILED, e.sessionId()));
        failed.add(e.jobId());
      }
    }
    history.onConflictDoNothing().execute();
    if (updates.size() == 1) {
      updates.getFirst().execute();
    } else {
      tx.batch(updates).execute();
    }
    // A job that failed for good pays nothing: its escrow goes back to the client in this transaction.
    Settlements.voidForJobs(tx, failed, VoidReason.failure, now, issued);
    return out;
  }
}
