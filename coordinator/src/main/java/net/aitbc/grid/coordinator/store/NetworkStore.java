package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.AGENT_NETWORK;
import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.NETWORK_RUN;
import static net.aitbc.grid.db.Tables.NETWORK_RUN_EXECUTION;
import static net.aitbc.grid.db.Tables.NETWORK_WAKEUP;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.tables.records.AgentNetworkRecord;
import net.aitbc.grid.db.tables.records.NetworkRunRecord;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record1;

/**
 * Agent networks as their clients see them: stored, read, their runs started and listed, and what
 * their latest runs measured. What the network engine does with runs is {@link NetworkRunStore}'s.
 * Starting a run records its first wake-up in the same transaction, so that the engine acts on it
 * even if this coordinator stops right after.
 */
public final class NetworkStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public NetworkStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** Stores a network. */
  public StoredNetwork create(NewNetwork n) {
    return dsl.insertInto(AGENT_NETWORK)
        .set(AGENT_NETWORK.NETWORK_ID, n.networkId())
        .set(AGENT_NETWORK.CLIENT_ID, n.clientId())
        .set(AGENT_NETWORK.NAME, n.name())
        .set(AGENT_NETWORK.DESCRIPTION, n.description())
        .set(AGENT_NETWORK.WORKFLOW_IDS, n.workflowIds().toArray(UUID[]::new))
        .set(AGENT_NETWORK.COORDINATION_STRATEGY, n.strategy())
        .set(AGENT_NETWORK.CREATED_AT, JobStore.now())
        .returning()
        .fetchSingle(NetworkStore::toNetwork);
  }

  /** A client's network. */
  public Optional<StoredNetwork> find(UUID networkId, String clientId) {
    return dsl.selectFrom(AGENT_NETWORK)
        .where(AGENT_NETWORK.NETWORK_ID.eq(networkId), AGENT_NETWORK.CLIENT_ID.eq(clientId))
        .fetchOptional(NetworkStore::toNetwork);
  }

  /**
   * A run started, or found started.
   *
   * @param run the run
   * @param existing true when its request id named a run started before
   */
  public record Started(StoredNetworkRun run, boolean existing) {}

  /** Stores a pending run and its first wake-up; a retry with the same request id returns the first. */
  public Started start(NewNetworkRun r) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      Optional<StoredNetworkRun> inserted = tx.insertInto(NETWORK_RUN)
          .set(NETWORK_RUN.RUN_ID, r.runId())
          .set(NETWORK_RUN.NETWORK_ID, r.networkId())
          .set(NETWORK_RUN.CLIENT_ID, r.clientId())
          .set(NETWORK_RUN.KEY_ID, r.keyId())
          .set(NETWORK_RUN.REQUEST_ID, r.requestId())
          .set(NETWORK_RUN.STATUS, ExecutionStatus.pending)
          .set(NETWORK_RUN.TASK, JSONB.valueOf(r.taskJson()))
          .set(NETWORK_RUN.PRIORITY, (short) r.priority())
          .set(NETWORK_RUN.TIMEOUT_S, r.timeoutSeconds())
          .set(NETWORK_RUN.DEADLINE, now.plusSeconds(r.timeoutSeconds()))
          .set(NETWORK_RUN.CREATED_AT, now)
          .set(NETWORK_RUN.UPDATED_AT, now)
          .onConflict(NETWORK_RUN.CLIENT_ID, NETWORK_RUN.REQUEST_ID).where(NETWORK_RUN.REQUEST_ID.isNotNull())
          .doNothing()
          .returning()
          .fetchOptional(NetworkStore::toRun);
      if (inserted.isPresent()) {
        wake(tx, r.runId(), now);
        return new Started(inserted.get(), false);
      }
      return new Started(tx.selectFrom(NETWORK_RUN)
          .where(NETWORK_RUN.CLIENT_ID.eq(r.clientId()), NETWORK_RUN.REQUEST_ID.eq(r.requestId()))
          .fetchSingle(NetworkStore::toRun), true);
    });
  }

  /**
   * A run and the executions it has made, in the order it made them.
   *
   * @param run the run
   * @param executions its executions
   */
  public record RunView(StoredNetworkRun run, List<StoredExecution> executions) {
    /** Copies the list. */
    public RunView {
      executions = List.copyOf(executions);
    }
  }

  /** A network's latest {@code limit} runs, newest first, with their executions. */
  public List<RunView> latestRuns(UUID networkId, int limit) {
    return withExecutions(dsl.selectFrom(NETWORK_RUN)
        .where(NETWORK_RUN.NETWORK_ID.eq(networkId))
        .orderBy(NETWORK_RUN.CREATED_AT.desc(), NETWORK_RUN.RUN_ID.desc())
        .limit(limit)
        .fetch(NetworkStore::toRun));
  }

  /** A client's run, with its executions. */
  public Optional<RunView> run(UUID runId, String clientId) {
    return withExecutions(dsl.selectFrom(NETWORK_RUN)
        .where(NETWORK_RUN.RUN_ID.eq(runId), NETWORK_RUN.CLIENT_ID.eq(clientId))
        .fetch(NetworkStore::toRun)).stream().findFirst();
  }

  private List<RunView> withExecutions(List<StoredNetworkRun> runs) {
    Map<UUID, List<StoredExecution>> byRun = new HashMap<>();
    dsl.select(NETWORK_RUN_EXECUTION.RUN_ID, EXECUTION.asterisk())
        .from(NETWORK_RUN_EXECUTION)
        .join(EXECUTION).on(EXECUTION.EXECUTION_ID.eq(NETWORK_RUN_EXECUTION.EXECUTION_ID))
        .where(NETWORK_RUN_EXECUTION.RUN_ID.in(runs.stream().map(StoredNetworkRun::runId).toList()))
        .orderBy(EXECUTION.CREATED_AT, NETWORK_RUN_EXECUTION.SLOT)
        .forEach(r -> byRun.computeIfAbsent(r.get(NETWORK_RUN_EXECUTION.RUN_ID), id -> new ArrayList<>())
            .add(ExecutionStore.toExecution(r.into(EXECUTION))));
    return runs.stream().map(run -> new RunView(run, byRun.getOrDefault(run.runId(), List.of()))).toList();
  }

  /** What a network's latest {@code runs} runs measured: the runs and their executions. */
  public NetworkSamples samples(UUID networkId, int runs) {
    List<UUID> ids = dsl.select(NETWORK_RUN.RUN_ID).from(NETWORK_RUN)
        .where(NETWORK_RUN.NETWORK_ID.eq(networkId))
        .orderBy(NETWORK_RUN.CREATED_AT.desc(), NETWORK_RUN.RUN_ID.desc())
        .limit(runs)
        .fetch(Record1::value1);
    List<NetworkSamples.Agent> executions = dsl.select(NETWORK_RUN_EXECUTION.RUN_ID, NETWORK_RUN_EXECUTION.SLOT,
            EXECUTION.WORKFLOW_ID, EXECUTION.STATUS, EXECUTION.TOTAL_COST, EXECUTION.CREATED_AT,
            EXECUTION.STARTED_AT, EXECUTION.ENDED_AT)
        .from(NETWORK_RUN_EXECUTION)
        .join(EXECUTION).on(EXECUTION.EXECUTION_ID.eq(NETWORK_RUN_EXECUTION.EXECUTION_ID))
        .where(NETWORK_RUN_EXECUTION.RUN_ID.in(ids))
        .fetch(r -> new NetworkSamples.Agent(r.value1(), r.value2(), r.value3(), r.value4(), r.value5(),
            r.value7() == null ? r.value6() : r.value7(), r.value8()));
    Map<UUID, BigDecimal> costs = new HashMap<>();
    executions.forEach(e -> costs.merge(e.runId(), e.cost(), BigDecimal::add));
    Map<UUID, NetworkSamples.Run> byId = new LinkedHashMap<>();
    dsl.select(NETWORK_RUN.RUN_ID, NETWORK_RUN.STATUS, NETWORK_RUN.CREATED_AT, NETWORK_RUN.ENDED_AT)
        .from(NETWORK_RUN)
        .where(NETWORK_RUN.RUN_ID.in(ids))
        .forEach(r -> byId.put(r.value1(), new NetworkSamples.Run(r.value1(), r.value2(),
            costs.getOrDefault(r.value1(), BigDecimal.ZERO), r.value3(), r.value4())));
    return new NetworkSamples(ids.stream().map(byId::get).toList(), executions);
  }

  /** Records a wake-up of a run, due at {@code due}. */
  static void wake(DSLContext tx, UUID runId, OffsetDateTime due) {
    tx.insertInto(NETWORK_WAKEUP, NETWORK_WAKEUP.RUN_ID, NETWORK_WAKEUP.DUE_AT).values(runId, due).execute();
  }

  static StoredNetwork toNetwork(AgentNetworkRecord r) {
    return new StoredNetwork(r.getNetworkId(), r.getClientId(), r.getName(), r.getDescription(),
        List.of(r.getWorkflowIds()), r.getCoordinationStrategy(), r.getCreatedAt());
  }

  static StoredNetworkRun toRun(NetworkRunRecord r) {
    return new StoredNetworkRun(r.getRunId(), r.getNetworkId(), r.getClientId(), r.getKeyId(), r.getStatus(),
        r.getTask().data(), r.getPriority(), r.getTimeoutS(), r.getDeadline(), JobMapper.text(r.getResult()),
        r.getErrorMessage(), r.getCreatedAt(), r.getEndedAt());
  }
}
