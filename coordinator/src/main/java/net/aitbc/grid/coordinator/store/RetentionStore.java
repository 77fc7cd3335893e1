package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.MINER_JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.SWARM_TASK;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.exists;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.selectOne;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jspecify.annotations.Nullable;

/**
 * Retirement of finished jobs: deletes, a bounded batch per transaction, the jobs that ended before a
 * cutoff on the database's clock, with their attempts (by cascade) and REST miners' rows of them.
 * Receipts, payments and transfers are never touched. Any number of coordinators may retire at once:
 * each locks its batch with SKIP LOCKED, so no job is deleted (or counted) twice and none waits.
 */
public final class RetentionStore {
  private static final List<JobState> ENDED = List.of(JobState.COMPLETED, JobState.FAILED, JobState.CANCELED,
      JobState.EXPIRED);
  private static final List<ExecutionStatus> RUN_ENDED = List.of(ExecutionStatus.completed, ExecutionStatus.failed,
      ExecutionStatus.cancelled);
  private static final List<PaymentStatus> SETTLED = List.of(PaymentStatus.released, PaymentStatus.refunded,
      PaymentStatus.failed);

  /**
   * A job may go once whatever it belongs to has ended. Each test asks for positive evidence (the
   * payment settled, the execution or task ended) as the statement's snapshot saw it: a payment made
   * or a run started while the batch is chosen keeps the job rather than losing it.
   */
  private static final Condition UNNEEDED = JOB.PAYMENT_ID.isNull()
      .or(exists(selectOne().from(PAYMENT)
          .where(PAYMENT.PAYMENT_ID.eq(JOB.PAYMENT_ID), PAYMENT.STATUS.in(inlined(SETTLED)))))
      .and(JOB.EXECUTION_ID.isNull()
          .or(exists(selectOne().from(EXECUTION)
              .where(EXECUTION.EXECUTION_ID.eq(JOB.EXECUTION_ID), EXECUTION.STATUS.in(inlined(RUN_ENDED))))))
      .and(JOB.SWARM_TASK_ID.isNull()
          .or(exists(selectOne().from(SWARM_TASK)
              .where(SWARM_TASK.TASK_ID.eq(JOB.SWARM_TASK_ID), SWARM_TASK.STATUS.in(inlined(RUN_ENDED))))));

  private final DSLContext dsl;

  /** A store over this database. */
  public RetentionStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * Where one pass of retirement stands: the cutoff, fixed for the pass, and the last job id looked
   * at (null before the first batch).
   *
   * @param cutoff jobs that finished before this are retired
   * @param after the batch starts after this job id, or at the first when null
   */
  public record Pass(OffsetDateTime cutoff, @Nullable UUID after) {}

  /** A new pass retiring jobs that finished more than {@code retention} ago by the database's clock. */
  public Pass start(Duration retention) {
    OffsetDateTime now = dsl.select(currentOffsetDateTime()).fetchSingle().value1();
    return new Pass(now.minus(retention), null);
  }

  /**
   * Retires up to {@code limit} jobs of {@code pass} in one transaction.
   *
   * @return how many were deleted, and where the next batch starts (null when this pass is done)
   */
  public Batch retire(Pass pass, int limit) {
    // Job ids are UUIDv7, ordered by creation: a job that finished before the cutoff was created
    // before it, so the primary key alone bounds the scan, and the hot path pays for no index on
    // finished_at. Rows kept (unfinished, still needed) are stepped over once per pass.
    UUID below = JobIds.floor(pass.cutoff().toInstant().toEpochMilli());
    Condition where = JOB.JOB_ID.lt(below)
        .and(JOB.STATE.in(inlined(ENDED)))
        .and(JOB.FINISHED_AT.lt(pass.cutoff()))
        .and(UNNEEDED);
    if (pass.after() != null) {
      where = JOB.JOB_ID.gt(pass.after()).and(where);
    }
    Condition chosen = where;
    return Database.transaction(dsl, tx -> {
      List<UUID> gone = tx.deleteFrom(JOB)
          .where(JOB.JOB_ID.in(select(JOB.JOB_ID).from(JOB).where(chosen).orderBy(JOB.JOB_ID).limit(limit)
              .forUpdate().of(JOB).skipLocked()))
          .returningResult(JOB.JOB_ID)
          .fetch(r -> r.value1());
      if (!gone.isEmpty()) {
        tx.deleteFrom(MINER_JOB).where(MINER_JOB.JOB_ID.in(gone)).execute();
      }
      UUID last = gone.stream().max(JobIds::compare).orElse(null);
      return new Batch(gone.size(), gone.size() < limit ? null : new Pass(pass.cutoff(), last));
    });
  }

  /**
   * One batch's work.
   *
   * @param retired the jobs deleted
   * @param next the rest of the pass, or null when it is done
   */
  public record Batch(int retired, @Nullable Pass next) {}

  /** Inlined, so that the planner sees the values (as the claim's states are). */
  private static <T> List<Field<T>> inlined(List<T> values) {
    return values.stream().<Field<T>>map(v -> inline(v)).toList();
  }
}
