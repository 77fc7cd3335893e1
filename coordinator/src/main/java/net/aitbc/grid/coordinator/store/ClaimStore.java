package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static org.jooq.impl.DSL.any;
import static org.jooq.impl.DSL.array;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.lateral;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.unnest;
import static org.jooq.impl.DSL.val;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Record1;
import org.jooq.Select;
import org.jooq.SelectLimitPercentStep;
import org.jooq.SelectSelectStep;
import org.jooq.Table;

/** The claim: queued jobs handed to a worker session, in one statement. */
public final class ClaimStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public ClaimStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * Hands up to {@code limit} runnable queued jobs that a worker offering {@code offer} can run to
   * its session: best priority first, then in fair-share order. Jobs locked by a concurrent claim
   * are skipped. The conditions mirror {@link Requirements#satisfiedBy}; a job pinned to a worker
   * goes to that worker only.
   */
  public List<ClaimedJob> claim(Offer offer, int limit, UUID sessionId, String workerId) {
    OffsetDateTime now = JobStore.now();
    return dsl.update(JOB)
        .set(JOB.STATE, JobState.RUNNING)
        .set(JOB.ATTEMPT, JOB.ATTEMPT.plus(1))
        .set(JOB.SESSION_ID, sessionId)
        .set(JOB.WORKER_ID, workerId)
        .set(JOB.STARTED_AT, now)
        // = ANY(ARRAY(…)): the claimed rows are then found through the primary key; with IN (…) the
        // planner may hash-join against a scan of the whole table.
        .where(JOB.JOB_ID.eq(any(array(candidates(offer, limit, workerId, now)))))
        // returningResult, not returning: the latter copies each row into a JobRecord field by field,
        // looking every field up by name (a third of a claim's time in the coordinator).
        .returningResult(JOB.JOB_ID, JOB.ATTEMPT, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD, JOB.CREATED_AT, JOB.STARTED_AT,
            JOB.EXPIRES_AT, JOB.FAIR_TAG, JOB.TIMEOUT_MS, JOB.PRIORITY)
        .fetch(r -> new ClaimedJob(r.value1(), r.value2(), r.value3(), r.value4(), r.value5().data(), r.value6(),
            r.value7(), r.value8(), r.value9(), Duration.ofMillis(r.value10()), r.value11()));
  }

  /**
   * The queued jobs a claim takes, best first, locked; those locked by another claim are skipped.
   * Every plan walks job_queued_idx in the claim's order and stops at the limit, whatever the
   * statistics say (V19): for an offer of several types, one walk per type, merged. A single walk
   * over several types would have to read and sort every queued job of those types in each claim.
   */
  static Select<Record1<UUID>> candidates(Offer offer, int limit, String workerId, OffsetDateTime now) {
    if (offer.jobTypes().size() <= 1) {
      return best(select(JOB.JOB_ID), offer, JOB.TYPE.in(offer.jobTypes()), limit, workerId, now)
          .forUpdate().skipLocked();
    }
    Table<?> types = unnest(val(offer.jobTypes().toArray(String[]::new))).as("offered", "type");
    // Each type's best `limit` stay locked until the claim commits; the others claim around them.
    Table<?> each = lateral(best(select(JOB.JOB_ID, JOB.PRIORITY, JOB.FAIR_TAG), offer,
        JOB.TYPE.eq(types.field("type", String.class)), limit, workerId, now).forUpdate().skipLocked()).as("best");
    return select(each.field(JOB.JOB_ID))
        .from(types)
        .crossJoin(each)
        .orderBy(each.field(JOB.PRIORITY).desc(), each.field(JOB.FAIR_TAG))
        .limit(limit);
  }

  private static <R extends Record> SelectLimitPercentStep<R> best(SelectSelectStep<R> select, Offer offer,
      Condition type, int limit, String workerId, OffsetDateTime now) {
    String[] models = offer.models().toArray(String[]::new);
    String[] gpus = offer.gpus().toArray(String[]::new);
    return select
        .from(JOB)
        .where(JOB.STATE.eq(inline(JobState.QUEUED)), type,
            JOB.MODEL.isNull().or(JOB.MODEL.in(offer.models())),
            JOB.RUN_AFTER.le(now), JOB.EXPIRES_AT.gt(now),
            JOB.REQ_GPU.isNull().or(JOB.REQ_GPU.eq(any(val(gpus, JOB.REQ_GPU.getDataType().array())))),
            JOB.REQ_CUDA.isNull().or(JOB.REQ_CUDA.le(offer.cuda())),
            JOB.REQ_MIN_VRAM_MB.isNull().or(JOB.REQ_MIN_VRAM_MB.le(offer.maxVramMb())),
            JOB.REQ_MODELS.isNull().or(val(models, JOB.REQ_MODELS.getDataType()).contains(JOB.REQ_MODELS)),
            JOB.REQ_REGION.isNull().or(JOB.REQ_REGION.eq(offer.region())),
            JOB.REQ_MAX_PRICE.isNull().or(JOB.REQ_MAX_PRICE.ge(offer.price())),
            // A worker that let an attempt of the job overrun gets it again only after a while.
            JOB.AVOID_WORKER_ID.isNull().or(JOB.AVOID_WORKER_ID.ne(workerId)).or(JOB.AVOID_UNTIL.le(now)),
            // A swarm task's member job goes to the one worker it is pinned to.
            JOB.PINNED_WORKER_ID.isNull().or(JOB.PINNED_WORKER_ID.eq(workerId)))
        .orderBy(JOB.PRIORITY.desc(), JOB.FAIR_TAG)
        .limit(limit);
  }

  /** The workers that queued jobs are pinned to now (swarm tasks' member jobs). */
  public Set<String> pinnedWorkers() {
    return new HashSet<>(dsl.selectDistinct(JOB.PINNED_WORKER_ID).from(JOB)
        .where(JOB.STATE.eq(inline(JobState.QUEUED)), JOB.PINNED_WORKER_ID.isNotNull())
        .fetch(Record1::value1));
  }
}
