package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.API_KEY;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.WORKFLOW;
import static org.jooq.impl.DSL.array;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.greatest;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.val;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.EngineStore.Decided;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.JSONB;
import org.jooq.Record;
import org.jooq.Record1;
import org.jooq.Table;
import org.jspecify.annotations.Nullable;

/**
 * One execution, locked in a transaction that is open while the engine decides for it: what it was
 * when locked, its step jobs, and the writes a decision makes (step jobs, where it stands, a later
 * wake-up). Step jobs asked for are inserted when the decisions of the transaction are done, all in
 * one statement.
 */
public final class LockedExecution {
  private static final Columns COLUMNS = new Columns();

  private final Batch batch;
  private final StoredExecution execution;
  private final List<StepJobRow> jobs;
  private final List<Long> wakeups;
  private StoredExecution current;

  private LockedExecution(Batch batch, StoredExecution execution, List<StepJobRow> jobs, List<Long> wakeups) {
    this.batch = batch;
    this.execution = execution;
    this.current = execution;
    this.jobs = List.copyOf(jobs);
    this.wakeups = wakeups;
  }

  /**
   * A new step job for the deciding transaction to insert, and what to do once that transaction has
   * committed (with the job as stored) or not.
   */
  public interface NewStepJob {
    /** The job, admitted and tagged (and maybe placed) already. */
    NewJob job();

    /** The transaction committed it. */
    void committed(Submitted stored);

    /** The transaction did not commit it. */
    void abandoned();
  }

  /** The execution as it was when locked. */
  public StoredExecution execution() {
    return execution;
  }

  /** The execution as this transaction has left it so far. */
  public StoredExecution current() {
    return current;
  }

  /** When it was locked: the time its decision is made at. */
  public OffsetDateTime now() {
    return batch.now;
  }

  /** Its workflow's definition, as written. */
  public String definition() {
    return batch.tx.select(WORKFLOW.DEFINITION).from(WORKFLOW)
        .where(WORKFLOW.WORKFLOW_ID.eq(execution.workflowId()))
        .fetchSingle(Record1::value1);
  }

  /** Its step jobs as they stand in this transaction, with the prices their receipts state. */
  public List<StepJobRow> jobs() {
    return jobs;
  }

  /**
   * The results (JSON objects, or null when a job has none) of these jobs of its own. Read with the
   * results of the same steps' completed jobs in the other executions locked with it: executions of
   * one workflow tend to reach a step together, and each would otherwise read its own.
   */
  public Map<UUID, @Nullable String> results(Collection<UUID> jobIds) {
    return batch.results(this, jobIds);
  }

  /** The active key that started it, as it was when locked; empty when it was revoked since. */
  public Optional<Principal> startedBy() {
    return batch.keys.getOrDefault(execution.keyId(), Optional.empty());
  }

  /**
   * Has these step jobs inserted with the transaction's other decisions; each hears whether they
   * were committed. Jobs with a payment are not taken here.
   */
  public void insert(List<? extends NewStepJob> stepJobs) {
    for (NewStepJob j : stepJobs) {
      if (j.job().payment() != null || !Objects.equals(j.job().executionId(), execution.executionId())) {
        throw new IllegalArgumentException("job " + j.job().jobId() + " is no unpaid step job of this execution");
      }
      batch.effects.afterRollback(j::abandoned);
      batch.inserts.add(j);
    }
  }

  /**
   * Saves a decision when it differs from what is stored, with the transaction's other decisions
   * (one statement). An execution that ends also gets its receipt (listing its step jobs as they
   * stand then), and, when step jobs of it may still run, a wake-up, whose handling cancels them
   * (after this commits).
   */
  public void save(Decided d) {
    StoredExecution e = current;
    boolean same = d.status() == e.status() && d.totalCost().compareTo(e.totalCost()) == 0
        && d.progress() == e.progress() && d.currentStep() == e.currentStep()
        && Objects.equals(d.currentStepName(), e.currentStepName()) && d.steps().equals(e.steps())
        && d.finalResultJson() == null && d.errorMessage() == null;
    if (!same) {
      batch.saves.put(e.executionId(), new Save(this, d));
    }
  }

