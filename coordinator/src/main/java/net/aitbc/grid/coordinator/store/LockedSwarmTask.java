package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.SWARM_TASK;
import static net.aitbc.grid.db.Tables.SWARM_TASK_MEMBER;
import static net.aitbc.grid.db.Tables.SWARM_WAKEUP;
import static org.jooq.impl.DSL.array;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.function;
import static org.jooq.impl.DSL.greatest;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.val;

import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.SwarmEngineStore.Decided;
import net.aitbc.grid.coordinator.store.SwarmEngineStore.Vote;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.JSONB;
import org.jooq.Query;
import org.jooq.Record;
import org.jooq.Record1;
import org.jspecify.annotations.Nullable;

/**
 * One swarm task, locked in a transaction that is open while the engine decides for it: the
 * engine's own, or the one of the write that woke it (its start, a member's outcome). What a
 * decision writes beyond new member jobs (member rows, votes, reputations, latencies, where the task
 * stands) waits for the end of the transaction's decisions, so that tasks decided together lock the
 * reputations they move in one worker order, and goes in few round trips.
 */
public final class LockedSwarmTask {
  /** The SQLSTATE of a lock not taken within the lock timeout. */
  private static final String LOCK_NOT_AVAILABLE = "55P03";

  private final Batch batch;
  private final StoredSwarmTask task;
  private final List<Long> wakeups;
  private final boolean fresh;
  private StoredSwarmTask current;
  private @Nullable Decided saved;
  // The latest end of a member job read: a task never ends before the results it was decided on.
  private OffsetDateTime lastFinished = OffsetDateTime.MIN;

  private LockedSwarmTask(Batch batch, StoredSwarmTask task, List<Long> wakeups, boolean fresh) {
    this.batch = batch;
    this.task = task;
    this.current = task;
    this.wakeups = wakeups;
    this.fresh = fresh;
  }

