package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.JOB_ATTEMPT;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.jooq.impl.DSL.any;
import static org.jooq.impl.DSL.array;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.exists;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.position;
import static org.jooq.impl.DSL.row;
import static org.jooq.impl.DSL.function;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.selectOne;
import static org.jooq.impl.DSL.val;

import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.IntFunction;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.v1.Job;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.DataType;
import org.jooq.Field;
import org.jooq.JSONB;
import org.jooq.Name;
import org.jooq.Query;
import org.jooq.Record1;
import org.jooq.Record6;
import org.jooq.Result;
import org.jooq.Table;
import org.jooq.Row2;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;

/**
 * Jobs in PostgreSQL. Every state change is one conditional UPDATE, so that two writers can never
 * both move a job: an outcome is recorded only for the attempt and session that hold the job.
 */
public final class JobStore {
  private static final List<JobState> UNFINISHED = List.of(JobState.QUEUED, JobState.RUNNING);
  private static final BiFunction<String, Integer, String> LOST =
      (worker, attempt) -> "worker " + worker + " was lost while running attempt " + attempt;

  private final DSLContext dsl;
  private final Map<Field<?>, DataType<?>> arrayTypes = new ConcurrentHashMap<>();

  /** A store over this database. */
  public JobStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * Inserts jobs atomically and returns them in the same order. A job whose client and request id
   * match an existing job is not inserted: the existing job is returned instead.
   */
  public List<Submitted> insert(List<NewJob> jobs) {
    OffsetDateTime now = now();
    List<NewJob> listed = new ArrayList<>();
    List<NewJob> queued = new ArrayList<>(jobs.size());
    List<NewJob> placed = new ArrayList<>();
    for (NewJob j : jobs) {
      (!j.requirements().models().isEmpty() ? listed : j.placement() != null ? placed : queued).add(j);
    }
    Set<UUID> inserted = new HashSet<>(jobs.size() * 2);
    if (listed.isEmpty() && (queued.isEmpty() || placed.isEmpty())) {
      // The usual batch is one statement: run it on its own (autocommit), one round trip in all.
      inserted.addAll(insertArrays(dsl, queued.isEmpty() ? placed : queued, now,
          queued.isEmpty() ? JobState.RUNNING : JobState.QUEUED));
    } else {
      inTransaction(tx -> {
        if (!queued.isEmpty()) {
          inserted.addAll(insertArrays(tx, queued, now, JobState.QUEUED));
        }
        if (!placed.isEmpty()) {
          inserted.addAll(insertArrays(tx, placed, now, JobState.RUNNING));
        }
        if (!listed.isEmpty()) {
          inserted.addAll(insertRows(tx, listed, now));
        }
        return null;
      });
    }
    // A conflicting job is committed by now: INSERT … ON CONFLICT waited for it.
    Map<String, JobRecord> existing = inserted.size() == jobs.size() ? Map.of() : existing(dsl, jobs, inserted);
    List<Submitted> out = new ArrayList<>(jobs.size());
    for (NewJob j : jobs) {
      if (inserted.contains(j.jobId())) {
        ClaimedJob first = j.placement() == null || !j.requirements().models().isEmpty() ? null
            : new ClaimedJob(j.jobId(), 1, j.type(), j.model(), j.payloadJson(), now, now, now.plus(j.ttl()),
                j.fairTag());
        out.add(new Submitted(JobMapper.toProto(j, now, first != null), false, first));
      } else {
        out.add(new Submitted(JobMapper.toProto(existing.get(idempotencyKey(j.clientId(), j.requestId())), true),
            true, null));
      }
    }
    return out;
  }

