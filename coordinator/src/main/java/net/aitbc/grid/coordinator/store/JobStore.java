package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.JOB_ATTEMPT;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.row;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.val;

import java.sql.Connection;
import java.sql.Savepoint;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobRecord;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record1;
import org.jooq.Row2;
import org.jspecify.annotations.Nullable;

/**
 * Jobs in PostgreSQL: submission and reads. Claims, outcomes and take-backs have stores of their own
 * ({@link ClaimStore}, {@link OutcomeStore}, {@link TakeBackStore}).
 */
public final class JobStore {
  private final DSLContext dsl;
  private final Columns columns = new Columns();
  private final JobIds paymentIdGenerator = new JobIds();

  /** A store over this database. */
  public JobStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** {@link #insert(List, PaymentStore)} for a batch without payments. */
  public List<Submitted> insert(List<NewJob> jobs) {
    return insert(jobs, null);
  }

  /**
   * Inserts jobs atomically and returns them in the same order. A job whose client and request id
   * match an existing job is not inserted: the existing job is returned instead. A job with a
   * payment is stored together with it through {@code payments} (both or neither, each under a
   * savepoint of the batch's transaction): one whose payment is refused is not stored, and its
   * {@link Submitted#refused()} says why; the rest of the batch is.
   */
  public List<Submitted> insert(List<NewJob> jobs, @Nullable PaymentStore payments) {
    OffsetDateTime now = now();
    List<NewJob> listed = new ArrayList<>();
    List<NewJob> queued = new ArrayList<>(jobs.size());
    List<NewJob> placed = new ArrayList<>();
    List<NewJob> paid = new ArrayList<>();
    for (NewJob j : jobs) {
      (j.payment() != null ? paid : !j.requirements().models().isEmpty() ? listed
          : j.placement() != null ? placed : queued).add(j);
    }
    Set<UUID> inserted = new HashSet<>(jobs.size() * 2);
    Map<UUID, UUID> paymentIds = new HashMap<>();
    Map<UUID, PaymentRefused> refused = new HashMap<>();
    if (paid.isEmpty() && listed.isEmpty() && (queued.isEmpty() || placed.isEmpty())) {
      // The usual batch is one statement: run it on its own (autocommit), one round trip in all.
      inserted.addAll(insertArrays(dsl, queued.isEmpty() ? placed : queued, now,
          queued.isEmpty() ? JobState.RUNNING : JobState.QUEUED));
    } else {
      Database.transaction(dsl, tx -> {
        if (!queued.isEmpty()) {
          inserted.addAll(insertArrays(tx, queued, now, JobState.QUEUED));
        }
        if (!placed.isEmpty()) {
          inserted.addAll(insertArrays(tx, placed, now, JobState.RUNNING));
        }
        if (!listed.isEmpty()) {
          inserted.addAll(insertRows(tx, listed, now));
        }
        for (NewJob j : paid) {
          insertPaid(tx, j, now, payments, inserted, paymentIds, refused);
        }
        return null;
      });
    }
    // A conflicting job is committed by now: INSERT … ON CONFLICT waited for it.
    Set<UUID> settled = new HashSet<>(inserted);
    settled.addAll(refused.keySet());
    Map<String, JobRecord> existing = settled.size() == jobs.size() ? Map.of() : existing(jobs, settled);
    List<Submitted> out = new ArrayList<>(jobs.size());
    for (NewJob j : jobs) {
      PaymentRefused no = refused.get(j.jobId());
      if (no != null) {
        out.add(new Submitted(JobMapper.toJob(j, now, false, null), false, null, no));
      } else if (inserted.contains(j.jobId())) {
        boolean running = j.placement() != null && j.requirements().models().isEmpty();
        ClaimedJob first = running
            ? new ClaimedJob(j.jobId(), 1, j.type(), j.model(), j.payloadJson(), now, now, now.plus(j.ttl()),
                j.fairTag(), j.timeout(), j.priority())
            : null;
        out.add(new Submitted(JobMapper.toJob(j, now, running, paymentIds.get(j.jobId())), false, first));
      } else {
        JobRecord r = existing.get(idempotencyKey(j.clientId(), j.requestId()));
        out.add(new Submitted(JobMapper.toJob(r, true), true, null));
      }
    }
    return out;
  }

  /**
   * Inserts one paid job and pays for it under a savepoint: a refused payment rolls back both and is
   * recorded in {@code refused}; a job that already existed (its request id) pays nothing again.
   */
  private void insertPaid(DSLContext tx, NewJob j, OffsetDateTime now, @Nullable PaymentStore payments,
      Set<UUID> inserted, Map<UUID, UUID> paymentIds, Map<UUID, PaymentRefused> refused) {
    NewJob.JobPayment pay = requireNonNull(j.payment(), "payment");
    Savepoint savepoint = tx.connectionResult(Connection::setSavepoint);
    try {
      List<UUID> in = !j.requirements().models().isEmpty() ? insertRows(tx, List.of(j), now)
          : insertArrays(tx, List.of(j), now, j.placement() != null ? JobState.RUNNING : JobState.QUEUED);
      if (!in.isEmpty()) {
        if (payments == null) {
          throw new PaymentRefused(PaymentRefused.Reason.NOT_PAYABLE, "this coordinator takes no payments with jobs");
        }
        UUID paymentId = paymentIdGenerator.next();
        payments.create(tx, new NewPayment(paymentId, j.jobId(), j.clientId(), pay.amount(), pay.currency(),
            "aitbc_token", pay.escrowTimeoutSeconds()));
        inserted.add(j.jobId());
        paymentIds.put(j.jobId(), paymentId);
      }
      tx.connection(c -> c.releaseSavepoint(savepoint));
    } catch (PaymentRefused e) {
      tx.connection(c -> c.rollback(savepoint));
      refused.put(j.jobId(), e);
    }
  }

  /**
   * One INSERT of the whole batch as column arrays. A model list cannot travel this way (arrays of
   * arrays flatten), so jobs with one go through {@link #insertRows}.
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
    UUID[] executions = new UUID[n];
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
      executions[i] = j.executionId();
      if (running) {
        sessions[i] = j.placement().sessionId();
        workers[i] = j.placement().workerId();
      }
    }
    Columns c = columns;
    return tx.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.REQUEST_ID, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD,
            JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_REGION, JOB.REQ_MAX_PRICE, JOB.PRIORITY,
            JOB.FAIR_TAG, JOB.MAX_ATTEMPTS, JOB.TIMEOUT_MS, JOB.EXPIRES_AT, JOB.SESSION_ID, JOB.WORKER_ID,
            JOB.EXECUTION_ID, JOB.STATE, JOB.ATTEMPT, JOB.STARTED_AT, JOB.CREATED_AT, JOB.RUN_AFTER)
        .select(select(c.each(ids, JOB.JOB_ID), c.each(clients, JOB.CLIENT_ID), c.each(requests, JOB.REQUEST_ID),
            c.each(types, JOB.TYPE), c.each(models, JOB.MODEL), c.each(payloads, JOB.PAYLOAD),
            c.each(gpus, JOB.REQ_GPU), c.each(cudas, JOB.REQ_CUDA), c.each(vrams, JOB.REQ_MIN_VRAM_MB),
            c.each(regions, JOB.REQ_REGION), c.each(prices, JOB.REQ_MAX_PRICE), c.each(priorities, JOB.PRIORITY),
            c.each(tags, JOB.FAIR_TAG), c.each(maxAttempts, JOB.MAX_ATTEMPTS), c.each(timeouts, JOB.TIMEOUT_MS),
            c.each(expires, JOB.EXPIRES_AT), c.each(sessions, JOB.SESSION_ID), c.each(workers, JOB.WORKER_ID),
            c.each(executions, JOB.EXECUTION_ID), val(state), val(running ? 1 : 0),
            val(running ? now : null, JOB.STARTED_AT), val(now), val(now)))
        .onConflict(JOB.CLIENT_ID, JOB.REQUEST_ID).where(JOB.REQUEST_ID.isNotNull())
        .doNothing()
        .returningResult(JOB.JOB_ID)
        .fetch(Record1::value1);
  }

  private static List<UUID> insertRows(DSLContext tx, List<NewJob> jobs, OffsetDateTime now) {
    var insert = tx.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.REQUEST_ID, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD,
        JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_MODELS, JOB.REQ_REGION, JOB.REQ_MAX_PRICE,
        JOB.PRIORITY, JOB.FAIR_TAG, JOB.STATE, JOB.MAX_ATTEMPTS, JOB.TIMEOUT_MS, JOB.CREATED_AT, JOB.RUN_AFTER,
        JOB.EXPIRES_AT, JOB.EXECUTION_ID);
    for (NewJob j : jobs) {
      Requirements r = j.requirements();
      insert = insert.values(j.jobId(), j.clientId(), j.requestId(), j.type(), j.model(),
          JSONB.valueOf(j.payloadJson()), r.gpu(), r.cuda(), r.minVramMb(), r.models().toArray(String[]::new),
          r.region(), r.maxPrice(), (short) j.priority(), j.fairTag(), JobState.QUEUED, j.maxAttempts(),
          (int) j.timeout().toMillis(), now, now, now.plus(j.ttl()), j.executionId());
    }
    return insert.onConflict(JOB.CLIENT_ID, JOB.REQUEST_ID).where(JOB.REQUEST_ID.isNotNull()).doNothing()
        .returningResult(JOB.JOB_ID).fetch(Record1::value1);
  }

  private Map<String, JobRecord> existing(List<NewJob> jobs, Set<UUID> inserted) {
    List<Row2<String, String>> keys = new ArrayList<>();
    for (NewJob j : jobs) {
      if (!inserted.contains(j.jobId())) {
        keys.add(row(j.clientId(), requireNonNull(j.requestId(), "only a request id can conflict")));
      }
    }
    Map<String, JobRecord> out = new HashMap<>();
    for (JobRecord r : dsl.selectFrom(JOB).where(row(JOB.CLIENT_ID, JOB.REQUEST_ID).in(keys)).fetch()) {
      out.put(idempotencyKey(r.getClientId(), r.getRequestId()), r);
    }
    return out;
  }

  private static String idempotencyKey(String clientId, @Nullable String requestId) {
    return clientId + '\u0000' + requestId;
  }

  /** A client's job, with its payload, metrics and result. */
  public Optional<StoredJob> find(UUID jobId, String clientId) {
    return dsl.selectFrom(JOB)
        .where(JOB.JOB_ID.eq(jobId).and(JOB.CLIENT_ID.eq(clientId)))
        .fetchOptional(r -> JobMapper.toJob(r, true));
  }

  /** A client's job as {@link #find} reads it, plus the attempts that did not complete it. */
  public Optional<StoredJob> findWithAttempts(UUID jobId, String clientId) {
    // Only a job that is on its first attempt, or done with it, has no failed attempt to read.
    return find(jobId, clientId).map(job -> job.attempt() == 0
        || (job.attempt() == 1 && (job.state() == JobState.RUNNING || job.state() == JobState.COMPLETED)) ? job
        : job.withAttempts(dsl.selectFrom(JOB_ATTEMPT)
            .where(JOB_ATTEMPT.JOB_ID.eq(jobId))
            .orderBy(JOB_ATTEMPT.ATTEMPT)
            .fetch(JobMapper::toAttempt)));
  }

  /** The job a client created with this idempotency key, if any. */
  public Optional<StoredJob> findByRequest(String clientId, String requestId) {
    return dsl.selectFrom(JOB)
        .where(JOB.CLIENT_ID.eq(clientId).and(JOB.REQUEST_ID.eq(requestId)))
        .fetchOptional(r -> JobMapper.toJob(r, true));
  }

  /**
   * A page of a client's jobs, newest first, without payloads and metrics.
   *
   * @param filter which jobs
   * @param offset how many to skip
   * @param limit the most to return
   * @param withResults whether each job carries its result
   */
  public List<StoredJob> list(String clientId, ListFilter filter, long offset, int limit, boolean withResults) {
    Condition where = JOB.CLIENT_ID.eq(clientId);
    if (!filter.states().isEmpty()) {
      where = where.and(JOB.STATE.in(filter.states()));
    }
    if (filter.type() != null) {
      where = where.and(JOB.TYPE.eq(filter.type()));
    }
    if (filter.from() != null) {
      where = where.and(JOB.CREATED_AT.ge(filter.from()));
    }
    if (filter.to() != null) {
      where = where.and(JOB.CREATED_AT.lt(filter.to()));
    }
    return dsl.selectFrom(JOB)
        .where(where)
        .orderBy(JOB.CREATED_AT.desc(), JOB.JOB_ID.desc())
        .offset(offset)
        .limit(limit)
        .fetch(r -> {
          StoredJob j = JobMapper.toJob(r, false);
          return withResults ? j.withResult(JobMapper.text(r.getResult())) : j;
        });
  }

  /**
   * Which jobs a page lists; null parts filter nothing.
   *
   * @param states only these states; empty for all
   * @param type only this type
   * @param from only jobs created at or after this time
   * @param to only jobs created before this time
   */
  public record ListFilter(Collection<JobState> states, @Nullable String type, @Nullable OffsetDateTime from,
      @Nullable OffsetDateTime to) {}

  /**
   * Queued jobs counted by client and by type.
   *
   * @param byClient queued jobs per client
   * @param byType queued jobs per job type
   */
  public record QueueCounts(Map<String, Integer> byClient, Map<String, Integer> byType) {}

  /** Queued jobs per client and per type. */
  public QueueCounts queueCounts() {
    Map<String, Integer> byClient = new HashMap<>();
    Map<String, Integer> byType = new HashMap<>();
    dsl.select(JOB.CLIENT_ID, JOB.TYPE, count())
        .from(JOB)
        .where(JOB.STATE.eq(inline(JobState.QUEUED)))
        .groupBy(JOB.CLIENT_ID, JOB.TYPE)
        .forEach(r -> {
          byClient.merge(r.value1(), r.value3(), Integer::sum);
          byType.merge(r.value2(), r.value3(), Integer::sum);
        });
    return new QueueCounts(byClient, byType);
  }

  /** The latest fair-share tag among a client's queued jobs of one type and priority, if any. */
  public Optional<Double> lastQueuedTag(String clientId, String type, int priority) {
    return Optional.ofNullable(dsl.select(max(JOB.FAIR_TAG)).from(JOB)
        .where(JOB.CLIENT_ID.eq(clientId), JOB.TYPE.eq(type), JOB.PRIORITY.eq((short) priority),
            JOB.STATE.eq(inline(JobState.QUEUED)))
        .fetchOne(Record1::value1));
  }

  /** The earliest fair-share tag among the queued jobs of one type and priority, if any are queued. */
  public Optional<Double> firstQueuedTag(String type, int priority) {
    return Optional.ofNullable(dsl.select(min(JOB.FAIR_TAG)).from(JOB)
        .where(JOB.TYPE.eq(type), JOB.PRIORITY.eq((short) priority), JOB.STATE.eq(inline(JobState.QUEUED)))
        .fetchOne(Record1::value1));
  }

  /** Now, to the microsecond PostgreSQL keeps: what a write answers equals what a read shows later. */
  static OffsetDateTime now() {
    return OffsetDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
  }
}