  /** Whether {@code e} is a lock not taken within the transaction's lock timeout. */
  static boolean lockNotTaken(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof SQLException s && LOCK_NOT_AVAILABLE.equals(s.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  /**
   * A new member job for the deciding transaction to insert, and what to do once that transaction
   * has committed (with the job as stored) or not.
   */
  public interface NewMemberJob {
    /** The job, admitted and tagged (and maybe placed) already. */
    NewJob job();

    /** The transaction committed it. */
    void committed(Submitted stored);

    /** The transaction did not commit it. */
    void abandoned();
  }

  /** The task as it was when locked. */
  public StoredSwarmTask task() {
    return task;
  }

  /** The task as this transaction has left it (once its decisions are written). */
  StoredSwarmTask current() {
    return current;
  }

  /** When it was locked: the time its decision is made at. */
  public OffsetDateTime now() {
    return batch.now;
  }

  /** Its member jobs, by slot then replacement. */
  public List<SwarmMemberJob> members() {
    List<SwarmMemberJob> members = fresh ? List.of() : SwarmTaskStore.members(batch.tx, task.taskId());
    for (SwarmMemberJob m : members) {
      if (m.finishedAt() != null && m.finishedAt().isAfter(lastFinished)) {
        lastFinished = m.finishedAt();
      }
    }
    return members;
  }

  /** The results (JSON objects, or null) of these jobs. */
  public Map<UUID, @Nullable String> results(Collection<UUID> jobIds) {
    return SwarmTaskStore.results(batch.tx, jobIds);
  }

  /**
   * How long a slot whose member job ended without a result waits for another capable worker to
   * connect before it is given up (the lease: a worker that restarts, or all of them after a
   * coordinator restart, are back within it).
   */
  public Duration grace() {
    return batch.pinGrace;
  }

  /** The worker a member job is pinned to, or null when there is no such job. */
  public @Nullable String pinnedWorker(UUID jobId) {
    return batch.tx.select(JOB.PINNED_WORKER_ID).from(JOB).where(JOB.JOB_ID.eq(jobId)).fetchOne(Record1::value1);
  }

  /** Whether a queued member job waits for a worker that has had no open session for the grace. */
  public boolean stranded(SwarmMemberJob m) {
    return m.state() == JobState.QUEUED && !m.createdAt().isAfter(batch.now.minus(batch.pinGrace))
        && !SwarmStore.live(batch.tx, m.workerId(), batch.now);
  }

  /**
   * Inserts these member jobs of the task now (one statement); each hears whether the transaction
   * committed them. Record their member rows with {@link #addMember}.
   */
  public void insert(List<? extends NewMemberJob> jobs) {
    List<NewJob> rows = new ArrayList<>(jobs.size());
    for (NewMemberJob j : jobs) {
      NewJob job = j.job();
      if (job.payment() != null || job.pin() == null || !job.pin().swarmTaskId().equals(task.taskId())) {
        throw new IllegalArgumentException("job " + job.jobId() + " is no unpaid member job of this task");
      }
      batch.effects.afterRollback(j::abandoned);
      rows.add(job);
    }
    if (rows.isEmpty()) {
      return;
    }
    OffsetDateTime at = JobStore.now();
    Set<UUID> in = new HashSet<>(JobRows.store(batch.tx, rows, at, Map.of()));
    if (in.size() != rows.size()) {
      // Under the task's lock, only an earlier decision could have made one (its request id).
      throw new IllegalStateException((rows.size() - in.size()) + " of " + rows.size()
          + " member jobs were there already");
    }
    for (NewMemberJob j : jobs) {
      Submitted stored = JobStore.inserted(j.job(), at, null);
      batch.effects.afterCommit(() -> j.committed(stored));
    }
  }

  /**
   * Records a member job made for a slot (a retry of the same slot and replacement changes nothing),
   * with the decision.
   */
  public void addMember(int slot, int replacement, UUID jobId, String workerId, String ownerId,
      @Nullable Integer partFrom, @Nullable Integer partTo) {
    batch.members.add(batch.tx.insertInto(SWARM_TASK_MEMBER)
        .set(SWARM_TASK_MEMBER.TASK_ID, task.taskId())
        .set(SWARM_TASK_MEMBER.SLOT, (short) slot)
        .set(SWARM_TASK_MEMBER.REPLACEMENT, (short) replacement)
        .set(SWARM_TASK_MEMBER.JOB_ID, jobId)
        .set(SWARM_TASK_MEMBER.WORKER_ID, workerId)
        .set(SWARM_TASK_MEMBER.OWNER_ID, ownerId)
        .set(SWARM_TASK_MEMBER.PART_FROM, partFrom)
        .set(SWARM_TASK_MEMBER.PART_TO, partTo)
        .set(SWARM_TASK_MEMBER.CREATED_AT, batch.now)
        .onConflictDoNothing());
  }

  /** Records how a decision judged each member's result (written with the decision). */
  public void votes(List<Vote> votes) {
    for (Vote v : votes) {
      batch.pending.add(batch.tx.update(SWARM_TASK_MEMBER)
          .set(SWARM_TASK_MEMBER.RESULT_SHA256, v.resultSha256())
          .set(SWARM_TASK_MEMBER.GROUP_NO, (short) v.groupNo())
          .set(SWARM_TASK_MEMBER.VOTE, v.vote())
          .where(SWARM_TASK_MEMBER.TASK_ID.eq(task.taskId()), SWARM_TASK_MEMBER.JOB_ID.eq(v.jobId())));
    }
  }

  /**
   * Moves a worker's reputation after an accepted consensus: up by {@link SwarmEngineStore#GAIN} of
   * what it lacks of 1 when it agreed, down by {@link SwarmEngineStore#LOSS} of it when it dissented
   * (written with the decision). One statement, so that tasks decided at once on other coordinators
   * add up.
   */
  public void judged(String workerId, String ownerId, boolean agreed) {
    batch.byWorker.computeIfAbsent(workerId, w -> new ArrayList<>())
        .add(Reputations.judged(batch.tx, workerId, ownerId, agreed, batch.now));
  }

  /**
   * Folds a member job's run time into its worker's measured latency, a moving average (written with
   * the decision).
   */
  public void ran(String workerId, String ownerId, long runMs) {
    batch.byWorker.computeIfAbsent(workerId, w -> new ArrayList<>())
        .add(Reputations.ran(batch.tx, workerId, ownerId, runMs, batch.now));
  }

  /**
   * Saves a decision when it differs from what is stored (written at the end of the transaction's
   * decisions). A task that ends also gets its receipt and a wake-up, whose handling cancels its
   * unfinished member jobs (after this commits).
   */
  public void save(Decided d) {
    StoredSwarmTask t = task;
    boolean same = d.status() == t.status() && d.progress() == t.progress()
        && Objects.equals(d.leaderWorkerId(), t.leaderWorkerId()) && Objects.equals(d.leaderRule(), t.leaderRule())
        && d.resultJson() == null && d.decisionJson() == null && d.errorMessage() == null;
    saved = same ? null : d;
  }

  /** Wakes the task again at {@code due} (a member job's submission was put off until then). */
  public void wakeAt(OffsetDateTime due) {
    SwarmTaskStore.wake(batch.tx, task.taskId(), due);
  }

  /**
   * The task's jobs that are queued or running, found by the task they name: with those of a pass
   * that made them and did not commit its member rows.
   */
  public List<UUID> unfinishedJobs() {
    return batch.tx.select(JOB.JOB_ID).from(JOB)
        .where(JOB.SWARM_TASK_ID.eq(task.taskId()), JOB.STATE.in(JobState.QUEUED, JobState.RUNNING))
        .fetch(Record1::value1);
  }

  private void write(Decided d) {
    StoredSwarmTask t = task;
    boolean ends = d.status() != ExecutionStatus.pending && d.status() != ExecutionStatus.running;
    DSLContext tx = batch.tx;
    current = tx.update(SWARM_TASK)
        .set(SWARM_TASK.STATUS, d.status())
        .set(SWARM_TASK.PROGRESS, (short) d.progress())
        .set(SWARM_TASK.LEADER_WORKER_ID, d.leaderWorkerId())
        .set(SWARM_TASK.LEADER_RULE, d.leaderRule())
        .set(SWARM_TASK.RESULT, d.resultJson() == null ? null : JSONB.valueOf(d.resultJson()))
        .set(SWARM_TASK.RESULT_SHA256, d.resultSha256())
        .set(SWARM_TASK.CONSENSUS_REACHED, d.consensusReached())
        .set(SWARM_TASK.DECISION, d.decisionJson() == null ? null : JSONB.valueOf(d.decisionJson()))
        .set(SWARM_TASK.ERROR_MESSAGE, d.errorMessage())
        .set(SWARM_TASK.STARTED_AT, t.startedAt() != null || d.status() == ExecutionStatus.pending ? t.startedAt()
            : batch.now)
        .set(SWARM_TASK.ENDED_AT, ends ? (lastFinished.isAfter(batch.now) ? lastFinished : batch.now) : null)
        .set(SWARM_TASK.UPDATED_AT, batch.now)
        .where(SWARM_TASK.TASK_ID.eq(t.taskId()))
        .returning()
        .fetchSingle(SwarmTaskStore::toTask);
    if (ends) {
      SwarmTaskStore.wake(tx, t.taskId(), batch.now);
      current = batch.issued.swarmTaskEnded(tx, current);
    }
  }

  /** What one transaction locks and decides for, and what its decisions leave to write at the end. */
  static final class Batch {
    private final DSLContext tx;
    private final OffsetDateTime now;
    private final IssuedReceipts issued;
    private final Effects effects;
    private final Duration pinGrace;
    // Member rows, votes, then reputations and latencies by worker id (so that tasks deciding at
    // once, here or on other coordinators, lock the same rows in the same order), in one round trip.
    private final List<Query> members = new ArrayList<>();
    private final List<Query> pending = new ArrayList<>();
    private final SortedMap<String, List<Query>> byWorker = new TreeMap<>();

    Batch(DSLContext tx, OffsetDateTime now, IssuedReceipts issued, Effects effects, Duration pinGrace) {
      this.tx = tx;
      this.now = now;
      this.issued = issued;
      this.effects = effects;
      this.pinGrace = pinGrace;
    }

    /**
     * Locks those of these tasks that no other transaction holds (never waiting for one), with their
     * due wake-ups, in one statement.
     */
    List<LockedSwarmTask> lock(Collection<UUID> taskIds) {
      return locked(tx.select(SWARM_TASK.fields()).select(due())
          .from(SWARM_TASK)
          .where(SWARM_TASK.TASK_ID.in(new HashSet<>(taskIds)))
          .forNoKeyUpdate().of(SWARM_TASK)
          .skipLocked()
          .fetch());
    }

    /**
     * Locks the task once no other transaction holds it, if it is unfinished then, waiting up to
     * {@code wait} (this transaction's lock timeout from here on), with its due wake-ups.
     */
    List<LockedSwarmTask> lockWaiting(UUID taskId, Duration wait) {
      tx.select(function("set_config", String.class, inline("lock_timeout"), inline(wait.toMillis() + "ms"),
          inline(true))).fetch();
      return locked(tx.select(SWARM_TASK.fields()).select(due())
          .from(SWARM_TASK)
          .where(SWARM_TASK.TASK_ID.eq(taskId), SWARM_TASK.STATUS.in(SwarmTaskStore.UNFINISHED))
          .forNoKeyUpdate().of(SWARM_TASK)
          .fetch());
    }

    // Due by this coordinator's clock or the database's: a wake-up this very transaction wrote (a
    // trigger's) is stamped with the database's time.
    private Field<Long[]> due() {
      return array(select(SWARM_WAKEUP.WAKEUP_ID).from(SWARM_WAKEUP)
          .where(SWARM_WAKEUP.TASK_ID.eq(SWARM_TASK.TASK_ID),
              SWARM_WAKEUP.DUE_AT.le(greatest(val(now), currentOffsetDateTime())))).as("due_wakeups");
    }

    private List<LockedSwarmTask> locked(List<? extends Record> rows) {
      List<LockedSwarmTask> out = new ArrayList<>(rows.size());
      for (Record r : rows) {
        out.add(new LockedSwarmTask(this, SwarmTaskStore.toTask(r.into(SWARM_TASK)),
            Arrays.asList(r.get("due_wakeups", Long[].class)), false));
      }
      return out;
    }

    /** A task this transaction has just inserted: it holds it, and it has no wake-ups yet. */
    LockedSwarmTask inserted(StoredSwarmTask task) {
      return new LockedSwarmTask(this, task, List.of(), true);
    }

    /**
     * Writes what the decisions of {@code decided} left: member rows, votes and reputations in one
     * round trip, then where each task stands (with the wake-ups and receipts of those that ended),
     * and deletes the wake-ups that were due when they were locked.
     */
    void finish(List<LockedSwarmTask> decided) {
      pending.addAll(0, members);
      members.clear();
      byWorker.values().forEach(pending::addAll);
      byWorker.clear();
      if (pending.size() == 1) {
        pending.getFirst().execute();
      } else if (!pending.isEmpty()) {
        tx.batch(pending).execute();
      }
      pending.clear();
      List<Long> done = new ArrayList<>();
      for (LockedSwarmTask l : decided) {
        if (l.saved != null) {
          l.write(l.saved);
          l.saved = null;
        }
        done.addAll(l.wakeups);
      }
      if (!done.isEmpty()) {
        tx.deleteFrom(SWARM_WAKEUP).where(SWARM_WAKEUP.WAKEUP_ID.in(done)).execute();
      }
    }
  }
}
