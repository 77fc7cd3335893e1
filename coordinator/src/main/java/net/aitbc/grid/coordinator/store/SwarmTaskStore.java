package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.SWARM_TASK;
import static net.aitbc.grid.db.Tables.SWARM_TASK_MEMBER;
import static net.aitbc.grid.db.Tables.SWARM_WAKEUP;

import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.tables.records.SwarmTaskRecord;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jspecify.annotations.Nullable;

/**
 * Swarm tasks as their clients see them: read and cancelled (started by {@link SwarmEngineStore#start},
 * which decides for them as it stores them). What the engine does with them is {@link
 * SwarmEngineStore}'s. Cancelling records a wake-up in the same transaction, so that the engine acts
 * on it even if this coordinator stops right after.
 */
public final class SwarmTaskStore {
  static final List<ExecutionStatus> UNFINISHED = List.of(ExecutionStatus.pending, ExecutionStatus.running);

  private final DSLContext dsl;
  private final @Nullable ReceiptMaker receipts;

  /** A store over this database; tasks it cancels get receipts when a {@code receipts} maker is given. */
  public SwarmTaskStore(DSLContext dsl, @Nullable ReceiptMaker receipts) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.receipts = receipts;
  }

  /**
   * A task started, or found started.
   *
   * @param task the task
   * @param existing true when its request id named a task started before
   */
  public record Started(StoredSwarmTask task, boolean existing) {}

  /**
   * Inserts a pending task in {@code tx} at {@code now} (with no wake-up: {@link SwarmEngineStore#start}
   * decides whether it needs one); a retry with the same request id finds the first.
   */
  static Started insert(DSLContext tx, NewSwarmTask t, OffsetDateTime now) {
    Optional<StoredSwarmTask> inserted = tx.insertInto(SWARM_TASK)
        .set(SWARM_TASK.TASK_ID, t.taskId())
        .set(SWARM_TASK.CLIENT_ID, t.clientId())
        .set(SWARM_TASK.KEY_ID, t.keyId())
        .set(SWARM_TASK.REQUEST_ID, t.requestId())
        .set(SWARM_TASK.SWARM_ID, t.swarmId())
        .set(SWARM_TASK.STATUS, ExecutionStatus.pending)
        .set(SWARM_TASK.STRATEGY, t.strategy())
        .set(SWARM_TASK.JOB_TYPE, t.jobType())
        .set(SWARM_TASK.PAYLOAD, t.payloadJson())
        .set(SWARM_TASK.PROBE, t.probe())
        .set(SWARM_TASK.CONSTRAINTS, JSONB.valueOf(t.constraintsJson()))
        .set(SWARM_TASK.COLLABORATORS, (short) t.collaborators())
        .set(SWARM_TASK.PARTS, (short) t.parts())
        .set(SWARM_TASK.THRESHOLD, t.threshold())
        .set(SWARM_TASK.SIMILARITY, t.similarity())
        .set(SWARM_TASK.TIMEOUT_S, t.timeoutSeconds())
        .set(SWARM_TASK.DEADLINE, now.plusSeconds(t.timeoutSeconds()))
        .set(SWARM_TASK.CANDIDATES, SwarmCandidate.write(t.candidates()))
        .set(SWARM_TASK.PROGRESS, (short) 0)
        .set(SWARM_TASK.CREATED_AT, now)
        .set(SWARM_TASK.UPDATED_AT, now)
        .onConflict(SWARM_TASK.CLIENT_ID, SWARM_TASK.REQUEST_ID).where(SWARM_TASK.REQUEST_ID.isNotNull())
        .doNothing()
        .returning()
        .fetchOptional(SwarmTaskStore::toTask);
    if (inserted.isPresent()) {
      return new Started(inserted.get(), false);
    }
    return new Started(tx.selectFrom(SWARM_TASK)
        .where(SWARM_TASK.CLIENT_ID.eq(t.clientId()), SWARM_TASK.REQUEST_ID.eq(t.requestId()))
        .fetchSingle(SwarmTaskStore::toTask), true);
  }

  /** A client's task by its request id. */
  public Optional<StoredSwarmTask> findByRequest(String clientId, String requestId) {
    return dsl.selectFrom(SWARM_TASK)
        .where(SWARM_TASK.CLIENT_ID.eq(clientId), SWARM_TASK.REQUEST_ID.eq(requestId))
        .fetchOptional(SwarmTaskStore::toTask);
  }

  /** A client's task. */
  public Optional<StoredSwarmTask> find(UUID taskId, String clientId) {
    return dsl.selectFrom(SWARM_TASK)
        .where(SWARM_TASK.TASK_ID.eq(taskId), SWARM_TASK.CLIENT_ID.eq(clientId))
        .fetchOptional(SwarmTaskStore::toTask);
  }

  /** A task's member jobs, by slot then replacement, with their jobs' states. */
  public List<SwarmMemberJob> members(UUID taskId) {
    return members(dsl, taskId);
  }

  /** The results (JSON objects, or null when a job has none) of these jobs. */
  public Map<UUID, @Nullable String> results(Collection<UUID> jobIds) {
    return results(dsl, jobIds);
  }

  /**
   * The outcome of a cancel.
   *
   * @param task the task after it
   * @param changed false when it had already ended
   */
  public record Cancelled(StoredSwarmTask task, boolean changed) {}

  /**
   * Cancels a client's unfinished task with {@code reason}, issuing its receipt; its wake-up has the
   * engine cancel its unfinished member jobs. Empty when there is no such task.
   */
  public Optional<Cancelled> cancel(UUID taskId, String clientId, String reason) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      Optional<StoredSwarmTask> cancelled = tx.update(SWARM_TASK)
          .set(SWARM_TASK.STATUS, ExecutionStatus.cancelled)
          .set(SWARM_TASK.ERROR_MESSAGE, reason)
          .set(SWARM_TASK.ENDED_AT, now)
          .set(SWARM_TASK.UPDATED_AT, now)
          .where(SWARM_TASK.TASK_ID.eq(taskId), SWARM_TASK.CLIENT_ID.eq(clientId), SWARM_TASK.STATUS.in(UNFINISHED))
          .returning()
          .fetchOptional(SwarmTaskStore::toTask);
      if (cancelled.isPresent()) {
        wake(tx, taskId, now);
        IssuedReceipts issued = new IssuedReceipts(receipts);
        StoredSwarmTask t = issued.swarmTaskEnded(tx, cancelled.get());
        issued.store(tx);
        return Optional.of(new Cancelled(t, true));
      }
      return tx.selectFrom(SWARM_TASK).where(SWARM_TASK.TASK_ID.eq(taskId), SWARM_TASK.CLIENT_ID.eq(clientId))
          .fetchOptional(r -> new Cancelled(toTask(r), false));
    });
  }

  static List<SwarmMemberJob> members(DSLContext q, UUID taskId) {
    var m = SWARM_TASK_MEMBER;
    return q.select(m.SLOT, m.REPLACEMENT, m.JOB_ID, m.WORKER_ID, m.OWNER_ID, m.PART_FROM, m.PART_TO, JOB.STATE,
            JOB.ERROR, m.CREATED_AT, JOB.STARTED_AT, JOB.FINISHED_AT, m.RESULT_SHA256, m.GROUP_NO, m.VOTE)
        // Left: a retired member job leaves its member row, without a state.
        .from(m).leftJoin(JOB).on(JOB.JOB_ID.eq(m.JOB_ID))
        .where(m.TASK_ID.eq(taskId))
        .orderBy(m.SLOT, m.REPLACEMENT)
        .fetch(r -> new SwarmMemberJob(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(), r.value6(),
            r.value7(), r.value8(), r.value9(), r.value10(), r.value11(), r.value12(), r.value13(),
            r.value14() == null ? null : r.value14().intValue(), r.value15()));
  }

  static Map<UUID, @Nullable String> results(DSLContext q, Collection<UUID> jobIds) {
    Map<UUID, @Nullable String> out = new HashMap<>();
    if (!jobIds.isEmpty()) {
      q.select(JOB.JOB_ID, JOB.RESULT).from(JOB).where(JOB.JOB_ID.in(jobIds))
          .forEach(r -> out.put(r.value1(), JobMapper.text(r.value2())));
    }
    return out;
  }

  /** Records a wake-up of the task at {@code due}. */
  static void wake(DSLContext tx, UUID taskId, OffsetDateTime due) {
    tx.insertInto(SWARM_WAKEUP).set(SWARM_WAKEUP.TASK_ID, taskId).set(SWARM_WAKEUP.DUE_AT, due).execute();
  }

  static StoredSwarmTask toTask(SwarmTaskRecord r) {
    return new StoredSwarmTask(r.getTaskId(), r.getClientId(), r.getKeyId(), r.getRequestId(), r.getSwarmId(),
        r.getStatus(), r.getStrategy(), r.getJobType(), r.getPayload(), r.getProbe(), r.getConstraints().data(),
        r.getCollaborators(), r.getParts(), r.getThreshold(), r.getSimilarity(), r.getTimeoutS(), r.getDeadline(),
        SwarmCandidate.read(r.getCandidates()), r.getProgress(), r.getLeaderWorkerId(), r.getLeaderRule(),
        JobMapper.text(r.getResult()), r.getResultSha256(), r.getConsensusReached(),
        JobMapper.text(r.getDecision()), r.getErrorMessage(), r.getReceiptId(), r.getCreatedAt(), r.getStartedAt(),
        r.getEndedAt());
  }
}
