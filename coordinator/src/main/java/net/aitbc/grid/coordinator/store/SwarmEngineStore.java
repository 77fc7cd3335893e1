package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.SWARM_TASK;
import static net.aitbc.grid.db.Tables.SWARM_TASK_MEMBER;
import static net.aitbc.grid.db.Tables.SWARM_WAKEUP;
import static net.aitbc.grid.db.Tables.WORKER_REPUTATION;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record1;
import org.jspecify.annotations.Nullable;

/**
 * What the swarm engine reads and writes: due wake-ups, tasks past their deadline or waiting on a
 * worker that has gone, and one task at a time under its row lock, so that two coordinators never
 * decide for the same task at once. A decision's votes and the reputations it moves are written in
 * the transaction that records it; a task the engine ends gets its receipt there too.
 */
public final class SwarmEngineStore {
  /** What agreeing with an accepted consensus adds: this share of what the reputation lacks of 1. */
  public static final BigDecimal GAIN = new BigDecimal("0.1");
  /** What dissenting from one takes: this share of the reputation. */
  public static final BigDecimal LOSS = new BigDecimal("0.3");
  /** The weight of a new run time in the latency's moving average. */
  private static final BigDecimal LATENCY_WEIGHT = new BigDecimal("0.3");

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
   * Runs {@code work} on the task under its row lock, then deletes the wake-ups that were due when it
   * was locked, stores the receipt of a task it ended, and commits. False, doing nothing, when
   * another transaction holds it or there is no such task.
   */
  public boolean advance(UUID taskId, Consumer<Locked> work) {
    return Database.transaction(dsl, tx -> {
      OffsetDateTime now = JobStore.now();
      StoredSwarmTask task = tx.selectFrom(SWARM_TASK)
          .where(SWARM_TASK.TASK_ID.eq(taskId))
          .forNoKeyUpdate()
          .skipLocked()
          .fetchOptional(SwarmTaskStore::toTask)
          .orElse(null);
      if (task == null) {
        return false;
      }
      List<Long> wakeups = tx.select(SWARM_WAKEUP.WAKEUP_ID).from(SWARM_WAKEUP)
          .where(SWARM_WAKEUP.TASK_ID.eq(taskId), SWARM_WAKEUP.DUE_AT.le(now))
          .fetch(Record1::value1);
      IssuedReceipts issued = new IssuedReceipts(receipts);
      work.accept(new Locked(tx, task, now, issued, pinGrace));
      if (!wakeups.isEmpty()) {
        tx.deleteFrom(SWARM_WAKEUP).where(SWARM_WAKEUP.WAKEUP_ID.in(wakeups)).execute();
      }
      issued.store(tx);
      return true;
    });
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

  /** One task, locked in a transaction that is open while the engine decides for it. */
  public static final class Locked {
    private final DSLContext tx;
    private final StoredSwarmTask task;
    private final OffsetDateTime now;
    private final IssuedReceipts issued;
    private final Duration pinGrace;

    private Locked(DSLContext tx, StoredSwarmTask task, OffsetDateTime now, IssuedReceipts issued,
        Duration pinGrace) {
      this.tx = tx;
      this.task = task;
      this.now = now;
      this.issued = issued;
      this.pinGrace = pinGrace;
    }

    /** The task as it was when locked. */
    public StoredSwarmTask task() {
      return task;
    }

    /** When it was locked: the time its decision is made at. */
    public OffsetDateTime now() {
      return now;
    }

    /** Its member jobs, by slot then replacement. */
    public List<SwarmMemberJob> members() {
      return SwarmTaskStore.members(tx, task.taskId());
    }

    /** The results (JSON objects, or null) of these jobs. */
    public Map<UUID, @Nullable String> results(Collection<UUID> jobIds) {
      return SwarmTaskStore.results(tx, jobIds);
    }

    /** The worker a member job is pinned to, or null when there is no such job. */
    public @Nullable String pinnedWorker(UUID jobId) {
      return tx.select(JOB.PINNED_WORKER_ID).from(JOB).where(JOB.JOB_ID.eq(jobId)).fetchOne(Record1::value1);
    }

    /** Whether a queued member job waits for a worker that has had no open session for the grace. */
    public boolean stranded(SwarmMemberJob m) {
      return m.state() == JobState.QUEUED && !m.createdAt().isAfter(now.minus(pinGrace))
          && !SwarmStore.live(tx, m.workerId(), now);
    }

    /** Records a member job made for a slot (a retry of the same slot and replacement changes nothing). */
    public void addMember(int slot, int replacement, UUID jobId, String workerId, String ownerId,
        @Nullable Integer partFrom, @Nullable Integer partTo) {
      tx.insertInto(SWARM_TASK_MEMBER)
          .set(SWARM_TASK_MEMBER.TASK_ID, task.taskId())
          .set(SWARM_TASK_MEMBER.SLOT, (short) slot)
          .set(SWARM_TASK_MEMBER.REPLACEMENT, (short) replacement)
          .set(SWARM_TASK_MEMBER.JOB_ID, jobId)
          .set(SWARM_TASK_MEMBER.WORKER_ID, workerId)
          .set(SWARM_TASK_MEMBER.OWNER_ID, ownerId)
          .set(SWARM_TASK_MEMBER.PART_FROM, partFrom)
          .set(SWARM_TASK_MEMBER.PART_TO, partTo)
          .set(SWARM_TASK_MEMBER.CREATED_AT, now)
          .onConflictDoNothing()
          .execute();
    }

    /** Records how a decision judged each member's result. */
    public void votes(List<Vote> votes) {
      for (Vote v : votes) {
        tx.update(SWARM_TASK_MEMBER)
            .set(SWARM_TASK_MEMBER.RESULT_SHA256, v.resultSha256())
            .set(SWARM_TASK_MEMBER.GROUP_NO, (short) v.groupNo())
            .set(SWARM_TASK_MEMBER.VOTE, v.vote())
            .where(SWARM_TASK_MEMBER.TASK_ID.eq(task.taskId()), SWARM_TASK_MEMBER.JOB_ID.eq(v.jobId()))
            .execute();
      }
    }

    /**
     * Moves a worker's reputation after an accepted consensus: up by {@link #GAIN} of what it lacks
     * of 1 when it agreed, down by {@link #LOSS} of it when it dissented. One statement, so that tasks
     * decided at once on other coordinators add up.
     */
    public void judged(String workerId, String ownerId, boolean agreed) {
      var r = WORKER_REPUTATION.REPUTATION;
      BigDecimal first = agreed ? new BigDecimal("0.5").add(GAIN.multiply(new BigDecimal("0.5")))
          : new BigDecimal("0.5").subtract(LOSS.multiply(new BigDecimal("0.5")));
      tx.insertInto(WORKER_REPUTATION)
          .set(WORKER_REPUTATION.WORKER_ID, workerId)
          .set(WORKER_REPUTATION.OWNER_ID, ownerId)
          .set(WORKER_REPUTATION.REPUTATION, first)
          .set(WORKER_REPUTATION.AGREEMENTS, agreed ? 1 : 0)
          .set(WORKER_REPUTATION.DISSENTS, agreed ? 0 : 1)
          .set(WORKER_REPUTATION.UPDATED_AT, now)
          .onConflict(WORKER_REPUTATION.WORKER_ID)
          .doUpdate()
          .set(WORKER_REPUTATION.OWNER_ID, ownerId)
          .set(r, agreed ? r.plus(inline(GAIN).times(inline(BigDecimal.ONE).minus(r)))
              : r.minus(inline(LOSS).times(r)))
          .set(WORKER_REPUTATION.AGREEMENTS, WORKER_REPUTATION.AGREEMENTS.plus(agreed ? 1 : 0))
          .set(WORKER_REPUTATION.DISSENTS, WORKER_REPUTATION.DISSENTS.plus(agreed ? 0 : 1))
          .set(WORKER_REPUTATION.UPDATED_AT, now)
          .execute();
    }

    /** Folds a member job's run time into its worker's measured latency (a moving average). */
    public void ran(String workerId, String ownerId, long runMs) {
      int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(0, runMs));
      var l = WORKER_REPUTATION.LATENCY_MS;
      tx.insertInto(WORKER_REPUTATION)
          .set(WORKER_REPUTATION.WORKER_ID, workerId)
          .set(WORKER_REPUTATION.OWNER_ID, ownerId)
          .set(WORKER_REPUTATION.REPUTATION, new BigDecimal("0.5"))
          .set(WORKER_REPUTATION.AGREEMENTS, 0)
          .set(WORKER_REPUTATION.DISSENTS, 0)
          .set(l, ms)
          .set(WORKER_REPUTATION.UPDATED_AT, now)
          .onConflict(WORKER_REPUTATION.WORKER_ID)
          .doUpdate()
          .set(l, org.jooq.impl.DSL.coalesce(
              org.jooq.impl.DSL.round(l.cast(BigDecimal.class).times(inline(BigDecimal.ONE.subtract(LATENCY_WEIGHT)))
                  .plus(inline(LATENCY_WEIGHT.multiply(BigDecimal.valueOf(ms))))).cast(Integer.class),
              inline(ms)))
          .set(WORKER_REPUTATION.UPDATED_AT, now)
          .execute();
    }

    /**
     * Saves a decision when it differs from what is stored. A task that ends also gets its receipt
     * and a wake-up, whose handling cancels its unfinished member jobs (after this commits).
     */
    public void save(Decided d) {
      StoredSwarmTask t = task;
      boolean same = d.status() == t.status() && d.progress() == t.progress()
          && Objects.equals(d.leaderWorkerId(), t.leaderWorkerId()) && Objects.equals(d.leaderRule(), t.leaderRule())
          && d.resultJson() == null && d.decisionJson() == null && d.errorMessage() == null;
      if (same) {
        return;
      }
      boolean ends = d.status() != ExecutionStatus.pending && d.status() != ExecutionStatus.running;
      tx.update(SWARM_TASK)
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
              : now)
          .set(SWARM_TASK.ENDED_AT, ends ? now : null)
          .set(SWARM_TASK.UPDATED_AT, now)
          .where(SWARM_TASK.TASK_ID.eq(t.taskId()))
          .execute();
      if (ends) {
        SwarmTaskStore.wake(tx, t.taskId(), now);
        issued.swarmTaskEnded(tx, tx.selectFrom(SWARM_TASK).where(SWARM_TASK.TASK_ID.eq(t.taskId()))
            .fetchSingle(SwarmTaskStore::toTask));
      }
    }

    /** Wakes the task again at {@code due} (a member job's submission was put off until then). */
    public void wakeAt(OffsetDateTime due) {
      SwarmTaskStore.wake(tx, task.taskId(), due);
    }

    /** Member jobs' ids that are still unfinished among {@code members}. */
    public static List<UUID> unfinished(List<SwarmMemberJob> members) {
      List<UUID> out = new ArrayList<>();
      for (SwarmMemberJob m : members) {
        if (m.unfinished()) {
          out.add(m.jobId());
        }
      }
      return out;
    }
  }
}
