package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.WORKFLOW;
import static org.jooq.impl.DSL.any;
import static org.jooq.impl.DSL.exists;
import static org.jooq.impl.DSL.selectOne;
import static org.jooq.impl.DSL.val;

import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.VerificationLevel;
import net.aitbc.grid.db.tables.records.WorkflowRecord;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;

/** Workflows: stored once, read by their owner and, when public, by everyone. */
public final class WorkflowStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public WorkflowStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * A workflow stored, or found stored.
   *
   * @param workflow the workflow
   * @param existing true when its request id named a workflow stored before
   */
  public record Created(StoredWorkflow workflow, boolean existing) {}

  /** Stores a workflow; a retry with the same client and request id returns the one stored first. */
  public Created create(NewWorkflow w) {
    OffsetDateTime now = JobStore.now();
    Optional<StoredWorkflow> inserted = dsl.insertInto(WORKFLOW)
        .set(WORKFLOW.WORKFLOW_ID, w.workflowId())
        .set(WORKFLOW.CLIENT_ID, w.clientId())
        .set(WORKFLOW.REQUEST_ID, w.requestId())
        .set(WORKFLOW.NAME, w.name())
        .set(WORKFLOW.DESCRIPTION, w.description())
        .set(WORKFLOW.DEFINITION, w.definition())
        .set(WORKFLOW.STEP_COUNT, w.stepCount())
        .set(WORKFLOW.VERIFICATION_LEVEL, w.verificationLevel())
        .set(WORKFLOW.MAX_EXECUTION_S, w.maxExecutionSeconds())
        .set(WORKFLOW.MAX_COST_BUDGET, w.maxCostBudget())
        .set(WORKFLOW.TAGS, w.tags().toArray(String[]::new))
        .set(WORKFLOW.IS_PUBLIC, w.isPublic())
        .set(WORKFLOW.VERSION, 1)
        .set(WORKFLOW.CREATED_AT, now)
        .set(WORKFLOW.UPDATED_AT, now)
        .onConflict(WORKFLOW.CLIENT_ID, WORKFLOW.REQUEST_ID).where(WORKFLOW.REQUEST_ID.isNotNull())
        .doNothing()
        .returning()
        .fetchOptional(WorkflowStore::toWorkflow);
    if (inserted.isPresent()) {
      return new Created(inserted.get(), false);
    }
    // The conflicting row is committed by now: INSERT … ON CONFLICT waited for it.
    return new Created(dsl.selectFrom(WORKFLOW)
        .where(WORKFLOW.CLIENT_ID.eq(w.clientId()), WORKFLOW.REQUEST_ID.eq(w.requestId()))
        .fetchSingle(WorkflowStore::toWorkflow), true);
  }

  /** A workflow that {@code clientId} may read: its own, or a public one. */
  public Optional<StoredWorkflow> find(UUID workflowId, String clientId) {
    return dsl.selectFrom(WORKFLOW)
        .where(WORKFLOW.WORKFLOW_ID.eq(workflowId), readableBy(clientId))
        .fetchOptional(WorkflowStore::toWorkflow);
  }

  /** The workflows among {@code ids} that {@code clientId} may read, by id (those it may not are absent). */
  public Map<UUID, StoredWorkflow> find(Collection<UUID> ids, String clientId) {
    Map<UUID, StoredWorkflow> out = new HashMap<>();
    dsl.selectFrom(WORKFLOW)
        .where(WORKFLOW.WORKFLOW_ID.in(ids), readableBy(clientId))
        .forEach(r -> out.put(r.getWorkflowId(), toWorkflow(r)));
    return out;
  }

  /**
   * Which workflows a page lists; null parts filter nothing.
   *
   * @param includePublic also other clients' public workflows
   * @param owner only this owner's
   * @param tag only those with this tag
   * @param level only this verification level
   * @param executionStatus only those with an execution in this status now
   */
  public record ListFilter(boolean includePublic, @Nullable String owner, @Nullable String tag,
      @Nullable VerificationLevel level, @Nullable ExecutionStatus executionStatus) {}

  /** A page of the workflows {@code clientId} may list, newest first. */
  public List<StoredWorkflow> list(String clientId, ListFilter f, int offset, int limit) {
    Condition where = f.includePublic() ? readableBy(clientId) : WORKFLOW.CLIENT_ID.eq(clientId);
    if (f.owner() != null) {
      where = where.and(WORKFLOW.CLIENT_ID.eq(f.owner()));
    }
    if (f.tag() != null) {
      where = where.and(val(f.tag()).eq(any(WORKFLOW.TAGS)));
    }
    if (f.level() != null) {
      where = where.and(WORKFLOW.VERIFICATION_LEVEL.eq(f.level()));
    }
    if (f.executionStatus() != null) {
      where = where.and(exists(selectOne().from(EXECUTION).where(EXECUTION.WORKFLOW_ID.eq(WORKFLOW.WORKFLOW_ID),
          EXECUTION.STATUS.eq(f.executionStatus()))));
    }
    return dsl.selectFrom(WORKFLOW)
        .where(where)
        .orderBy(WORKFLOW.CREATED_AT.desc(), WORKFLOW.WORKFLOW_ID.desc())
        .offset(offset)
        .limit(limit)
        .fetch(WorkflowStore::toWorkflow);
  }

  private static Condition readableBy(String clientId) {
    return WORKFLOW.CLIENT_ID.eq(clientId).or(WORKFLOW.IS_PUBLIC.isTrue());
  }

  static StoredWorkflow toWorkflow(WorkflowRecord r) {
    return new StoredWorkflow(r.getWorkflowId(), r.getClientId(), r.getName(), r.getDescription(), r.getDefinition(),
        r.getStepCount(), r.getVerificationLevel(), r.getMaxExecutionS(), r.getMaxCostBudget(),
        List.of(r.getTags()), r.getIsPublic(), r.getVersion(), r.getCreatedAt(), r.getUpdatedAt());
  }
}
