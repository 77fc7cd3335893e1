package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static org.jooq.impl.DSL.min;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jooq.DSLContext;
import org.jooq.Record1;
import org.jspecify.annotations.Nullable;

/**
 * What the workflow engine reads and writes: due wake-ups, executions past their deadline, and
 * executions under their row locks, so that two coordinators (or a coordinator's engine and the
 * transaction that recorded a step's outcome) never decide for the same execution at once. An
 * execution is decided for either in a transaction of its own ({@link #advance}) or in the
 * transaction of the write that woke it ({@link #advanceWithin}); one that ends gets its receipt there.
 */
public final class EngineStore {
  private final DSLContext dsl;
  private final @Nullable ReceiptMaker receipts;

  /** A store over this database; executions it ends get receipts when a {@code receipts} maker is given. */
  public EngineStore(DSLContext dsl, @Nullable ReceiptMaker receipts) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.receipts = receipts;
  }

  /**
   * Decides for one locked execution in the transaction of the write that woke it.
   */
  @FunctionalInterface
  public interface Decide {
    /** Decides for {@code locked}; false when it wrote nothing and left it to the engine (its wake-ups stay). */
    boolean decide(LockedExecution locked);
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
   * Runs {@code work} on the execution under its row lock, then inserts the step jobs it asked for,
   * deletes the wake-ups that were due when it was locked, stores the receipt of an execution it
   * ended (last, as every issuing transaction does), and commits. False, doing nothing, when another
   * transaction holds it (its wake-ups stay for the next pass) or there is no such execution.
   */
  public boolean advance(UUID executionId, Consumer<LockedExecution> work) {
    Effects effects = new Effects();
    boolean advanced;
    try {
      advanced = Database.transaction(dsl, tx -> {
        IssuedReceipts issued = new IssuedReceipts(receipts);
        LockedExecution.Batch batch = new LockedExecution.Batch(tx, JobStore.now(), issued, effects);
        List<LockedExecution> locked = batch.lock(List.of(executionId), true);
        if (locked.isEmpty()) {
          return false;
        }
        work.accept(locked.getFirst());
        batch.finish(locked);
        issued.store(tx);
        return true;
      });
    } catch (RuntimeException e) {
      effects.rolledBack();
      throw e;
    }
    effects.committed();
    return advanced;
  }

  /**
   * In the caller's transaction {@code tx}: locks those of {@code executionIds} that no other
   * transaction holds, has {@code decide} decide for each, inserts the step jobs those decisions
   * asked for (in one statement), saves the decisions (in another) and deletes the due wake-ups of
   * the executions decided for. Their receipts go to {@code issued}, what is left to do after the
   * commit to {@code effects}. {@code fresh}: the executions were inserted in {@code tx}, so they
   * have no step jobs to read yet. A failure fails the caller's transaction: the caller tries its
   * own writes again without this (the wake-ups then stay for the engine). Returns the executions
   * decided for.
   */
  static List<LockedExecution> advanceWithin(DSLContext tx, Collection<UUID> executionIds, boolean fresh,
      IssuedReceipts issued, Effects effects, Decide decide) {
    if (executionIds.isEmpty()) {
      return List.of();
    }
    LockedExecution.Batch batch = new LockedExecution.Batch(tx, JobStore.now(), issued, effects);
    List<LockedExecution> decided = new ArrayList<>();
    for (LockedExecution l : batch.lock(executionIds, !fresh)) {
      if (decide.decide(l)) {
        decided.add(l);
      }
    }
    batch.finish(decided);
    return decided;
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
   * @param jobsMayRun whether any of its step jobs may still be queued or running: an execution that
   *     ends then gets a wake-up, whose handling cancels them
   */
  public record Decided(ExecutionStatus status, java.math.BigDecimal totalCost, int progress, int currentStep,
      @Nullable String currentStepName, List<StepSnapshot> steps, @Nullable String finalResultJson,
      @Nullable String errorMessage, boolean jobsMayRun) {}
}
