package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.MINER;
import static net.aitbc.grid.db.Tables.MINER_JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static org.jooq.impl.DSL.excluded;
import static org.jooq.impl.DSL.when;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record;
import org.jooq.SelectJoinStep;
import org.jspecify.annotations.Nullable;

/** REST miners' registrations and the jobs handed to them (MinerService). */
public final class MinerStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public MinerStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * A registered miner.
   *
   * @param capabilitiesJson what matching reads (WorkerCapabilities as proto JSON)
   * @param describedJson the capabilities as the miner described them
   */
  public record StoredMiner(String capabilitiesJson, String describedJson) {}

  /**
   * A job handed to a miner.
   *
   * @param ownerId the miner's owner
   * @param minerId the miner
   * @param jobId the job
   * @param attempt the attempt it got
   * @param at when
   */
  public record Assignment(String ownerId, String minerId, UUID jobId, int attempt, OffsetDateTime at) {}

  /**
   * Where a job stands, to say why a miner may not end it.
   *
   * @param state its state
   * @param attempt its current attempt
   * @param sessionId the session that holds or held its current attempt, or null
   */
  public record JobStatus(JobState state, int attempt, @Nullable UUID sessionId) {}

  /** Registers a miner, or replaces a registered one's capabilities (a deregistered one registers anew). */
  public void register(String ownerId, String minerId, String capabilitiesJson, String describedJson) {
    OffsetDateTime now = JobStore.now();
    dsl.insertInto(MINER)
        .set(MINER.OWNER_ID, ownerId)
        .set(MINER.MINER_ID, minerId)
        .set(MINER.CAPABILITIES, JSONB.valueOf(capabilitiesJson))
        .set(MINER.DESCRIBED, JSONB.valueOf(describedJson))
        .set(MINER.REGISTERED_AT, now)
        .set(MINER.UPDATED_AT, now)
        .onConflict(MINER.OWNER_ID, MINER.MINER_ID)
        .doUpdate()
        .set(MINER.CAPABILITIES, JSONB.valueOf(capabilitiesJson))
        .set(MINER.DESCRIBED, JSONB.valueOf(describedJson))
        .set(MINER.REGISTERED_AT, when(MINER.DEREGISTERED_AT.isNotNull(), now).otherwise(MINER.REGISTERED_AT))
        .set(MINER.UPDATED_AT, now)
        .setNull(MINER.DEREGISTERED_AT)
        .execute();
  }

  /** A miner of this owner that is registered now. */
  public Optional<StoredMiner> find(String ownerId, String minerId) {
    return dsl.select(MINER.CAPABILITIES, MINER.DESCRIBED)
        .from(MINER)
        .where(MINER.OWNER_ID.eq(ownerId), MINER.MINER_ID.eq(minerId), MINER.DEREGISTERED_AT.isNull())
        .fetchOptional(r -> new StoredMiner(r.value1().data(), r.value2().data()));
  }

  /** Marks a registered miner deregistered; false when it was not registered. */
  public boolean deregister(String ownerId, String minerId) {
    return dsl.update(MINER)
        .set(MINER.DEREGISTERED_AT, JobStore.now())
        .where(MINER.OWNER_ID.eq(ownerId), MINER.MINER_ID.eq(minerId), MINER.DEREGISTERED_AT.isNull())
        .execute() == 1;
  }

  /** Records jobs handed to miners, in one statement; a job handed to the same miner again keeps one row. */
  public List<Assignment> assigned(List<Assignment> assignments) {
    if (assignments.isEmpty()) {
      return assignments;
    }
    var insert = dsl.insertInto(MINER_JOB, MINER_JOB.OWNER_ID, MINER_JOB.MINER_ID, MINER_JOB.JOB_ID,
        MINER_JOB.ATTEMPT, MINER_JOB.ASSIGNED_AT);
    for (Assignment a : assignments) {
      insert = insert.values(a.ownerId(), a.minerId(), a.jobId(), a.attempt(), a.at());
    }
    insert.onConflict(MINER_JOB.OWNER_ID, MINER_JOB.MINER_ID, MINER_JOB.JOB_ID)
        .doUpdate()
        .set(MINER_JOB.ATTEMPT, excluded(MINER_JOB.ATTEMPT))
        .set(MINER_JOB.ASSIGNED_AT, excluded(MINER_JOB.ASSIGNED_AT))
        .execute();
    return assignments;
  }

  /**
   * A page of the jobs handed to a miner, most recently handed first, without payloads and results.
   *
   * @param states only these states; empty for all
   * @param type only this type, or null
   * @param minReward only paid jobs whose payment is at least this, or null
   */
  public List<StoredJob> jobs(String ownerId, String minerId, Collection<JobState> states, @Nullable String type,
      @Nullable BigDecimal minReward, int offset, int limit) {
    Condition where = MINER_JOB.OWNER_ID.eq(ownerId).and(MINER_JOB.MINER_ID.eq(minerId));
    if (!states.isEmpty()) {
      where = where.and(JOB.STATE.in(states));
    }
    if (type != null) {
      where = where.and(JOB.TYPE.eq(type));
    }
    SelectJoinStep<Record> from = dsl.select(JOB.fields()).from(MINER_JOB).join(JOB).on(JOB.JOB_ID.eq(MINER_JOB.JOB_ID));
    if (minReward != null) {
      from = from.join(PAYMENT).on(PAYMENT.PAYMENT_ID.eq(JOB.PAYMENT_ID));
      where = where.and(PAYMENT.AMOUNT.ge(minReward));
    }
    return from.where(where)
        .orderBy(MINER_JOB.ASSIGNED_AT.desc(), MINER_JOB.JOB_ID.desc())
        .offset(offset)
        .limit(limit)
        .fetch(r -> JobMapper.toJob(r.into(JOB), false));
  }

  /** Where a job stands, if it exists. */
  public Optional<JobStatus> status(UUID jobId) {
    return dsl.select(JOB.STATE, JOB.ATTEMPT, JOB.SESSION_ID).from(JOB).where(JOB.JOB_ID.eq(jobId))
        .fetchOptional(r -> new JobStatus(r.value1(), r.value2(), r.value3()));
  }

  /** A job's requirements (what its assignment shows the miner), if it exists. */
  public Optional<Requirements> requirements(UUID jobId) {
    return dsl.select(JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_MODELS, JOB.REQ_REGION,
            JOB.REQ_MAX_PRICE)
        .from(JOB).where(JOB.JOB_ID.eq(jobId))
        .fetchOptional(JobMapper::requirements);
  }
}
