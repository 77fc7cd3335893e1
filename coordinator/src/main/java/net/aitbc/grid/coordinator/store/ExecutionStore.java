package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.tables.records.ExecutionRecord;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jspecify.annotations.Nullable;

/**
 * Executions as their clients see them: started, read, listed and cancelled. What the engine does
 * with them is {@link EngineStore}'s. Starting and cancelling each record a wake-up in the same
 * transaction, so that the engine acts on them even if this coordinator stops right after (unless
 * the start decided for the execution itself, {@link #startAll}); a cancel also issues the
 * execution's receipt there (when a maker is given).
 */
public final class ExecutionStore {
  static final List<ExecutionStatus> UNFINISHED = List.of(ExecutionStatus.pending, ExecutionStatus.running);

  private final DSLContext dsl;
  private final @Nullable ReceiptMaker receipts;

  /** A store over this database; executions it cancels get receipts when a {@code receipts} maker is given. */
  public ExecutionStore(DSLContext dsl, @Nullable ReceiptMaker receipts) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.receipts = receipts;
  }

  /**
   * An execution started, or found started.
   *
   * @param execution the execution
   * @param existing true when its request id named an execution started before
   */
  public record Started(StoredExecution execution, boolean existing) {}

  /** Stores a pending execution and its first wake-up; a retry with the same request id returns the first. */
  public Started start(NewExecution e) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> start(tx, e, now));
  }

  /**
   * Starts executions in one transaction, as {@link #start(NewExecution)} does each (in two
   * statements for the lot), and, with {@code decide}, decides for the new ones in it
   * ({@link EngineStore#advanceWithin}): their first step jobs commit with them, and only those not
   * decided for get a wake-up. Answers each in
   * order, as it stands after that; what is left to do once the transaction has committed, or rolled
   * back, goes to {@code effects}, which the caller runs. When deciding fails, the caller starts them
   * again without {@code decide}.
   */
  public List<Started> startAll(List<NewExecution> executions, EngineStore.@Nullable Decide decide, Effects effects) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      Map<UUID, StoredExecution> inserted = insertAll(tx, executions, now);
      Map<UUID, StoredExecution> decided = new HashMap<>();
      if (!inserted.isEmpty()) {
        if (decide != null) {
          IssuedReceipts issued = new IssuedReceipts(receipts);
          for (LockedExecution l : EngineStore.advanceWithin(tx, inserted.keySet(), true, issued, effects, decide)) {
            decided.put(l.execution().executionId(), l.current());
          }
          issued.store(tx);
        }
        // Only those not decided for here need the engine: their wake-ups commit with them.
        List<UUID> undecided = inserted.keySet().stream().filter(id -> !decided.containsKey(id)).toList();
        if (!undecided.isEmpty()) {
          wakeAll(tx, undecided, now);
        }
      }
      List<Started> out = new ArrayList<>(executions.size());
      for (NewExecution e : executions) {
        StoredExecution mine = inserted.get(e.executionId());
        if (mine != null) {
          out.add(new Started(decided.getOrDefault(e.executionId(), mine), false));
        } else {
          // Its request id named an execution started before (or earlier in this batch).
          out.add(new Started(tx.selectFrom(EXECUTION)
              .where(EXECUTION.CLIENT_ID.eq(e.clientId()), EXECUTION.REQUEST_ID.eq(e.requestId()))
              .fetchSingle(ExecutionStore::toExecution), true));
        }
      }
      return out;
    });
  }

  /** Inserts the executions whose request ids are free, in one statement; returns those inserted, by id. */
  private static Map<UUID, StoredExecution> insertAll(DSLContext tx, List<NewExecution> executions,
      OffsetDateTime now) {
    var insert = tx.insertInto(EXECUTION, EXECUTION.EXECUTION_ID, EXECUTION.WORKFLOW_ID, EXECUTION.CLIENT_ID,
        EXECUTION.KEY_ID, EXECUTION.REQUEST_ID, EXECUTION.STATUS, EXECUTION.INPUTS, EXECUTION.PRIORITY,
        EXECUTION.VERIFICATION_LEVEL, EXECUTION.TIMEOUT_S, EXECUTION.DEADLINE, EXECUTION.MAX_COST_BUDGET,
        EXECUTION.TOTAL_COST, EXECUTION.PROGRESS, EXECUTION.CURRENT_STEP, EXECUTION.TOTAL_STEPS, EXECUTION.STEPS,
        EXECUTION.CREATED_AT, EXECUTION.UPDATED_AT);
    for (NewExecution e : executions) {
      insert = insert.values(e.executionId(), e.workflowId(), e.clientId(), e.keyId(), e.requestId(),
          ExecutionStatus.pending, JSONB.valueOf(e.inputsJson()), (short) e.priority(), e.verificationLevel(),
          e.timeoutSeconds(), now.plusSeconds(e.timeoutSeconds()), e.maxCostBudget(), BigDecimal.ZERO, (short) 0, 0,
          e.steps().size(), Snapshots.write(e.steps()), now, now);
    }
    Map<UUID, StoredExecution> out = new HashMap<>();
    insert.onConflict(EXECUTION.CLIENT_ID, EXECUTION.REQUEST_ID).where(EXECUTION.REQUEST_ID.isNotNull())
        .doNothing()
        .returning()
        .fetch(ExecutionStore::toExecution)
        .forEach(e -> out.put(e.executionId(), e));
    return out;
  }

  /** {@link #start(NewExecution)} in the caller's transaction {@code tx}, at {@code now}. */
  static Started start(DSLContext tx, NewExecution e, OffsetDateTime now) {
    Optional<StoredExecution> inserted = tx.insertInto(EXECUTION)
        .set(EXECUTION.EXECUTION_ID, e.executionId())
        .set(EXECUTION.WORKFLOW_ID, e.workflowId())
        .set(EXECUTION.CLIENT_ID, e.clientId())
        .set(EXECUTION.KEY_ID, e.keyId())
        .set(EXECUTION.REQUEST_ID, e.requestId())
        .set(EXECUTION.STATUS, ExecutionStatus.pending)
        .set(EXECUTION.INPUTS, JSONB.valueOf(e.inputsJson()))
        .set(EXECUTION.PRIORITY, (short) e.priority())
        .set(EXECUTION.VERIFICATION_LEVEL, e.verificationLevel())
        .set(EXECUTION.TIMEOUT_S, e.timeoutSeconds())
        .set(EXECUTION.DEADLINE, now.plusSeconds(e.timeoutSeconds()))
        .set(EXECUTION.MAX_COST_BUDGET, e.maxCostBudget())
        .set(EXECUTION.TOTAL_COST, BigDecimal.ZERO)
        .set(EXECUTION.PROGRESS, (short) 0)
        .set(EXECUTION.CURRENT_STEP, 0)
        .set(EXECUTION.TOTAL_STEPS, e.steps().size())
        .set(EXECUTION.STEPS, Snapshots.write(e.steps()))
        .set(EXECUTION.CREATED_AT, now)
        .set(EXECUTION.UPDATED_AT, now)
        .onConflict(EXECUTION.CLIENT_ID, EXECUTION.REQUEST_ID).where(EXECUTION.REQUEST_ID.isNotNull())
        .doNothing()
        .returning()
        .fetchOptional(ExecutionStore::toExecution);
    if (inserted.isPresent()) {
      wake(tx, e.executionId(), now);
      return new Started(inserted.get(), false);
    }
    return new Started(tx.selectFrom(EXECUTION)
        .where(EXECUTION.CLIENT_ID.eq(e.clientId()), EXECUTION.REQUEST_ID.eq(e.requestId()))
        .fetchSingle(ExecutionStore::toExecution), true);
  }

  /** A client's execution. */
  public Optional<StoredExecution> find(UUID executionId, String clientId) {
    return dsl.selectFrom(EXECUTION)
        .where(EXECUTION.EXECUTION_ID.eq(executionId), EXECUTION.CLIENT_ID.eq(clientId))
        .fetchOptional(ExecutionStore::toExecution);
  }

  /** A page of a client's executions, newest first; null filters nothing. */
  public List<StoredExecution> list(String clientId, @Nullable UUID workflowId, @Nullable ExecutionStatus status,
      int offset, int limit) {
    Condition where = EXECUTION.CLIENT_ID.eq(clientId);
    if (workflowId != null) {
      where = where.and(EXECUTION.WORKFLOW_ID.eq(workflowId));
    }
    if (status != null) {
      where = where.and(EXECUTION.STATUS.eq(status));
    }
    return dsl.selectFrom(EXECUTION)
        .where(where)
        .orderBy(EXECUTION.CREATED_AT.desc(), EXECUTION.EXECUTION_ID.desc())
        .offset(offset)
        .limit(limit)
        .fetch(ExecutionStore::toExecution);
  }

  /**
   * The outcome of a cancel.
   *
   * @param execution the execution after it
   * @param changed false when it had already ended
   */
  public record Cancelled(StoredExecution execution, boolean changed) {}

  /**
   * Cancels a client's unfinished execution, with {@code reason}; its wake-up has the engine cancel
   * its unfinished step jobs. Its receipt lists the step jobs as they stand now (the unfinished ones
   * are canceled after). Empty when the client has no such execution.
   */
  public Optional<Cancelled> cancel(UUID executionId, String clientId, String reason) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      Optional<StoredExecution> found = tx.selectFrom(EXECUTION)
          .where(EXECUTION.EXECUTION_ID.eq(executionId), EXECUTION.CLIENT_ID.eq(clientId))
          .forNoKeyUpdate()
          .fetchOptional(ExecutionStore::toExecution);
      if (found.isEmpty() || found.get().ended()) {
        return found.map(e -> new Cancelled(e, false));
      }
      List<StepSnapshot> steps = found.get().steps().stream().map(StepSnapshot::endedWithExecution).toList();
      StoredExecution cancelled = tx.update(EXECUTION)
          .set(EXECUTION.STATUS, ExecutionStatus.cancelled)
          .set(EXECUTION.ERROR_MESSAGE, reason)
          .set(EXECUTION.STEPS, Snapshots.write(steps))
          .set(EXECUTION.CURRENT_STEP_NAME, (String) null)
          .set(EXECUTION.ENDED_AT, now)
          .set(EXECUTION.UPDATED_AT, now)
          .where(EXECUTION.EXECUTION_ID.eq(executionId))
          .returning()
          .fetchSingle(ExecutionStore::toExecution);
      wake(tx, executionId, now);
      IssuedReceipts issued = new IssuedReceipts(receipts);
      StoredExecution withReceipt = issued.executionEnded(tx, cancelled);
      issued.store(tx);
      return Optional.of(new Cancelled(withReceipt, true));
    });
  }

  /** Records a wake-up of an execution, due at {@code due}. */
  static void wake(DSLContext tx, UUID executionId, OffsetDateTime due) {
    tx.insertInto(EXECUTION_WAKEUP, EXECUTION_WAKEUP.EXECUTION_ID, EXECUTION_WAKEUP.DUE_AT)
        .values(executionId, due)
        .execute();
  }

  /** Records a wake-up of each of these executions, due at {@code due}, in one statement. */
  static void wakeAll(DSLContext tx, Collection<UUID> executionIds, OffsetDateTime due) {
    var insert = tx.insertInto(EXECUTION_WAKEUP, EXECUTION_WAKEUP.EXECUTION_ID, EXECUTION_WAKEUP.DUE_AT);
    for (UUID id : executionIds) {
      insert = insert.values(id, due);
    }
    insert.execute();
  }

  static StoredExecution toExecution(ExecutionRecord r) {
    return new StoredExecution(r.getExecutionId(), r.getWorkflowId(), r.getClientId(), r.getKeyId(), r.getStatus(),
        r.getInputs().data(), r.getPriority(), r.getVerificationLevel(), r.getTimeoutS(), r.getDeadline(),
        r.getMaxCostBudget(), r.getTotalCost(), r.getProgress(), r.getCurrentStep(), r.getTotalSteps(),
        r.getCurrentStepName(), Snapshots.read(r.getSteps()), JobMapper.text(r.getFinalResult()), r.getErrorMessage(),
        r.getCreatedAt(), r.getStartedAt(), r.getEndedAt(), r.getReceiptId());
  }
}
