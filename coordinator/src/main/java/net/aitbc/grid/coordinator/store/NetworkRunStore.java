package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.AGENT_NETWORK;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.NETWORK_RUN;
import static net.aitbc.grid.db.Tables.NETWORK_RUN_EXECUTION;
import static net.aitbc.grid.db.Tables.NETWORK_WAKEUP;
import static net.aitbc.grid.db.Tables.WORKFLOW;
import static org.jooq.impl.DSL.min;

import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.LinkedHashMap;
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
 * What the network engine reads and writes: due wake-ups, runs past their deadline, and one run at
 * a time under its row lock, so that two coordinators never decide for the same run at once, and a
 * run never makes an agent's execution twice.
 */
public final class NetworkRunStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public NetworkRunStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** Up to {@code limit} runs with wake-ups due now, the longest waiting first. */
  public List<UUID> due(int limit) {
    return dsl.select(NETWORK_WAKEUP.RUN_ID)
        .from(NETWORK_WAKEUP)
        .where(NETWORK_WAKEUP.DUE_AT.le(JobStore.now()))
        .groupBy(NETWORK_WAKEUP.RUN_ID)
        .orderBy(min(NETWORK_WAKEUP.DUE_AT))
        .limit(limit)
        .fetch(Record1::value1);
  }

  /** Up to {@code limit} unfinished runs whose deadline has passed. */
  public List<UUID> pastDeadline(int limit) {
    return dsl.select(NETWORK_RUN.RUN_ID)
        .from(NETWORK_RUN)
        .where(NETWORK_RUN.STATUS.in(ExecutionStore.UNFINISHED), NETWORK_RUN.DEADLINE.le(JobStore.now()))
        .orderBy(NETWORK_RUN.DEADLINE)
        .limit(limit)
        .fetch(Record1::value1);
  }

  /**
   * Runs {@code work} on the run under its row lock, then deletes the wake-ups that were due when it
   * was locked, and commits. False, doing nothing, when another transaction holds it (its wake-ups
   * stay for the next pass) or there is no such run.
   */
  public boolean advance(UUID runId, Consumer<Locked> work) {
    return Database.transaction(dsl, tx -> {
      OffsetDateTime now = JobStore.now();
      StoredNetworkRun run = tx.selectFrom(NETWORK_RUN)
          .where(NETWORK_RUN.RUN_ID.eq(runId))
          .forNoKeyUpdate()
          .skipLocked()
          .fetchOptional(NetworkStore::toRun)
          .orElse(null);
      if (run == null) {
        return false;
      }
      List<Long> wakeups = tx.select(NETWORK_WAKEUP.WAKEUP_ID).from(NETWORK_WAKEUP)
          .where(NETWORK_WAKEUP.RUN_ID.eq(runId), NETWORK_WAKEUP.DUE_AT.le(now))
          .fetch(Record1::value1);
      work.accept(new Locked(tx, run, now));
      if (!wakeups.isEmpty()) {
        tx.deleteFrom(NETWORK_WAKEUP).where(NETWORK_WAKEUP.WAKEUP_ID.in(wakeups)).execute();
      }
      return true;
    });
  }

  /** One run, locked in a transaction that is open while the engine decides for it. */
  public static final class Locked {
    private final DSLContext tx;
    private final StoredNetworkRun run;
    private final OffsetDateTime now;

    private Locked(DSLContext tx, StoredNetworkRun run, OffsetDateTime now) {
      this.tx = tx;
      this.run = run;
      this.now = now;
    }

    /** The run as it was when locked. */
    public StoredNetworkRun run() {
      return run;
    }

    /** When it was locked: the time its decision is made at. */
    public OffsetDateTime now() {
      return now;
    }

    /** Its network. */
    public StoredNetwork network() {
      return tx.selectFrom(AGENT_NETWORK)
          .where(AGENT_NETWORK.NETWORK_ID.eq(run.networkId()))
          .fetchSingle(NetworkStore::toNetwork);
    }

    /** These workflows, by id. */
    public Map<UUID, StoredWorkflow> workflows(Collection<UUID> ids) {
      Map<UUID, StoredWorkflow> out = new LinkedHashMap<>();
      tx.selectFrom(WORKFLOW).where(WORKFLOW.WORKFLOW_ID.in(ids))
          .forEach(r -> out.put(r.getWorkflowId(), WorkflowStore.toWorkflow(r)));
      return out;
    }

    /** The executions it has made, by slot. */
    public Map<Integer, StoredExecution> executions() {
      Map<Integer, StoredExecution> out = new LinkedHashMap<>();
      tx.select(NETWORK_RUN_EXECUTION.SLOT, EXECUTION.asterisk())
          .from(NETWORK_RUN_EXECUTION)
          .join(EXECUTION).on(EXECUTION.EXECUTION_ID.eq(NETWORK_RUN_EXECUTION.EXECUTION_ID))
          .where(NETWORK_RUN_EXECUTION.RUN_ID.eq(run.runId()))
          .orderBy(NETWORK_RUN_EXECUTION.SLOT)
          .forEach(r -> out.put((int) r.get(NETWORK_RUN_EXECUTION.SLOT),
              ExecutionStore.toExecution(r.into(EXECUTION))));
      return out;
    }

    /**
     * Starts an agent's execution in {@code slot} (with its first wake-up, so that the workflow
     * engine runs it once this commits). A slot that has one already fails the transaction.
     */
    public StoredExecution start(int slot, NewExecution execution) {
      StoredExecution started = ExecutionStore.start(tx, execution, now).execution();
      tx.insertInto(NETWORK_RUN_EXECUTION)
          .set(NETWORK_RUN_EXECUTION.RUN_ID, run.runId())
          .set(NETWORK_RUN_EXECUTION.SLOT, (short) slot)
          .set(NETWORK_RUN_EXECUTION.EXECUTION_ID, started.executionId())
          .execute();
      return started;
    }

    /**
     * Saves where the run stands when it differs from what is stored. A run that ends also gets a
     * wake-up, whose handling cancels its unfinished executions (after this commits).
     */
    public void save(ExecutionStatus status, @Nullable String resultJson, @Nullable String errorMessage) {
      if (status == run.status() && Objects.equals(resultJson, run.resultJson())
          && Objects.equals(errorMessage, run.errorMessage())) {
        return;
      }
      boolean ends = status != ExecutionStatus.pending && status != ExecutionStatus.running;
      tx.update(NETWORK_RUN)
          .set(NETWORK_RUN.STATUS, status)
          .set(NETWORK_RUN.RESULT, resultJson == null ? null : JSONB.valueOf(resultJson))
          .set(NETWORK_RUN.ERROR_MESSAGE, errorMessage)
          .set(NETWORK_RUN.ENDED_AT, ends ? now : null)
          .set(NETWORK_RUN.UPDATED_AT, now)
          .where(NETWORK_RUN.RUN_ID.eq(run.runId()))
          .execute();
      if (ends) {
        NetworkStore.wake(tx, run.runId(), now);
      }
    }
  }
}
