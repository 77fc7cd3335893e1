package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.select;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.IntFunction;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobRecord;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.impl.DSL;
import org.jooq.JSONB;
import org.jooq.Record;
import org.jooq.Table;
import org.jooq.UpdateConditionStep;
import org.jooq.impl.SQLDataType;
import org.jspecify.annotations.Nullable;

/**
 * Outcomes workers report. Each is recorded only if its attempt is the job's current one, held by
 * the reporting session, and still running: the attempt number fences off every stale report.
 */
public final class OutcomeStore {
  private static final String CACHE_PAYLOAD = "cache_payload";
  private final DSLContext dsl;
  private final Columns columns = new Columns();
  private final @Nullable ReceiptMaker receipts;
  private final ResultCache cache;

  /**
   * A store over this database; with a {@code receipts} maker, every completion, and every payment
   * it releases or a failure refunds, is stored with its receipt, in the same transaction.
   */
  public OutcomeStore(DSLContext dsl, @Nullable ReceiptMaker receipts) {
    this(dsl, receipts, new ResultCache(dsl, ResultCache.Policy.OFF));
  }

  /**
   * {@link #OutcomeStore(DSLContext, ReceiptMaker)} that also fills {@code cache} with the results of
   * the deterministic jobs it completes, in the same transaction.
   */
  public OutcomeStore(DSLContext dsl, @Nullable ReceiptMaker receipts, ResultCache cache) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.receipts = receipts;
    this.cache = requireNonNull(cache, "cache");
  }

  /**
   * Records outcomes in one transaction and answers each, in order. A retryable failure with
   * attempts left puts the job back in the queue after {@code backoff.apply(attempt)}.
   */
  public List<Recorded> record(List<Outcome> outcomes, IntFunction<Duration> backoff) {
    Effects none = new Effects();
    List<Recorded> answers = record(outcomes, backoff, null, null, none);
    none.committed();
    return answers;
  }

  /**
   * {@link #record(List, IntFunction)}, and, with {@code decide}, in the same transaction, decides for
   * the workflow executions whose step jobs it completed ({@link EngineStore#advanceWithin}): a step's
   * outcome and its next step's jobs commit together; with {@code swarms}, likewise for the swarm
   * tasks whose member jobs it completed (a consensus is decided as its last member's result is
   * recorded). What is left to do once the transaction has committed, or rolled back, goes to
   * {@code effects}, which the caller runs. When that fails, the caller records the outcomes again
   * without either.
   */
  public List<Recorded> record(List<Outcome> outcomes, IntFunction<Duration> backoff,
      EngineStore.@Nullable Decide decide, SwarmEngineStore.@Nullable Within swarms, Effects effects) {
    OffsetDateTime now = JobStore.now();
    List<Outcome.Completed> completions = new ArrayList<>(outcomes.size());
    for (Outcome o : outcomes) {
      if (o instanceof Outcome.Completed c) {
        completions.add(c);
      }
    }
    return Database.transaction(dsl, tx -> {
      IssuedReceipts issued = new IssuedReceipts(receipts);
      Set<UUID> executions = new HashSet<>();
      Set<UUID> swarmTasks = new HashSet<>();
      List<Recorded> answers = answer(tx, outcomes,
          completions.isEmpty() ? Set.of() : completeAll(tx, completions, now, issued, executions, swarmTasks), now,
          backoff, issued);
      if (decide != null) {
        EngineStore.advanceWithin(tx, executions, false, issued, effects, decide);
      }
      if (swarms != null) {
        swarms.advance(tx, swarmTasks, now, issued, effects);
      }
      // Issued last: the ledger's counter stays locked from here to the commit.
      issued.store(tx);
      return answers;
    });
  }

  private List<Recorded> answer(DSLContext tx, List<Outcome> outcomes, Set<AttemptRef> completed, OffsetDateTime now,
      IntFunction<Duration> backoff, IssuedReceipts issued) {
    Set<UUID> answered = new HashSet<>();
    List<Recorded> out = new ArrayList<>(outcomes.size());
    for (Outcome o : outcomes) {
      Recorded recorded = null;
      // Only the report whose very attempt and session were recorded is accepted: a stale report
      // of the same job in the same batch is refused, and a second report of it finds it recorded.
      if (!answered.contains(o.jobId())) {
        recorded = switch (o) {
          case Outcome.Completed c -> completed.contains(new AttemptRef(c.jobId(), c.attempt(), c.sessionId()))
              ? new Recorded(true, JobState.COMPLETED, "") : null;
          case Outcome.Failed f -> fail(tx, f, now, backoff, issued);
        };
        if (recorded != null) {
          answered.add(o.jobId());
        }
      }
      out.add(recorded != null ? recorded : refusal(tx, o));
    }
    return out;
  }

  /**
   * Completes every job of the batch whose attempt its session still holds, in one UPDATE joined to
   * the batch's rows (one primary-key lookup per row), releases their escrowed payments and adds
   * the receipts of both to {@code issued}; returns the attempts it completed, and adds the executions
   * and swarm tasks of the jobs completed to {@code executions} and {@code swarmTasks}.
   */
  private Set<AttemptRef> completeAll(DSLContext tx, List<Outcome.Completed> completions, OffsetDateTime now,
      IssuedReceipts issued, Set<UUID> executions, Set<UUID> swarmTasks) {
    Set<AttemptRef> done = new HashSet<>();
    List<UUID> paid = new ArrayList<>();
    List<ResultCache.Entry> cached = new ArrayList<>();
    if (receipts == null) {
      Map<AttemptRef, Outcome.Completed> byAttempt = cache.policy().on() ? byAttempt(completions) : Map.of();
      for (Record r : update(tx, completions, now)
          .returningResult(JOB.JOB_ID, JOB.ATTEMPT, JOB.SESSION_ID, JOB.EXECUTION_ID, JOB.PAYMENT_ID, JOB.SWARM_TASK_ID,
              JOB.TYPE, JOB.MODEL, cachePayload())
          .fetch()) {
        AttemptRef ref = new AttemptRef(r.get(JOB.JOB_ID), r.get(JOB.ATTEMPT), r.get(JOB.SESSION_ID));
        done.add(ref);
        if (r.get(JOB.EXECUTION_ID) != null) {
          executions.add(r.get(JOB.EXECUTION_ID));
        }
        if (r.get(JOB.PAYMENT_ID) != null) {
          paid.add(ref.jobId());
        }
        if (r.get(JOB.SWARM_TASK_ID) != null) {
          swarmTasks.add(r.get(JOB.SWARM_TASK_ID));
        }
        cacheable(r, byAttempt.get(ref), cached);
      }
    } else {
      done.addAll(completeWithReceipts(tx, receipts, completions, now, issued, executions, swarmTasks, paid, cached));
    }
    cache.fill(tx, cached);
    // A job's live payment is always the one its row names (set under the job's lock as the payment
    // is made, and there is at most one): jobs naming none have nothing to settle, and no query.
    Settlements.postForJobs(tx, paid, now, issued);
    return done;
  }

  /** Completes the batch's jobs and adds a receipt for each to {@code issued}; returns the attempts completed. */
  private Set<AttemptRef> completeWithReceipts(DSLContext tx, ReceiptMaker maker, List<Outcome.Completed> completions,
      OffsetDateTime now, IssuedReceipts issued, Set<UUID> executions, Set<UUID> swarmTasks, List<UUID> paid,
      List<ResultCache.Entry> cached) {
    Map<AttemptRef, Outcome.Completed> byAttempt = byAttempt(completions);
    Set<AttemptRef> done = new HashSet<>();
    // Plain records (returningResult): returning() would copy each row into a JobRecord, a third of the cost.
    for (Record r : update(tx, completions, now)
        .returningResult(JOB.JOB_ID, JOB.ATTEMPT, JOB.SESSION_ID, JOB.CLIENT_ID, JOB.WORKER_ID, JOB.PAYLOAD, JOB.REQ_GPU,
            JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_MODELS, JOB.REQ_REGION, JOB.REQ_MAX_PRICE, JOB.CREATED_AT,
            JOB.STARTED_AT, JOB.EXECUTION_ID, JOB.PAYMENT_ID, JOB.SWARM_TASK_ID, JOB.TYPE, JOB.MODEL)
        .fetch()) {
      UUID jobId = r.get(JOB.JOB_ID);
      if (r.get(JOB.EXECUTION_ID) != null) {
        executions.add(r.get(JOB.EXECUTION_ID));
      }
      if (r.get(JOB.SWARM_TASK_ID) != null) {
        swarmTasks.add(r.get(JOB.SWARM_TASK_ID));
      }
      if (r.get(JOB.PAYMENT_ID) != null) {
        paid.add(jobId);
      }
      AttemptRef ref = new AttemptRef(jobId, r.get(JOB.ATTEMPT), r.get(JOB.SESSION_ID));
      done.add(ref);
      Outcome.Completed c = byAttempt.get(ref);
      if (c != null) {
        cacheable(r, r.get(JOB.PAYLOAD).data(), c, cached);
      }
      if (c == null || c.countersigned() == null) {
        throw new IllegalStateException("job " + jobId + " completed without the worker's countersignature");
      }
      issued.job(maker.receipt(new CompletedJob(jobId, r.get(JOB.CLIENT_ID), r.get(JOB.WORKER_ID),
          r.get(JOB.PAYLOAD).data(), JobMapper.requirements(r), r.get(JOB.CREATED_AT), r.get(JOB.STARTED_AT), now,
          c.metricsJson(), c.countersigned())));
    }
    return done;
  }

  private static Map<AttemptRef, Outcome.Completed> byAttempt(List<Outcome.Completed> completions) {
    Map<AttemptRef, Outcome.Completed> byAttempt = new HashMap<>();
    for (Outcome.Completed c : completions) {
      byAttempt.putIfAbsent(new AttemptRef(c.jobId(), c.attempt(), c.sessionId()), c);
    }
    return byAttempt;
  }

  /** The payload of a job of a cached type, null for others: only those are read back for the cache. */
  private static Field<JSONB> cachePayload() {
    return DSL.when(JOB.TYPE.in(ResultCache.DETERMINISTIC), JOB.PAYLOAD).as(CACHE_PAYLOAD);
  }

  private void cacheable(Record r, Outcome.@Nullable Completed c, List<ResultCache.Entry> cached) {
    JSONB payload = r.get(CACHE_PAYLOAD, JSONB.class);
    if (c != null && payload != null) {
      cacheable(r, payload.data(), c, cached);
    }
  }

  /** Adds the completed job's result to {@code cached} if the cache keeps it (its type, model and payload say). */
  private void cacheable(Record r, String payloadJson, Outcome.Completed c, List<ResultCache.Entry> cached) {
    // A swarm's member job is a probe of its worker, compared with the others: not an answer to reuse.
    if (!cache.policy().on() || r.get(JOB.SWARM_TASK_ID) != null) {
      return;
    }
    byte[] key = ResultCache.key(r.get(JOB.TYPE), r.get(JOB.MODEL), payloadJson);
    if (key != null) {
      cached.add(new ResultCache.Entry(key, r.get(JOB.TYPE), r.get(JOB.MODEL), c.resultJson(), r.get(JOB.JOB_ID)));
    }
  }

  private UpdateConditionStep<JobRecord> update(DSLContext tx, List<Outcome.Completed> completions, OffsetDateTime now) {
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
    Columns c = columns;
    Table<?> batch = select(c.each(ids, JOB.JOB_ID).as(JOB.JOB_ID), c.each(attempts, JOB.ATTEMPT).as(JOB.ATTEMPT),
        c.each(sessions, JOB.SESSION_ID).as(JOB.SESSION_ID), c.each(results, JOB.RESULT).as(JOB.RESULT),
        c.each(metrics, JOB.METRICS).as(JOB.METRICS)).asTable("outcome");
    return tx.update(JOB)
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
            JOB.STATE.cast(SQLDataType.VARCHAR).eq(inline(JobState.RUNNING.getLiteral())));
  }

  private static @Nullable Recorded fail(DSLContext tx, Outcome.Failed f, OffsetDateTime now,
      IntFunction<Duration> backoff, IssuedReceipts issued) {
    var row = tx.select(JOB.MAX_ATTEMPTS, JOB.STARTED_AT).from(JOB)
        .where(JOB.JOB_ID.eq(f.jobId()), JOB.ATTEMPT.eq(f.attempt()), JOB.SESSION_ID.eq(f.sessionId()),
            JOB.STATE.eq(inline(JobState.RUNNING)))
        .forUpdate()
        .fetchOne();
    if (row == null) {
      return null;
    }
    Ended ended = Attempts.end(tx, List.of(new Attempts.Ending(f.jobId(), f.attempt(), row.value1(), f.workerId(),
        f.sessionId(), row.value2(), f.error(), f.retryable(), null)), now, backoff, issued).getFirst();
    return new Recorded(true, ended.state(), "");
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
}