  /** Wakes the execution again at {@code due} (a step job's submission was put off until then). */
  public void wakeAt(OffsetDateTime due) {
    ExecutionStore.wake(batch.tx, execution.executionId(), due);
  }

  private record Save(LockedExecution locked, Decided decided) {
    boolean ends() {
      return decided.status() != ExecutionStatus.pending && decided.status() != ExecutionStatus.running;
    }
  }

  /** What one transaction locks and decides for, and what its decisions leave to write at the end. */
  static final class Batch {
    private final DSLContext tx;
    private final OffsetDateTime now;
    private final IssuedReceipts issued;
    private final Effects effects;
    private final List<NewStepJob> inserts = new ArrayList<>();
    private final Map<UUID, Save> saves = new LinkedHashMap<>();
    private final Map<String, Optional<Principal>> keys = new HashMap<>();
    private final Map<UUID, @Nullable String> results = new HashMap<>();
    private List<LockedExecution> locked = List.of();

    Batch(DSLContext tx, OffsetDateTime now, IssuedReceipts issued, Effects effects) {
      this.tx = tx;
      this.now = now;
      this.issued = issued;
      this.effects = effects;
    }

    /**
     * Locks those of these executions that no other transaction holds (never waiting for one), with
     * their due wake-ups and the active key that started each, in one statement; then, when
     * {@code withJobs}, reads their step jobs in another. A step job completed in this transaction
     * has its price from the receipt issued with it, not stored yet.
     */
    List<LockedExecution> lock(Collection<UUID> executionIds, boolean withJobs) {
      // Due by this coordinator's clock or the database's: a wake-up this very transaction wrote
      // (a trigger's) is stamped with the database's time. Read in the locking statement, so that
      // every wake-up read has its cause visible to the reads that follow.
      Field<Long[]> due = array(select(EXECUTION_WAKEUP.WAKEUP_ID).from(EXECUTION_WAKEUP)
          .where(EXECUTION_WAKEUP.EXECUTION_ID.eq(EXECUTION.EXECUTION_ID),
              EXECUTION_WAKEUP.DUE_AT.le(greatest(val(now), currentOffsetDateTime())))).as("due_wakeups");
      List<LockedExecution> out = new ArrayList<>(executionIds.size());
      for (Record r : tx.select(EXECUTION.fields()).select(API_KEY.fields()).select(due)
          .from(EXECUTION)
          .leftJoin(API_KEY).on(API_KEY.KEY_ID.eq(EXECUTION.KEY_ID), API_KEY.REVOKED_AT.isNull())
          .where(EXECUTION.EXECUTION_ID.in(new HashSet<>(executionIds)))
          .forNoKeyUpdate().of(EXECUTION)
          .skipLocked()
          .fetch()) {
        StoredExecution e = ExecutionStore.toExecution(r.into(EXECUTION));
        keys.putIfAbsent(e.keyId(), r.get(API_KEY.KEY_ID) == null ? Optional.empty()
            : Optional.of(KeyStore.principal(r.into(API_KEY))));
        out.add(new LockedExecution(this, e, List.of(), Arrays.asList(r.get(due))));
      }
      if (!withJobs || out.isEmpty()) {
        locked = out;
        return out;
      }
      Map<UUID, List<StepJobRow>> jobs = new HashMap<>();
      tx.select(JOB.EXECUTION_ID, JOB.JOB_ID, JOB.REQUEST_ID, JOB.STATE, JOB.ERROR, RECEIPT.PRICE, JOB.CREATED_AT,
              JOB.FINISHED_AT)
          .from(JOB)
          // The job's own receipt: its payments' receipts name the job too.
          .leftJoin(RECEIPT).on(RECEIPT.JOB_ID.eq(JOB.JOB_ID), RECEIPT.PAYMENT_ID.isNull())
          .where(JOB.EXECUTION_ID.in(out.stream().map(l -> l.execution.executionId()).toList()))
          .forEach(r -> {
            BigDecimal price = r.value6();
            if (price == null) {
              NewReceipt here = issued.ofJob(r.value2());
              price = here == null ? null : here.price();
            }
            jobs.computeIfAbsent(r.value1(), k -> new ArrayList<>()).add(new StepJobRow(r.value2(), r.value3(),
                r.value4(), r.value5(), price, r.value7(), r.value8()));
          });
      List<LockedExecution> withRows = new ArrayList<>(out.size());
      for (LockedExecution l : out) {
        withRows.add(new LockedExecution(this, l.execution, jobs.getOrDefault(l.execution.executionId(), List.of()),
            l.wakeups));
      }
      locked = withRows;
      return withRows;
    }

