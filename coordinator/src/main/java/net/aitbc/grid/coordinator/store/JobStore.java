package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.JOB_ATTEMPT;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.row;

import java.nio.ByteBuffer;
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
import org.jooq.Record1;
import org.jooq.Row2;
import org.jspecify.annotations.Nullable;

/**
 * Jobs in PostgreSQL: submission and reads. Claims, outcomes and take-backs have stores of their own
 * ({@link ClaimStore}, {@link OutcomeStore}, {@link TakeBackStore}).
 */
public final class JobStore {
  private final DSLContext dsl;
  private final ResultCache cache;
  private final @Nullable ReceiptMaker receipts;
  private final JobIds paymentIdGenerator = new JobIds();

  /** A store over this database, without a result cache. */
  public JobStore(DSLContext dsl) {
    this(dsl, new ResultCache(dsl, ResultCache.Policy.OFF), null);
  }

  /**
   * A store over this database that answers deterministic jobs from {@code cache} when it can; with a
   * {@code receipts} maker, each job so answered is stored with its receipt.
   */
  public JobStore(DSLContext dsl, ResultCache cache, @Nullable ReceiptMaker receipts) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.cache = requireNonNull(cache, "cache");
    this.receipts = receipts;
  }

  /** {@link #insert(List, PaymentStore)} for a batch without payments. */
  public List<Submitted> insert(List<NewJob> jobs) {
    return insert(jobs, null);
  }

  /**
   * Inserts jobs atomically and returns them in the same order. A job whose client and request id
   * match an existing job is not inserted: the existing job is returned instead. A job with a
   * payment is stored together with it through {@code payments} (both or neither): one whose payment
   * is refused is not stored, and its {@link Submitted#refused()} says why; the rest of the batch is.
   * A job the result cache answers is stored COMPLETED with the cached result, run by no worker, and
   * pays nothing: no payment is made for it, whatever it offered ({@link Submitted#job()} says so).
   */
  public List<Submitted> insert(List<NewJob> jobs, @Nullable PaymentStore payments) {
    OffsetDateTime now = now();
    Map<UUID, ByteBuffer> keys = new HashMap<>();
    for (NewJob j : jobs) {
      byte[] key = cache.keyOf(j);
      if (key != null) {
        keys.put(j.jobId(), ByteBuffer.wrap(key));
      }
    }
    Set<UUID> inserted = new HashSet<>(jobs.size() * 2);
    Map<UUID, UUID> paymentIds = new HashMap<>();
    Map<UUID, PaymentRefused> refused = new HashMap<>();
    Map<UUID, ResultCache.Hit> hits = new HashMap<>();
    if (keys.isEmpty() && plain(jobs)) {
      // The usual batch is one statement: run it on its own (autocommit), one round trip in all.
      boolean placed = !jobs.isEmpty() && jobs.getFirst().placement() != null;
      inserted.addAll(JobRows.insertArrays(dsl, jobs, now, placed ? JobState.RUNNING : JobState.QUEUED, Map.of()));
    } else {
      Database.transaction(dsl, tx -> {
        List<NewJob> unpaid = new ArrayList<>(jobs.size());
        List<NewJob> paid = new ArrayList<>();
        List<NewJob> answered = new ArrayList<>();
        Map<ByteBuffer, ResultCache.Hit> found = cache.lookup(tx, new HashSet<>(keys.values()));
        for (NewJob j : jobs) {
          ByteBuffer key = keys.get(j.jobId());
          ResultCache.Hit hit = key == null ? null : found.get(key);
          if (hit != null) {
            hits.put(j.jobId(), hit);
            answered.add(j);
          } else {
            (j.payment() != null ? paid : unpaid).add(j);
          }
        }
        List<UUID> answeredIn = answered.isEmpty() ? List.of() : JobRows.insertHits(tx, answered, now, hits);
        inserted.addAll(answeredIn);
        inserted.addAll(JobRows.store(tx, unpaid, now, Map.of()));
        if (!paid.isEmpty()) {
          insertPaid(tx, paid, now, payments, inserted, paymentIds, refused);
        }
        if (receipts != null && !answeredIn.isEmpty()) {
          IssuedReceipts issued = new IssuedReceipts(receipts);
          Set<UUID> in = new HashSet<>(answeredIn);
          for (NewJob j : answered) {
            if (in.contains(j.jobId())) {
              ResultCache.Hit hit = hits.get(j.jobId());
              issued.job(receipts.cacheHit(j, now, hit.resultJson(), hit.sourceJobId()));
            }
          }
          // Last: the ledger's counter stays locked from here to the commit.
          issued.store(tx);
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
      } else if (inserted.contains(j.jobId()) && hits.containsKey(j.jobId())) {
        out.add(new Submitted(JobMapper.toHit(j, now, hits.get(j.jobId())), false, null, null,
            Submitted.Lookup.HIT));
      } else if (inserted.contains(j.jobId())) {
        Submitted s = inserted(j, now, paymentIds.get(j.jobId()));
        out.add(keys.containsKey(j.jobId())
            ? new Submitted(s.job(), false, s.placed(), null, Submitted.Lookup.MISS) : s);
      } else {
        JobRecord r = existing.get(idempotencyKey(j.clientId(), j.requestId()));
        out.add(new Submitted(JobMapper.toJob(r, true), true, null));
      }
    }
    return out;
  }

  /** Whether a batch is one INSERT: no payments, no model lists, and all of it queued or all placed. */
  private static boolean plain(List<NewJob> jobs) {
    boolean placed = false;
    boolean queued = false;
    for (NewJob j : jobs) {
      if (j.payment() != null || !j.requirements().models().isEmpty()) {
        return false;
      }
      placed |= j.placement() != null;
      queued |= j.placement() == null;
    }
    return !(queued && placed);
  }

  /** What submitting {@code j} answers once it was inserted at {@code now} (placed: as its first attempt). */
  static Submitted inserted(NewJob j, OffsetDateTime now, @Nullable UUID paymentId) {
    boolean running = j.placement() != null && j.requirements().models().isEmpty();
    ClaimedJob first = running
        ? new ClaimedJob(j.jobId(), 1, j.type(), j.model(), j.payloadJson(), now, now, now.plus(j.ttl()),
            j.fairTag(), j.timeout(), j.priority())
        : null;
    return new Submitted(JobMapper.toJob(j, now, running, paymentId), false, first);
  }

  /**
   * Inserts the paid jobs and pays for them all together, under one savepoint: each account's
   * balance changes once for the batch, not once per job, so that the escrow account (every paid
   * job's) is not a row rewritten a thousand times in each transaction. When a payment is refused,
   * rolls back to the savepoint and goes one job at a time, so that only the refused are left out.
   */
  private void insertPaid(DSLContext tx, List<NewJob> paid, OffsetDateTime now, @Nullable PaymentStore payments,
      Set<UUID> inserted, Map<UUID, UUID> paymentIds, Map<UUID, PaymentRefused> refused) {
    if (payments != null) {
      Map<UUID, UUID> ids = new HashMap<>();
      for (NewJob j : paid) {
        ids.put(j.jobId(), paymentIdGenerator.next());
      }
      Savepoint all = tx.connectionResult(Connection::setSavepoint);
      try {
        Set<UUID> in = new HashSet<>(JobRows.store(tx, paid, now, ids));
        List<NewPayment> made = new ArrayList<>(in.size());
        for (NewJob j : paid) {
          if (in.contains(j.jobId())) {
            made.add(newPayment(j, ids.get(j.jobId())));
          }
        }
        payments.createForNewJobs(tx, made, now);
        tx.connection(c -> c.releaseSavepoint(all));
        inserted.addAll(in);
        made.forEach(p -> paymentIds.put(p.jobId(), p.paymentId()));
        return;
      } catch (PaymentRefused e) {
        tx.connection(c -> c.rollback(all));
      }
    }
    for (NewJob j : paid) {
      insertPaidAlone(tx, j, now, payments, inserted, paymentIds, refused);
    }
  }

  /**
   * Inserts one paid job and pays for it under a savepoint: a refused payment rolls back both and is
   * recorded in {@code refused}; a job that already existed (its request id) pays nothing again.
   */
  private void insertPaidAlone(DSLContext tx, NewJob j, OffsetDateTime now, @Nullable PaymentStore payments,
      Set<UUID> inserted, Map<UUID, UUID> paymentIds, Map<UUID, PaymentRefused> refused) {
    Savepoint savepoint = tx.connectionResult(Connection::setSavepoint);
    try {
      List<UUID> in = JobRows.store(tx, List.of(j), now, Map.of());
      if (!in.isEmpty()) {
        if (payments == null) {
          throw new PaymentRefused(PaymentRefused.Reason.NOT_PAYABLE, "this coordinator takes no payments with jobs");
        }
        UUID paymentId = paymentIdGenerator.next();
        payments.create(tx, newPayment(j, paymentId));
        inserted.add(j.jobId());
        paymentIds.put(j.jobId(), paymentId);
      }
      tx.connection(c -> c.releaseSavepoint(savepoint));
    } catch (PaymentRefused e) {
      tx.connection(c -> c.rollback(savepoint));
      refused.put(j.jobId(), e);
    }
  }

  private static NewPayment newPayment(NewJob j, UUID paymentId) {
    NewJob.JobPayment pay = requireNonNull(j.payment(), "payment");
    return new NewPayment(paymentId, j.jobId(), j.clientId(), pay.amount(), pay.currency(), "aitbc_token",
        pay.escrowTimeoutSeconds());
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
