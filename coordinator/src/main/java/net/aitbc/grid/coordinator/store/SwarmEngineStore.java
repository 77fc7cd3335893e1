package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.SWARM_TASK;
import static net.aitbc.grid.db.Tables.SWARM_WAKEUP;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.min;
import static org.jooq.impl.DSL.notExists;
import static org.jooq.impl.DSL.selectOne;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.DSLContext;
import org.jooq.Record1;
import org.jspecify.annotations.Nullable;

/**
 * What the swarm engine reads and writes: due wake-ups, tasks past their deadline or waiting on a
 * worker that has gone, and tasks under their row locks ({@link LockedSwarmTask}), so that two
 * coordinators (or a coordinator's engine and the transaction that recorded a member's outcome)
 * never decide for the same task at once. A task is decided for either in a transaction of its own
 * ({@link #advance}) or in the transaction of the write that woke it: its start ({@link #start}), a
 * member's outcome ({@link Within}). A decision's votes and the reputations it moves are written in
 * the transaction that records it; a task that ends gets its receipt there too.
 */
public final class SwarmEngineStore {
  /** What agreeing with an accepted consensus adds: this share of what the reputation lacks of 1. */
  public static final BigDecimal GAIN = new BigDecimal("0.1");
  /** What dissenting from one takes: this share of the reputation. */
  public static final BigDecimal LOSS = new BigDecimal("0.3");

  private final DSLContext dsl;
  private final @Nullable ReceiptMaker receipts;
  private final Duration pinGrace;