    /** The results of {@code jobIds} (jobs of {@code asking}), read once per transaction with their siblings'. */
    Map<UUID, @Nullable String> results(LockedExecution asking, Collection<UUID> jobIds) {
      Set<UUID> read = new HashSet<>();
      Set<String> keys = new HashSet<>();
      for (StepJobRow r : asking.jobs) {
        if (jobIds.contains(r.jobId()) && !results.containsKey(r.jobId())) {
          read.add(r.jobId());
          keys.add(key(r.requestId()));
        }
      }
      for (UUID id : jobIds) {
        if (!results.containsKey(id)) {
          read.add(id);
        }
      }
      if (!read.isEmpty()) {
        for (LockedExecution l : locked) {
          for (StepJobRow r : l.jobs) {
            if (r.state() == JobState.COMPLETED && !results.containsKey(r.jobId()) && keys.contains(key(r.requestId()))) {
              read.add(r.jobId());
            }
          }
        }
        for (UUID id : read) {
          results.put(id, null);
        }
        tx.select(JOB.JOB_ID, JOB.RESULT).from(JOB).where(JOB.JOB_ID.in(read))
            .forEach(r -> results.put(r.value1(), JobMapper.text(r.value2())));
      }
      Map<UUID, @Nullable String> out = new HashMap<>();
      for (UUID id : jobIds) {
        out.put(id, results.get(id));
      }
      return out;
    }

    /** What a step job's request id says after its execution's id: its step and item. */
    private static String key(String requestId) {
      return requestId.substring(requestId.lastIndexOf(':') + 1);
    }

    /**
     * Inserts the step jobs the decisions asked for, saves the decisions, and deletes the wake-ups
     * of {@code decided} that were due when they were locked. A step job that is there already (its
     * request id) fails it all: under the execution's lock, only an earlier decision could have made it.
     */
    void finish(List<LockedExecution> decided) {
      if (!inserts.isEmpty()) {
        OffsetDateTime at = JobStore.now();
        List<NewJob> jobs = inserts.stream().map(NewStepJob::job).toList();
        Set<UUID> in = new HashSet<>(JobRows.store(tx, jobs, at, Map.of()));
        if (in.size() != jobs.size()) {
          throw new IllegalStateException((jobs.size() - in.size()) + " of " + jobs.size()
              + " step jobs were there already");
        }
        for (NewStepJob j : inserts) {
          Submitted stored = JobStore.inserted(j.job(), at, null);
          effects.afterCommit(() -> j.committed(stored));
        }
        inserts.clear();
      }
      if (!saves.isEmpty()) {
        saveAll();
      }
      List<Long> done = new ArrayList<>();
      for (LockedExecution l : decided) {
        done.addAll(l.wakeups);
      }
      if (!done.isEmpty()) {
        tx.deleteFrom(EXECUTION_WAKEUP).where(EXECUTION_WAKEUP.WAKEUP_ID.in(done)).execute();
      }
    }

