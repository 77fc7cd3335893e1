package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.WORKFLOW;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.greatest;
import static org.jooq.impl.DSL.val;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.EngineStore.Decided;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record1;
import org.jspecify.annotations.Nullable;

/**
 * One execution, locked in a transaction that is open while the engine decides for it: what it was
 * when locked, its step jobs, and the writes a decision makes (step jobs, where it stands, a later
 * wake-up). Step jobs asked for are inserted when the decisions of the transaction are done, all in
 * one statement.
 */
public final class LockedExecution {
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

  /** The results (JSON objects, or null when a job has none) of these jobs. */
  public Map<UUID, @Nullable String> results(Collection<UUID> jobIds) {
    Map<UUID, @Nullable String> out = new HashMap<>();
    batch.tx.select(JOB.JOB_ID, JOB.RESULT).from(JOB).where(JOB.JOB_ID.in(jobIds))
        .forEach(r -> out.put(r.value1(), JobMapper.text(r.value2())));
    return out;
  }

  /** The active key that started it (read once per transaction), or empty when it was revoked since. */
  public Optional<Principal> startedBy() {
    return batch.keys.computeIfAbsent(execution.keyId(), k -> KeyStore.findById(batch.tx, k));
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
   * Saves a decision when it differs from what is stored. An execution that ends also gets its
   * receipt (listing its step jobs as they stand now), and, when step jobs of it may still run, a
   * wake-up, whose handling cancels them (after this commits).
   */
  public void save(Decided d) {
    StoredExecution e = current;
    boolean same = d.status() == e.status() && d.totalCost().compareTo(e.totalCost()) == 0
        && d.progress() == e.progress() && d.currentStep() == e.currentStep()
        && Objects.equals(d.currentStepName(), e.currentStepName()) && d.steps().equals(e.steps())
        && d.finalResultJson() == null && d.errorMessage() == null;
    if (same) {
      return;
    }
    DSLContext tx = batch.tx;
    OffsetDateTime now = batch.now;
    boolean ends = d.status() != ExecutionStatus.pending && d.status() != ExecutionStatus.running;
    current = tx.update(EXECUTION)
        .set(EXECUTION.STATUS, d.status())
        .set(EXECUTION.TOTAL_COST, d.totalCost())
        .set(EXECUTION.PROGRESS, (short) d.progress())
        .set(EXECUTION.CURRENT_STEP, d.currentStep())
        .set(EXECUTION.CURRENT_STEP_NAME, d.currentStepName())
        .set(EXECUTION.STEPS, Snapshots.write(d.steps()))
        .set(EXECUTION.FINAL_RESULT, d.finalResultJson() == null ? null : JSONB.valueOf(d.finalResultJson()))
        .set(EXECUTION.ERROR_MESSAGE, d.errorMessage())
        .set(EXECUTION.STARTED_AT, e.startedAt() != null || d.status() == ExecutionStatus.pending ? e.startedAt()
            : now)
        .set(EXECUTION.ENDED_AT, ends ? now : null)
        .set(EXECUTION.UPDATED_AT, now)
        .where(EXECUTION.EXECUTION_ID.eq(e.executionId()))
        .returning()
        .fetchSingle(ExecutionStore::toExecution);
    if (ends) {
      if (d.jobsMayRun()) {
        ExecutionStore.wake(tx, e.executionId(), now);
      }
      current = batch.issued.executionEnded(tx, current);
    }
  }

  /** Wakes the execution again at {@code due} (a step job's submission was put off until then). */
  public void wakeAt(OffsetDateTime due) {
    ExecutionStore.wake(batch.tx, execution.executionId(), due);
  }

  /** What one transaction locks and decides for, and what its decisions leave to write at the end. */
  static final class Batch {
    private final DSLContext tx;
    private final OffsetDateTime now;
    private final IssuedReceipts issued;
    private final Effects effects;
    private final List<NewStepJob> inserts = new ArrayList<>();
    private final Map<String, Optional<Principal>> keys = new HashMap<>();

    Batch(DSLContext tx, OffsetDateTime now, IssuedReceipts issued, Effects effects) {
      this.tx = tx;
      this.now = now;
      this.issued = issued;
      this.effects = effects;
    }

    /**
     * Locks those of these executions that no other transaction holds (never waiting for one) and
     * reads their step jobs and due wake-ups: three statements for the lot. A step job completed in this transaction has its price from the receipt issued
     * with it, not stored yet.
     */
    List<LockedExecution> lock(Collection<UUID> executionIds) {
      List<StoredExecution> executions = tx.selectFrom(EXECUTION)
          .where(EXECUTION.EXECUTION_ID.in(new HashSet<>(executionIds)))
          .forNoKeyUpdate()
          .skipLocked()
          .fetch(ExecutionStore::toExecution);
      if (executions.isEmpty()) {
        return List.of();
      }
      List<UUID> locked = executions.stream().map(StoredExecution::executionId).toList();
      Map<UUID, List<StepJobRow>> jobs = new HashMap<>();
      tx.select(JOB.EXECUTION_ID, JOB.JOB_ID, JOB.REQUEST_ID, JOB.STATE, JOB.ERROR, RECEIPT.PRICE, JOB.CREATED_AT,
              JOB.FINISHED_AT)
          .from(JOB)
          // The job's own receipt: its payments' receipts name the job too.
          .leftJoin(RECEIPT).on(RECEIPT.JOB_ID.eq(JOB.JOB_ID), RECEIPT.PAYMENT_ID.isNull())
          .where(JOB.EXECUTION_ID.in(locked))
          .forEach(r -> {
            BigDecimal price = r.value6();
            if (price == null) {
              NewReceipt here = issued.ofJob(r.value2());
              price = here == null ? null : here.price();
            }
            jobs.computeIfAbsent(r.value1(), k -> new ArrayList<>()).add(new StepJobRow(r.value2(), r.value3(),
                r.value4(), r.value5(), price, r.value7(), r.value8()));
          });
      Map<UUID, List<Long>> wakeups = new HashMap<>();
      // Due by this coordinator's clock or the database's: a wake-up this very transaction wrote
      // (a trigger's) is stamped with the database's time.
      tx.select(EXECUTION_WAKEUP.EXECUTION_ID, EXECUTION_WAKEUP.WAKEUP_ID).from(EXECUTION_WAKEUP)
          .where(EXECUTION_WAKEUP.EXECUTION_ID.in(locked),
              EXECUTION_WAKEUP.DUE_AT.le(greatest(val(now), currentOffsetDateTime())))
          .forEach(r -> wakeups.computeIfAbsent(r.value1(), k -> new ArrayList<>()).add(r.value2()));
      List<LockedExecution> out = new ArrayList<>(executions.size());
      for (StoredExecution e : executions) {
        out.add(new LockedExecution(this, e, jobs.getOrDefault(e.executionId(), List.of()),
            wakeups.getOrDefault(e.executionId(), List.of())));
      }
      return out;
    }

    /**
     * Inserts the step jobs the decisions asked for and deletes the wake-ups of {@code decided} that
     * were due when they were locked. A step job that is there already (its request id) fails it
     * all: under the execution's lock, only an earlier decision could have made it.
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
      List<Long> done = new ArrayList<>();
      for (LockedExecution l : decided) {
        done.addAll(l.wakeups);
      }
      if (!done.isEmpty()) {
        tx.deleteFrom(EXECUTION_WAKEUP).where(EXECUTION_WAKEUP.WAKEUP_ID.in(done)).execute();
      }
    }
  }
}
