package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.WORKFLOW;
import static org.jooq.impl.DSL.min;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Consumer;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record1;
import org.jspecify.annotations.Nullable;

/**
 * What the workflow engine reads and writes: due wake-ups, executions past their deadline, and one
 * execution at a time under its row lock, so that two coordinators never decide for the same
 * execution at once. An execution the engine ends gets its receipt in that transaction.
 */
public final class EngineStore {
  private final DSLContext dsl;
  private final @Nullable ReceiptMaker receipts;

  /** A store over this database; executions it ends get receipts when a {@code receipts} maker is given. */
  public EngineStore(DSLContext dsl, @Nullable ReceiptMaker receipts) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.receipts = receipts;
  }

  /** Up to {@code limit} executions with wake-ups due now, the longest waiting first. */
  public List<UUID> due(int limit) {
    return dsl.select(EXECUTION_WAKEUP.EXECUTION_ID)
        .from(EXECUTION_WAKEUP)
        .where(EXECUTION_WAKEUP.DUE_AT.le(JobStore.now()))
        .groupBy(EXECUTION_WAKEUP.EXECUTION_ID)
        .orderBy(min(EXECUTION_WAKEUP.DUE_AT))
        .limit(limit)
        .fetch(Record1::value1);
  }

  /** Up to {@code limit} unfinished executions whose deadline has passed. */
  public List<UUID> pastDeadline(int limit) {
    return dsl.select(EXECUTION.EXECUTION_ID)
        .from(EXECUTION)
        .where(EXECUTION.STATUS.in(ExecutionStore.UNFINISHED), EXECUTION.DEADLINE.le(JobStore.now()))
        .orderBy(EXECUTION.DEADLINE)
        .limit(limit)
        .fetch(Record1::value1);
  }

  /**
   * Runs {@code work} on the execution under its row lock, then deletes the wake-ups that were due
   * when it was locked, stores the receipt of an execution it ended (last, as every issuing
   * transaction does), and commits. False, doing nothing, when another transaction holds it (its
   * wake-ups stay for the next pass) or there is no such execution.
   */
  public boolean advance(UUID executionId, Consumer<Locked> work) {
    return Database.transaction(dsl, tx -> {
      OffsetDateTime now = JobStore.now();
      StoredExecution execution = tx.selectFrom(EXECUTION)
          .where(EXECUTION.EXECUTION_ID.eq(executionId))
          .forNoKeyUpdate()
          .skipLocked()
          .fetchOptional(ExecutionStore::toExecution)
          .orElse(null);
      if (execution == null) {
        return false;
      }
      List<Long> wakeups = tx.select(EXECUTION_WAKEUP.WAKEUP_ID).from(EXECUTION_WAKEUP)
          .where(EXECUTION_WAKEUP.EXECUTION_ID.eq(executionId), EXECUTION_WAKEUP.DUE_AT.le(now))
          .fetch(Record1::value1);
      IssuedReceipts issued = new IssuedReceipts(receipts);
      work.accept(new Locked(tx, execution, now, issued));
      if (!wakeups.isEmpty()) {
        tx.deleteFrom(EXECUTION_WAKEUP).where(EXECUTION_WAKEUP.WAKEUP_ID.in(wakeups)).execute();
      }
      issued.store(tx);
      return true;
    });
  }

  /**
   * What the engine decided for an execution.
   *
   * @param status where it stands now
   * @param totalCost the sum of its completed step jobs' prices
   * @param progress 0 to 100
   * @param currentStep how many steps have completed
   * @param currentStepName the first running step, or null
   * @param steps every step, in definition order
   * @param finalResultJson its result, once completed
   * @param errorMessage why it failed, once failed
   */
  public record Decided(ExecutionStatus status, BigDecimal totalCost, int progress, int currentStep,
      @Nullable String currentStepName, List<StepSnapshot> steps, @Nullable String finalResultJson,
      @Nullable String errorMessage) {}

  /** One execution, locked in a transaction that is open while the engine decides for it. */
  public static final class Locked {
    private final DSLContext tx;
    private final StoredExecution execution;
    private final OffsetDateTime now;
    private final IssuedReceipts issued;

    private Locked(DSLContext tx, StoredExecution execution, OffsetDateTime now, IssuedReceipts issued) {
      this.tx = tx;
      this.execution = execution;
      this.now = now;
      this.issued = issued;
    }

    /** The execution as it was when locked. */
    public StoredExecution execution() {
      return execution;
    }

    /** When it was locked: the time its decision is made at. */
    public OffsetDateTime now() {
      return now;
    }

    /** Its workflow's definition, as written. */
    public String definition() {
      return tx.select(WORKFLOW.DEFINITION).from(WORKFLOW)
          .where(WORKFLOW.WORKFLOW_ID.eq(execution.workflowId()))
          .fetchSingle(Record1::value1);
    }

    /** Its step jobs, with the prices their receipts state. */
    public List<StepJobRow> jobs() {
      return tx.select(JOB.JOB_ID, JOB.REQUEST_ID, JOB.STATE, JOB.ERROR, RECEIPT.PRICE, JOB.CREATED_AT,
              JOB.FINISHED_AT)
          .from(JOB)
          // The job's own receipt: its payments' receipts name the job too.
          .leftJoin(RECEIPT).on(RECEIPT.JOB_ID.eq(JOB.JOB_ID), RECEIPT.PAYMENT_ID.isNull())
          .where(JOB.EXECUTION_ID.eq(execution.executionId()))
          .fetch(r -> new StepJobRow(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(), r.value6(),
              r.value7()));
    }

    /** The results (JSON objects, or null when a job has none) of these jobs. */
    public Map<UUID, @Nullable String> results(Collection<UUID> jobIds) {
      Map<UUID, @Nullable String> out = new HashMap<>();
      tx.select(JOB.JOB_ID, JOB.RESULT).from(JOB).where(JOB.JOB_ID.in(jobIds))
          .forEach(r -> out.put(r.value1(), JobMapper.text(r.value2())));
      return out;
    }

    /**
     * Saves a decision when it differs from what is stored. An execution that ends also gets its
     * receipt (listing its step jobs as they stand now) and a wake-up, whose handling cancels its
     * unfinished step jobs (after this commits).
     */
    public void save(Decided d) {
      StoredExecution e = execution;
      boolean same = d.status() == e.status() && d.totalCost().compareTo(e.totalCost()) == 0
          && d.progress() == e.progress() && d.currentStep() == e.currentStep()
          && Objects.equals(d.currentStepName(), e.currentStepName()) && d.steps().equals(e.steps())
          && d.finalResultJson() == null && d.errorMessage() == null;
      if (same) {
        return;
      }
      boolean ends = d.status() != ExecutionStatus.pending && d.status() != ExecutionStatus.running;
      var update = tx.update(EXECUTION)
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
          .set(EXECUTION.UPDATED_AT, now);
      update.where(EXECUTION.EXECUTION_ID.eq(e.executionId())).execute();
      if (ends) {
        ExecutionStore.wake(tx, e.executionId(), now);
        issued.executionEnded(tx, tx.selectFrom(EXECUTION).where(EXECUTION.EXECUTION_ID.eq(e.executionId()))
            .fetchSingle(ExecutionStore::toExecution));
      }
    }

    /** Wakes the execution again at {@code due} (a step job's submission was put off until then). */
    public void wakeAt(OffsetDateTime due) {
      ExecutionStore.wake(tx, execution.executionId(), due);
    }
  }
}