  /**
   * One INSERT of the whole batch as column arrays: a single statement shape whatever the batch
   * size, so PostgreSQL plans it once. A model list cannot travel this way (arrays of arrays
   * flatten), so jobs with one go through {@link #insertRows}.
   */
  private List<UUID> insertArrays(DSLContext tx, List<NewJob> jobs, OffsetDateTime now, JobState state) {
    int n = jobs.size();
    boolean running = state == JobState.RUNNING;
    UUID[] ids = new UUID[n];
    String[] clients = new String[n];
    String[] requests = new String[n];
    String[] types = new String[n];
    String[] models = new String[n];
    JSONB[] payloads = new JSONB[n];
    String[] gpus = new String[n];
    Integer[] cudas = new Integer[n];
    Integer[] vrams = new Integer[n];
    String[] regions = new String[n];
    Double[] prices = new Double[n];
    Short[] priorities = new Short[n];
    Double[] tags = new Double[n];
    Integer[] maxAttempts = new Integer[n];
    Integer[] timeouts = new Integer[n];
    OffsetDateTime[] expires = new OffsetDateTime[n];
    UUID[] sessions = new UUID[n];
    String[] workers = new String[n];
    for (int i = 0; i < n; i++) {
      NewJob j = jobs.get(i);
      Requirements r = j.requirements();
      ids[i] = j.jobId();
      clients[i] = j.clientId();
      requests[i] = j.requestId();
      types[i] = j.type();
      models[i] = j.model();
      payloads[i] = JSONB.valueOf(j.payloadJson());
      gpus[i] = r.gpu();
      cudas[i] = r.cuda();
      vrams[i] = r.minVramMb();
      regions[i] = r.region();
      prices[i] = r.maxPrice();
      priorities[i] = (short) j.priority();
      tags[i] = j.fairTag();
      maxAttempts[i] = j.maxAttempts();
      timeouts[i] = (int) j.timeout().toMillis();
      expires[i] = now.plus(j.ttl());
      if (running) {
        sessions[i] = j.placement().sessionId();
        workers[i] = j.placement().workerId();
      }
    }
    // SELECT unnest(a), unnest(b), …: PostgreSQL walks the arrays in step, one row per index.
    return tx.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.REQUEST_ID, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD,
            JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_REGION, JOB.REQ_MAX_PRICE, JOB.PRIORITY,
            JOB.FAIR_TAG, JOB.MAX_ATTEMPTS, JOB.TIMEOUT_MS, JOB.EXPIRES_AT, JOB.SESSION_ID, JOB.WORKER_ID, JOB.STATE,
            JOB.ATTEMPT, JOB.STARTED_AT, JOB.CREATED_AT, JOB.RUN_AFTER)
        .select(select(each(ids, JOB.JOB_ID), each(clients, JOB.CLIENT_ID), each(requests, JOB.REQUEST_ID),
            each(types, JOB.TYPE), each(models, JOB.MODEL), each(payloads, JOB.PAYLOAD), each(gpus, JOB.REQ_GPU),
            each(cudas, JOB.REQ_CUDA), each(vrams, JOB.REQ_MIN_VRAM_MB), each(regions, JOB.REQ_REGION),
            each(prices, JOB.REQ_MAX_PRICE), each(priorities, JOB.PRIORITY), each(tags, JOB.FAIR_TAG),
            each(maxAttempts, JOB.MAX_ATTEMPTS), each(timeouts, JOB.TIMEOUT_MS), each(expires, JOB.EXPIRES_AT), each(sessions, JOB.SESSION_ID),
            each(workers, JOB.WORKER_ID), val(state), val(running ? 1 : 0), val(running ? now : null, JOB.STARTED_AT),
            val(now), val(now)))
        .onConflict(JOB.CLIENT_ID, JOB.REQUEST_ID).where(JOB.REQUEST_ID.isNotNull())
        .doNothing()
        .returningResult(JOB.JOB_ID)
        .fetch(Record1::value1);
  }

  /** {@code unnest(values)} as a column of {@code like}'s type: one row per element. */
  private <T> Field<T> each(T[] values, Field<T> like) {
    return function(UNNEST, like.getDataType(), val(values, arrayType(like)));
  }

  @SuppressWarnings("unchecked")
  private <T> DataType<T[]> arrayType(Field<T> of) {
    // Array types are built once: making them is a visible share of a batch's cost.
    return (DataType<T[]>) arrayTypes.computeIfAbsent(of, f -> f.getDataType().array());
  }

  private static final Name UNNEST = name("unnest");

  private static List<UUID> insertRows(DSLContext tx, List<NewJob> jobs, OffsetDateTime now) {
    var insert = tx.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.REQUEST_ID, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD,
        JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_MODELS, JOB.REQ_REGION, JOB.REQ_MAX_PRICE,
        JOB.PRIORITY, JOB.FAIR_TAG, JOB.STATE, JOB.MAX_ATTEMPTS, JOB.TIMEOUT_MS, JOB.CREATED_AT, JOB.RUN_AFTER,
        JOB.EXPIRES_AT);
    for (NewJob j : jobs) {
      Requirements r = j.requirements();
      insert = insert.values(j.jobId(), j.clientId(), j.requestId(), j.type(), j.model(),
          JSONB.valueOf(j.payloadJson()), r.gpu(), r.cuda(), r.minVramMb(), r.models().toArray(String[]::new),
          r.region(), r.maxPrice(), (short) j.priority(), j.fairTag(), JobState.QUEUED, j.maxAttempts(),
          (int) j.timeout().toMillis(), now, now, now.plus(j.ttl()));
    }
    return insert.onConflict(JOB.CLIENT_ID, JOB.REQUEST_ID).where(JOB.REQUEST_ID.isNotNull()).doNothing().returning(JOB.JOB_ID).fetch(JOB.JOB_ID);
  }

  private static Map<String, JobRecord> existing(DSLContext tx, List<NewJob> jobs, Set<UUID> inserted) {
    List<Row2<String, String>> keys = new ArrayList<>();
    for (NewJob j : jobs) {
      if (!inserted.contains(j.jobId())) {
        keys.add(row(j.clientId(), requireNonNull(j.requestId(), "only a request id can conflict")));
      }
    }
    Map<String, JobRecord> out = new HashMap<>();
    for (JobRecord r : tx.selectFrom(JOB).where(row(JOB.CLIENT_ID, JOB.REQUEST_ID).in(keys)).fetch()) {
      out.put(idempotencyKey(r.getClientId(), r.getRequestId()), r);
    }
    return out;
  }

  private static String idempotencyKey(String clientId, @Nullable String requestId) {
    return clientId + '\u0000' + requestId;
  }

  /** A client's job, with its payload and metrics. */
  public Optional<Job> find(UUID jobId, String clientId) {
    return dsl.selectFrom(JOB)
        .where(JOB.JOB_ID.eq(jobId).and(JOB.CLIENT_ID.eq(clientId)))
        .fetchOptional(r -> JobMapper.toProto(r, true));
  }

  /** A client's job as {@link #find} reads it, plus the attempts that did not complete it. */
  public Optional<Job> findWithAttempts(UUID jobId, String clientId) {
    return find(jobId, clientId).map(job -> job.getAttempt() <= 1 && job.getState() != net.aitbc.grid.v1.JobState.JOB_STATE_FAILED
        ? job
        : job.toBuilder()
            .addAllAttempts(dsl.selectFrom(JOB_ATTEMPT)
                .where(JOB_ATTEMPT.JOB_ID.eq(jobId))
                .orderBy(JOB_ATTEMPT.ATTEMPT)
                .fetch(JobMapper::toProto))
            .build());
  }

  /** A client's job with its result. */
  public Optional<StoredResult> findResult(UUID jobId, String clientId) {
    return dsl.selectFrom(JOB)
        .where(JOB.JOB_ID.eq(jobId).and(JOB.CLIENT_ID.eq(clientId)))
        .fetchOptional(r -> new StoredResult(JobMapper.toProto(r, true), JobMapper.text(r.getResult())));
  }

  /**
   * A page of a client's jobs, newest first, without payloads.
   *
   * @param states only these states; empty for all
   * @param type only this type, or null for all
   * @param from only jobs created at or after this time, or null
   * @param to only jobs created before this time, or null
   * @param withResults whether each job carries its result
   */
  public List<Job> list(String clientId, Collection<JobState> states, @Nullable String type,
      @Nullable OffsetDateTime from, @Nullable OffsetDateTime to, long offset, int limit, boolean withResults) {
    Condition where = JOB.CLIENT_ID.eq(clientId);
    if (!states.isEmpty()) {
      where = where.and(JOB.STATE.in(states));
    }
    if (type != null) {
      where = where.and(JOB.TYPE.eq(type));
    }
    if (from != null) {
      where = where.and(JOB.CREATED_AT.ge(from));
    }
    if (to != null) {
      where = where.and(JOB.CREATED_AT.lt(to));
    }
    return dsl.selectFrom(JOB)
        .where(where)
        .orderBy(JOB.CREATED_AT.desc(), JOB.JOB_ID.desc())
        .offset(offset)
        .limit(limit)
        .fetch(r -> withResults && r.getResult() != null
            ? JobMapper.toProto(r, false).toBuilder().setResultJson(JobMapper.text(r.getResult())).build()
            : JobMapper.toProto(r, false));
  }

  /**
   * Cancels a client's queued or running job. Empty when the job does not exist or has already
   * ended; {@link Ended#sessionId()} names the session to revoke it from when it was running.
   */
  public Optional<Ended> cancel(UUID jobId, String clientId, String reason) {
    return dsl.update(JOB)
        .set(JOB.STATE, JobState.CANCELED)
        .set(JOB.ERROR, reason)
        .set(JOB.FINISHED_AT, now())
        .where(JOB.JOB_ID.eq(jobId), JOB.CLIENT_ID.eq(clientId), JOB.STATE.in(UNFINISHED))
        .returning(JOB.ATTEMPT, JOB.SESSION_ID)
        .fetchOptional(r -> new Ended(jobId, r.getAttempt(), JobState.CANCELED, r.getSessionId()));
  }

  /**
   * Hands up to {@code limit} runnable queued jobs that a worker offering {@code offer} can run to
   * its session: best priority first, then in fair-share order. Jobs locked by a concurrent claim
   * are skipped. The conditions mirror {@link Requirements#satisfiedBy}.
   */
  public List<ClaimedJob> claim(Offer offer, int limit, UUID sessionId, String workerId) {
    OffsetDateTime now = now();
    String[] models = offer.models().toArray(String[]::new);
    var candidates = select(JOB.JOB_ID)
        .from(JOB)
        .where(JOB.STATE.eq(inline(JobState.QUEUED)), JOB.TYPE.in(offer.jobTypes()),
            JOB.MODEL.isNull().or(JOB.MODEL.in(offer.models())),
            JOB.RUN_AFTER.le(now), JOB.EXPIRES_AT.gt(now),
            JOB.REQ_GPU.isNull().or(position(val(offer.gpuNames()), JOB.REQ_GPU).gt(0)),
            JOB.REQ_CUDA.isNull().or(JOB.REQ_CUDA.le(offer.cuda())),
            JOB.REQ_MIN_VRAM_MB.isNull().or(JOB.REQ_MIN_VRAM_MB.le(offer.maxVramMb())),
            JOB.REQ_MODELS.isNull().or(val(models, JOB.REQ_MODELS.getDataType()).contains(JOB.REQ_MODELS)),
            JOB.REQ_REGION.isNull().or(JOB.REQ_REGION.eq(offer.region())),
            JOB.REQ_MAX_PRICE.isNull().or(JOB.REQ_MAX_PRICE.ge(offer.price())))
        .orderBy(JOB.PRIORITY.desc(), JOB.FAIR_TAG)
        .limit(limit)
        .forUpdate()
        .skipLocked();
    return dsl.update(JOB)
        .set(JOB.STATE, JobState.RUNNING)
        .set(JOB.ATTEMPT, JOB.ATTEMPT.plus(1))
        .set(JOB.SESSION_ID, sessionId)
        .set(JOB.WORKER_ID, workerId)
        .set(JOB.STARTED_AT, now)
        // = ANY(ARRAY(…)): the claimed rows are then found through the primary key; with IN (…) the
        // planner may hash-join against a scan of the whole table.
        .where(JOB.JOB_ID.eq(any(array(candidates))))
        // returningResult, not returning: the latter copies each row into a JobRecord field by field,
        // looking every field up by name (a third of a claim's time in the coordinator).
        .returningResult(JOB.JOB_ID, JOB.ATTEMPT, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD, JOB.CREATED_AT, JOB.STARTED_AT,
            JOB.EXPIRES_AT, JOB.FAIR_TAG)
        .fetch(r -> new ClaimedJob(r.value1(), r.value2(), r.value3(), r.value4(), r.value5().data(), r.value6(),
            r.value7(), r.value8(), r.value9()));
  }

  /** The latest fair-share tag among a client's queued jobs, if it has any. */
  public Optional<Double> lastQueuedTag(String clientId) {
    return Optional.ofNullable(dsl.select(max(JOB.FAIR_TAG)).from(JOB)
        .where(JOB.CLIENT_ID.eq(clientId).and(JOB.STATE.eq(inline(JobState.QUEUED))))
        .fetchOne(Record1::value1));
  }

  /** The earliest fair-share tag among all queued jobs, if any are queued. */
  public Optional<Double> firstQueuedTag() {
    return Optional.ofNullable(dsl.select(min(JOB.FAIR_TAG)).from(JOB).where(JOB.STATE.eq(inline(JobState.QUEUED)))
        .fetchOne(Record1::value1));
  }

  /**
   * Records outcomes in one transaction. Each is accepted only if its attempt is the job's current
   * one, held by the reporting session, and still running. A retryable failure with attempts left
   * puts the job back in the queue after {@code backoff.apply(attempt)}.
   */
  public List<Recorded> record(List<Outcome> outcomes, IntFunction<Duration> backoff) {
    OffsetDateTime now = now();
    List<Outcome.Completed> completions = new ArrayList<>(outcomes.size());
    for (Outcome o : outcomes) {
      if (o instanceof Outcome.Completed c) {
        completions.add(c);
      }
    }
    if (completions.size() == outcomes.size()) {
      // Completions only: their one UPDATE runs on its own (autocommit), one round trip in all.
      Set<UUID> completed = completeAll(dsl, completions, now);
      return answer(dsl, outcomes, completed, now, backoff);
    }
    return inTransaction(tx -> answer(tx, outcomes,
        completions.isEmpty() ? Set.of() : completeAll(tx, completions, now), now, backoff));
  }

  private List<Recorded> answer(DSLContext tx, List<Outcome> outcomes, Set<UUID> completed, OffsetDateTime now,
      IntFunction<Duration> backoff) {
    Set<UUID> answered = new HashSet<>();
    List<Recorded> out = new ArrayList<>(outcomes.size());
    for (Outcome o : outcomes) {
      Recorded recorded = null;
      // A second report of the same job in one batch finds it already recorded.
      if (answered.add(o.jobId())) {
        recorded = switch (o) {
          case Outcome.Completed c -> completed.contains(c.jobId()) ? new Recorded(true, JobState.COMPLETED, "") : null;
          case Outcome.Failed f -> fail(tx, f, JOB.JOB_ID.eq(f.jobId())
              .and(JOB.ATTEMPT.eq(f.attempt()))
              .and(JOB.SESSION_ID.eq(f.sessionId()))
              .and(JOB.STATE.eq(inline(JobState.RUNNING))), now, backoff);
        };
      }
      out.add(recorded != null ? recorded : refusal(tx, o));
    }
    return out;
  }

  /**
   * Completes every job of the batch whose attempt its session still holds, in one UPDATE joined to
   * the batch's rows: one primary-key lookup per row.
   */
  private Set<UUID> completeAll(DSLContext tx, List<Outcome.Completed> completions, OffsetDateTime now) {
    int n = completions.size();
    UUID[] ids = new UUID[n];
    Integer[] attempts = new Integer[n];
    UUID[] sessions = new UUID[n];
    JSONB[] results = new JSONB[n];
    JSONB[] metrics = new JSONB[n];
    for (int i = 0; i < n; i++) {
      Outcome.Completed c = completions.get(i);
      ids[i] = c.jobId();
      attempts[i] = c.attempt();
      sessions[i] = c.sessionId();
      results[i] = JSONB.valueOf(c.resultJson());
      metrics[i] = JSONB.valueOf(c.metricsJson());
    }
    Table<?> batch = select(each(ids, JOB.JOB_ID).as(JOB.JOB_ID), each(attempts, JOB.ATTEMPT).as(JOB.ATTEMPT),
        each(sessions, JOB.SESSION_ID).as(JOB.SESSION_ID), each(results, JOB.RESULT).as(JOB.RESULT),
        each(metrics, JOB.METRICS).as(JOB.METRICS)).asTable("outcome");
    return new HashSet<>(tx.update(JOB)
        .set(JOB.STATE, inline(JobState.COMPLETED))
        .set(JOB.RESULT, batch.field(JOB.RESULT))
        .set(JOB.METRICS, batch.field(JOB.METRICS))
        .set(JOB.FINISHED_AT, now)
        .set(JOB.ERROR, inline((String) null))
        .from(batch)
        .where(JOB.JOB_ID.eq(batch.field(JOB.JOB_ID)), JOB.ATTEMPT.eq(batch.field(JOB.ATTEMPT)),
            JOB.SESSION_ID.eq(batch.field(JOB.SESSION_ID)),
            // Compared as text so that no plan can use the partial index of running jobs instead of
            // the primary key: that index keeps the entries of every job that ever ran until a
            // VACUUM, and a hash join over it was 6x slower than the lookups at 200,000 jobs.
            JOB.STATE.cast(SQLDataType.VARCHAR).eq(inline(JobState.RUNNING.getLiteral())))
        .returningResult(JOB.JOB_ID)
        .fetch(Record1::value1));
  }

  private static @Nullable Recorded fail(DSLContext tx, Outcome.Failed f, Condition current, OffsetDateTime now,
      IntFunction<Duration> backoff) {
    var row = tx.select(JOB.MAX_ATTEMPTS, JOB.STARTED_AT).from(JOB).where(current).forUpdate().fetchOne();
    if (row == null) {
      return null;
    }
    tx.insertInto(JOB_ATTEMPT)
        .set(JOB_ATTEMPT.JOB_ID, f.jobId())
        .set(JOB_ATTEMPT.ATTEMPT, f.attempt())
        .set(JOB_ATTEMPT.WORKER_ID, f.workerId())
        .set(JOB_ATTEMPT.SESSION_ID, f.sessionId())
        .set(JOB_ATTEMPT.STARTED_AT, row.value2())
        .set(JOB_ATTEMPT.ENDED_AT, now)
        .set(JOB_ATTEMPT.ERROR, f.error())
        .onConflictDoNothing()
        .execute();
    boolean retry = f.retryable() && f.attempt() < row.value1();
    if (retry) {
      tx.update(JOB)
          .set(JOB.STATE, JobState.QUEUED)
          .set(JOB.ERROR, f.error())
          .setNull(JOB.SESSION_ID)
          .set(JOB.RUN_AFTER, now.plus(backoff.apply(f.attempt())))
          .where(JOB.JOB_ID.eq(f.jobId()))
          .execute();
      return new Recorded(true, JobState.QUEUED, "");
    }
    String error = f.retryable()
        ? f.error() + " (gave up after " + f.attempt() + " attempts)"
        : f.error();
    tx.update(JOB)
        .set(JOB.STATE, JobState.FAILED)
        .set(JOB.ERROR, error)
        .set(JOB.FINISHED_AT, now)
        .where(JOB.JOB_ID.eq(f.jobId()))
        .execute();
    return new Recorded(true, JobState.FAILED, "");
  }

  private static Recorded refusal(DSLContext tx, Outcome o) {
    var row = tx.select(JOB.STATE, JOB.ATTEMPT, JOB.SESSION_ID).from(JOB).where(JOB.JOB_ID.eq(o.jobId())).fetchOne();
    if (row == null) {
      return new Recorded(false, null, "no such job");
    }
    if (o instanceof Outcome.Completed && row.value1() == JobState.COMPLETED && row.value2() == o.attempt()
        && o.sessionId().equals(row.value3())) {
      // This very completion, already recorded: a repeated report gets the answer the first one got.
      return new Recorded(true, JobState.COMPLETED, "");
    }
    String reason;
    if (row.value2() != o.attempt()) {
      reason = "attempt " + o.attempt() + " is stale: the job is on attempt " + row.value2();
    } else if (row.value1() != JobState.RUNNING) {
      reason = "the job is " + row.value1() + ", no longer running";
    } else {
      reason = "attempt " + o.attempt() + " is held by another session";
    }
    return new Recorded(false, row.value1(), reason);
  }

  /**
   * Takes running jobs away from sessions whose lease ran out, recording the lost attempts. Jobs
   * with attempts left are queued again after {@code backoff.apply(attempt)}; the others fail.
   */
  public List<Ended> requeueLost(IntFunction<Duration> backoff, int limit) {
    // Driven from the few running jobs, each looking up its session: the session table keeps growing.
    Condition lost = exists(selectOne().from(WORKER_SESSION)
        .where(WORKER_SESSION.SESSION_ID.eq(JOB.SESSION_ID), WORKER_SESSION.LEASE_EXPIRES_AT.lt(now())));
    return takeBack(lost, backoff, limit, LOST);
  }

  /** Takes all running jobs away from these sessions, which are gone, as {@link #requeueLost} does. */
  public List<Ended> requeueFrom(Collection<UUID> sessionIds, IntFunction<Duration> backoff) {
    if (sessionIds.isEmpty()) {
      return List.of();
    }
    return takeBack(JOB.SESSION_ID.in(sessionIds), backoff, Integer.MAX_VALUE, LOST);
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

  /**
   * Takes back attempts that their session does not know it runs (an assignment lost between the
   * claim's commit and the worker), exactly as if their worker had been lost.
   */
  public List<Ended> requeueOrphans(List<AttemptRef> orphans, IntFunction<Duration> backoff) {
    if (orphans.isEmpty()) {
      return List.of();
    }
    Condition any = DSL.or(orphans.stream()
        .map(o -> JOB.JOB_ID.eq(o.jobId()).and(JOB.ATTEMPT.eq(o.attempt())).and(JOB.SESSION_ID.eq(o.sessionId())))
        .toList());
    return takeBack(any, backoff, orphans.size(), (worker, attempt) -> "attempt " + attempt
        + " never reached worker " + worker);
  }

  private List<Ended> takeBack(Condition which, IntFunction<Duration> backoff, int limit,
      BiFunction<String, Integer, String> why) {
    OffsetDateTime now = now();
    return inTransaction(tx -> {
      Result<Record6<UUID, Integer, Integer, String, UUID, OffsetDateTime>> rows = tx
          .select(JOB.JOB_ID, JOB.ATTEMPT, JOB.MAX_ATTEMPTS, JOB.WORKER_ID, JOB.SESSION_ID, JOB.STARTED_AT)
          .from(JOB)
          .where(JOB.STATE.eq(inline(JobState.RUNNING)).and(which))
          .limit(limit)
          .forUpdate()
          .skipLocked()
          .fetch();
      if (rows.isEmpty()) {
        return List.of();
      }
      var attempts = tx.insertInto(JOB_ATTEMPT, JOB_ATTEMPT.JOB_ID, JOB_ATTEMPT.ATTEMPT, JOB_ATTEMPT.WORKER_ID,
          JOB_ATTEMPT.SESSION_ID, JOB_ATTEMPT.STARTED_AT, JOB_ATTEMPT.ENDED_AT, JOB_ATTEMPT.ERROR);
      List<Query> updates = new ArrayList<>(rows.size());
      List<Ended> out = new ArrayList<>(rows.size());
      for (var r : rows) {
        UUID jobId = r.value1();
        int attempt = r.value2();
        String error = why.apply(r.value4(), attempt);
        attempts = attempts.values(jobId, attempt, r.value4(), r.value5(), r.value6(), now, error);
        if (attempt < r.value3()) {
          updates.add(tx.update(JOB)
              .set(JOB.STATE, JobState.QUEUED)
              .set(JOB.ERROR, error)
              .setNull(JOB.SESSION_ID)
              .set(JOB.RUN_AFTER, now.plus(backoff.apply(attempt)))
              .where(JOB.JOB_ID.eq(jobId)));
          out.add(new Ended(jobId, attempt, JobState.QUEUED, r.value5()));
        } else {
          updates.add(tx.update(JOB)
              .set(JOB.STATE, JobState.FAILED)
              .set(JOB.ERROR, error + " (gave up after " + attempt + " attempts)")
              .set(JOB.FINISHED_AT, now)
              .where(JOB.JOB_ID.eq(jobId)));
          out.add(new Ended(jobId, attempt, JobState.FAILED, r.value5()));
        }
      }
      attempts.onConflictDoNothing().execute();
      tx.batch(updates).execute();
      return out;
    });
  }

  /** Expires up to {@code limit} queued and {@code limit} running jobs whose TTL has run out. */
  public List<Ended> expireDue(int limit) {
    OffsetDateTime now = now();
    List<Ended> ended = new ArrayList<>(expire(JOB.STATE.eq(inline(JobState.QUEUED)).and(JOB.EXPIRES_AT.le(now)), limit));
    ended.addAll(expire(JOB.STATE.eq(inline(JobState.RUNNING)).and(JOB.EXPIRES_AT.le(now)), limit));
    return ended;
  }

  /** Expires one job if its TTL has run out and it has not finished. */
  public Optional<Ended> expireIfDue(UUID jobId) {
    return expire(JOB.JOB_ID.eq(jobId).and(JOB.STATE.in(UNFINISHED)).and(JOB.EXPIRES_AT.le(now())), 1).stream()
        .findFirst();
  }

  private List<Ended> expire(Condition due, int limit) {
    var ids = select(JOB.JOB_ID).from(JOB).where(due).limit(limit).forUpdate().skipLocked();
    return dsl.update(JOB)
        .set(JOB.STATE, JobState.EXPIRED)
        .set(JOB.ERROR, "job expired")
        .set(JOB.FINISHED_AT, now())
        .where(JOB.JOB_ID.eq(any(array(ids))))
        .returning(JOB.JOB_ID, JOB.ATTEMPT, JOB.SESSION_ID)
        .fetch(r -> new Ended(r.getJobId(), r.getAttempt(), JobState.EXPIRED, r.getSessionId()));
  }

  /** Queued jobs per client. */
  public Map<String, Integer> queuedByClient() {
    return dsl.select(JOB.CLIENT_ID, count())
        .from(JOB)
        .where(JOB.STATE.eq(inline(JobState.QUEUED)))
        .groupBy(JOB.CLIENT_ID)
        .fetchMap(JOB.CLIENT_ID, count());
  }

  /**
   * Runs {@code work} in a transaction on one connection taken up front: when the database is
   * down, that fails once, quickly, instead of again for the rollback.
   */
  private <T> T inTransaction(Function<DSLContext, T> work) {
    // Not jOOQ's transactionResult: it first asks the driver for the isolation level, which costs
    // a round trip to PostgreSQL per transaction.
    return dsl.connectionResult(c -> {
      c.setAutoCommit(false);
      try {
        T result = work.apply(DSL.using(c, dsl.dialect(), dsl.settings()));
        c.commit();
        return result;
      } catch (Throwable e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    });
  }

  private static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC);
  }
}