  /**
   * A store over this database; tasks it ends get receipts when a {@code receipts} maker is given. A
   * queued member job whose worker has had no session for {@code pinGrace} is reported as stranded.
   */
  public SwarmEngineStore(DSLContext dsl, @Nullable ReceiptMaker receipts, Duration pinGrace) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.receipts = receipts;
    this.pinGrace = requireNonNull(pinGrace, "pinGrace");
  }

  /** Up to {@code limit} tasks with wake-ups due now, the longest waiting first. */
  public List<UUID> due(int limit) {
    return dsl.select(SWARM_WAKEUP.TASK_ID)
        .from(SWARM_WAKEUP)
        .where(SWARM_WAKEUP.DUE_AT.le(JobStore.now()))
        .groupBy(SWARM_WAKEUP.TASK_ID)
        .orderBy(min(SWARM_WAKEUP.DUE_AT))
        .limit(limit)
        .fetch(Record1::value1);
  }

  /**
   * Up to {@code limit} unfinished tasks past their deadline, then tasks with a queued member job
   * pinned to a worker that has had no open session for the grace (it went before taking the job).
   */
  public List<UUID> overdue(int limit) {
    OffsetDateTime now = JobStore.now();
    Set<UUID> out = new LinkedHashSet<>(dsl.select(SWARM_TASK.TASK_ID)
        .from(SWARM_TASK)
        .where(SWARM_TASK.STATUS.in(SwarmTaskStore.UNFINISHED), SWARM_TASK.DEADLINE.le(now))
        .orderBy(SWARM_TASK.DEADLINE)
        .limit(limit)
        .fetch(Record1::value1));
    out.addAll(dsl.selectDistinct(JOB.SWARM_TASK_ID)
        .from(JOB)
        .where(JOB.STATE.eq(inline(JobState.QUEUED)), JOB.PINNED_WORKER_ID.isNotNull(),
            JOB.SWARM_TASK_ID.isNotNull(), JOB.CREATED_AT.le(now.minus(pinGrace)),
            notExists(selectOne().from(WORKER_SESSION).where(WORKER_SESSION.WORKER_ID.eq(JOB.PINNED_WORKER_ID),
                WORKER_SESSION.CLOSED_AT.isNull(), WORKER_SESSION.LEASE_EXPIRES_AT.gt(now))))
        .limit(limit)
        .fetch(Record1::value1));
    return List.copyOf(out);
  }

  /**
   * Runs {@code work} on the task under its row lock, then writes what it decided, deletes the
   * wake-ups that were due when it was locked, stores the receipt of a task it ended, and commits.
   * False, doing nothing, when another transaction holds it or there is no such task.
   */
  public boolean advance(UUID taskId, Consumer<LockedSwarmTask> work) {
    Effects effects = new Effects();
    boolean advanced;
    try {
      advanced = Database.transaction(dsl, tx -> {
        IssuedReceipts issued = new IssuedReceipts(receipts);
        LockedSwarmTask.Batch batch = new LockedSwarmTask.Batch(tx, JobStore.now(), issued, effects, pinGrace);
        List<LockedSwarmTask> locked = batch.lock(List.of(taskId));
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
   * Decides for one locked task in the transaction of the write that woke it (or started it).
   */
  @FunctionalInterface
  public interface Decide {
    /** Decides for {@code locked}; false when it wrote nothing and left it to the engine (its wake-ups stay). */
    boolean decide(LockedSwarmTask locked);
  }

  /**
   * Stores a pending task and, with {@code decide}, decides for it in the same transaction (its
   * first member jobs commit with it); only a task not decided for gets a wake-up, for the engine.
   * A retry with the same request id returns the first task. What is left to do once the
   * transaction has committed, or rolled back, goes to {@code effects}, which the caller runs; when
   * deciding fails, the caller starts it again without {@code decide}.
   */
  public SwarmTaskStore.Started start(NewSwarmTask t, @Nullable Decide decide, Effects effects) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      SwarmTaskStore.Started started = SwarmTaskStore.insert(tx, t, now);
      if (started.existing()) {
        return started;
      }
      if (decide != null) {
        IssuedReceipts issued = new IssuedReceipts(receipts);
        LockedSwarmTask.Batch batch = new LockedSwarmTask.Batch(tx, now, issued, effects, pinGrace);
        LockedSwarmTask locked = batch.inserted(started.task());
        if (decide.decide(locked)) {
          batch.finish(List.of(locked));
          issued.store(tx);
          return new SwarmTaskStore.Started(locked.current(), false);
        }
      }
      SwarmTaskStore.wake(tx, t.taskId(), now);
      return started;
    });
  }

  /**
   * Decisions for swarm tasks made with {@code decide} in the transactions of the writes that woke
   * them; {@code held} hears, once such a transaction has committed, of the tasks it left because
   * another transaction held them.
   */
  public Within within(Decide decide, Consumer<Set<UUID>> held) {
    return new Within(requireNonNull(decide, "decide"), requireNonNull(held, "held"));
  }

  /** The engine's decisions, for a transaction that wakes swarm tasks (their members' outcomes) to make in it. */
  public final class Within {
    private final Decide decide;
    private final Consumer<Set<UUID>> held;

    private Within(Decide decide, Consumer<Set<UUID>> held) {
      this.decide = decide;
      this.held = held;
    }

    /**
     * In the caller's transaction {@code tx}, at {@code now}: locks those of {@code taskIds} that no
     * other transaction holds, decides for each, writes the decisions and deletes the due wake-ups of
     * the tasks decided for. Never waits for a task another transaction holds (a sibling member's
     * outcome committing side by side, the engine): that one is told to {@code held} after the
     * commit, and its wake-up stays. Receipts go to {@code issued}, what is left to do after the
     * commit to {@code effects}. A failure fails the caller's transaction: the caller tries its own
     * writes again without this (the wake-ups then stay for the engine).
     */
    void advance(DSLContext tx, Collection<UUID> taskIds, OffsetDateTime now, IssuedReceipts issued,
        Effects effects) {
      if (taskIds.isEmpty()) {
        return;
      }
      LockedSwarmTask.Batch batch = new LockedSwarmTask.Batch(tx, now, issued, effects, pinGrace);
      List<LockedSwarmTask> decided = new ArrayList<>();
      Set<UUID> others = new HashSet<>(taskIds);
      for (LockedSwarmTask l : batch.lock(taskIds)) {
        others.remove(l.task().taskId());
        if (decide.decide(l)) {
          decided.add(l);
        }
      }
      batch.finish(decided);
      if (!others.isEmpty()) {
        effects.afterCommit(() -> held.accept(others));
      }
    }
  }

  /**
   * Decides for an unfinished task with {@code decide} in a transaction of its own, waiting up to
   * {@code wait} for the transaction that holds it (a sibling member's outcome, which commits in
   * moments: this one holds nothing that any holder of a task waits for). False when it did not
   * decide (the task had ended, was held past the wait, or was left to the engine): its wake-ups stay.
   */
  public boolean decideWhenFree(UUID taskId, Decide decide, Duration wait) {
    Effects effects = new Effects();
    boolean decided;
    try {
      decided = Database.transaction(dsl, tx -> {
        IssuedReceipts issued = new IssuedReceipts(receipts);
        LockedSwarmTask.Batch batch = new LockedSwarmTask.Batch(tx, JobStore.now(), issued, effects, pinGrace);
        List<LockedSwarmTask> locked = batch.lockWaiting(taskId, wait);
        if (locked.isEmpty() || !decide.decide(locked.getFirst())) {
          return false;
        }
        batch.finish(locked);
        issued.store(tx);
        return true;
      });
    } catch (RuntimeException e) {
      effects.rolledBack();
      if (LockedSwarmTask.lockNotTaken(e)) {
        return false;
      }
      throw e;
    }
    effects.committed();
    return decided;
  }

  /**
   * What the engine decided for a task.
   *
   * @param status where it stands now
   * @param progress 0 to 100
   * @param leaderWorkerId the leader (leader election), or null
   * @param leaderRule why it leads, or null
   * @param resultJson its result, once completed
   * @param resultSha256 that result's hash
   * @param consensusReached the decision's answer (consensus), once decided
   * @param decisionJson the decision (consensus), once decided
   * @param errorMessage why it failed
   */
  public record Decided(ExecutionStatus status, int progress, @Nullable String leaderWorkerId,
      @Nullable String leaderRule, @Nullable String resultJson, @Nullable String resultSha256,
      @Nullable Boolean consensusReached, @Nullable String decisionJson, @Nullable String errorMessage) {}

  /**
   * One member's result as a decision judged it.
   *
   * @param jobId the member job
   * @param resultSha256 its result's hash
   * @param groupNo its group
   * @param vote "agree" or "dissent" with the largest group, or null when groups tie for largest
   */
  public record Vote(UUID jobId, String resultSha256, int groupNo, @Nullable String vote) {}
}