    /** One UPDATE for every decision saved, joined to them as column arrays; then the ends' wake-ups and receipts. */
    private void saveAll() {
      int n = saves.size();
      UUID[] ids = new UUID[n];
      ExecutionStatus[] statuses = new ExecutionStatus[n];
      BigDecimal[] costs = new BigDecimal[n];
      Short[] progress = new Short[n];
      Integer[] steps = new Integer[n];
      String[] stepNames = new String[n];
      JSONB[] snapshots = new JSONB[n];
      JSONB[] results = new JSONB[n];
      String[] errors = new String[n];
      OffsetDateTime[] startedAt = new OffsetDateTime[n];
      OffsetDateTime[] endedAt = new OffsetDateTime[n];
      int i = 0;
      for (Save save : saves.values()) {
        StoredExecution e = save.locked().current;
        Decided d = save.decided();
        ids[i] = e.executionId();
        statuses[i] = d.status();
        costs[i] = d.totalCost();
        progress[i] = (short) d.progress();
        steps[i] = d.currentStep();
        stepNames[i] = d.currentStepName();
        snapshots[i] = Snapshots.write(d.steps());
        results[i] = d.finalResultJson() == null ? null : JSONB.valueOf(d.finalResultJson());
        errors[i] = d.errorMessage();
        startedAt[i] = e.startedAt() != null || d.status() == ExecutionStatus.pending ? e.startedAt() : now;
        endedAt[i] = save.ends() ? now : null;
        i++;
      }
      Columns c = COLUMNS;
      Table<?> decided = select(c.each(ids, EXECUTION.EXECUTION_ID).as(EXECUTION.EXECUTION_ID),
          c.each(statuses, EXECUTION.STATUS).as(EXECUTION.STATUS),
          c.each(costs, EXECUTION.TOTAL_COST).as(EXECUTION.TOTAL_COST),
          c.each(progress, EXECUTION.PROGRESS).as(EXECUTION.PROGRESS),
          c.each(steps, EXECUTION.CURRENT_STEP).as(EXECUTION.CURRENT_STEP),
          c.each(stepNames, EXECUTION.CURRENT_STEP_NAME).as(EXECUTION.CURRENT_STEP_NAME),
          c.each(snapshots, EXECUTION.STEPS).as(EXECUTION.STEPS),
          c.each(results, EXECUTION.FINAL_RESULT).as(EXECUTION.FINAL_RESULT),
          c.each(errors, EXECUTION.ERROR_MESSAGE).as(EXECUTION.ERROR_MESSAGE),
          c.each(startedAt, EXECUTION.STARTED_AT).as(EXECUTION.STARTED_AT),
          c.each(endedAt, EXECUTION.ENDED_AT).as(EXECUTION.ENDED_AT)).asTable("decided");
      Map<UUID, StoredExecution> updated = new HashMap<>();
      tx.update(EXECUTION)
          .set(EXECUTION.STATUS, decided.field(EXECUTION.STATUS))
          .set(EXECUTION.TOTAL_COST, decided.field(EXECUTION.TOTAL_COST))
          .set(EXECUTION.PROGRESS, decided.field(EXECUTION.PROGRESS))
          .set(EXECUTION.CURRENT_STEP, decided.field(EXECUTION.CURRENT_STEP))
          .set(EXECUTION.CURRENT_STEP_NAME, decided.field(EXECUTION.CURRENT_STEP_NAME))
          .set(EXECUTION.STEPS, decided.field(EXECUTION.STEPS))
          .set(EXECUTION.FINAL_RESULT, decided.field(EXECUTION.FINAL_RESULT))
          .set(EXECUTION.ERROR_MESSAGE, decided.field(EXECUTION.ERROR_MESSAGE))
          .set(EXECUTION.STARTED_AT, decided.field(EXECUTION.STARTED_AT))
          .set(EXECUTION.ENDED_AT, decided.field(EXECUTION.ENDED_AT))
          .set(EXECUTION.UPDATED_AT, now)
          .from(decided)
          .where(EXECUTION.EXECUTION_ID.eq(decided.field(EXECUTION.EXECUTION_ID)))
          .returning()
          .fetch(ExecutionStore::toExecution)
          .forEach(e -> updated.put(e.executionId(), e));
      List<UUID> wake = new ArrayList<>();
      for (Save save : saves.values()) {
        LockedExecution l = save.locked();
        l.current = requireNonNull(updated.get(l.execution.executionId()), "an execution locked here was not updated");
        if (save.ends()) {
          if (save.decided().jobsMayRun()) {
            wake.add(l.execution.executionId());
          }
          l.current = issued.executionEnded(tx, l.current);
        }
      }
      if (!wake.isEmpty()) {
        ExecutionStore.wakeAll(tx, wake, now);
      }
      saves.clear();
    }
  }
}
