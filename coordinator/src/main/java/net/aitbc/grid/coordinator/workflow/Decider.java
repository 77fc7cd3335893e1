package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.EngineStore.Decided;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.LockedExecution;
import net.aitbc.grid.coordinator.store.StepJobRow;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.workflow.Planner.Plan;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides for one locked execution, from its step jobs' rows alone: plans again, enforces the time
 * and cost budgets, creates the step jobs the plan asks for (those made before are found by their
 * request ids), and ends the execution when the plan or a budget says so. An ended execution's
 * unfinished step jobs are canceled when it is next woken (the wake-up its ending wrote).
 *
 * <p>It decides the same way wherever it runs: in the engine's own transaction ({@link #advance}),
 * where step jobs are submitted like any job, or in the transaction of the write that woke the
 * execution ({@link #decideInline}: a step's outcome, the execution's start), where they are
 * inserted with that write. There, whatever the engine would have to wait for (a client's limits,
 * a paid step, cancelling jobs) is left to the engine.
 */
final class Decider {
  private static final Logger logger = LoggerFactory.getLogger(Decider.class);
  // Decimals in results stay as the worker wrote them when passed on to later steps.
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .build();
  private static final int CACHED_DEFINITIONS = 1024;
  private static final Duration DEADLINE_GRACE = Duration.ofSeconds(10);

  private final StepJobs stepJobs;
  // Workflows never change once stored: a definition is parsed once per coordinator.
  private final Map<UUID, WorkflowDefinition> definitions = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<UUID, WorkflowDefinition> eldest) {
      return size() > CACHED_DEFINITIONS;
    }
  };

  /** Creates step jobs through {@code stepJobs}. */
  Decider(StepJobs stepJobs) {
    this.stepJobs = requireNonNull(stepJobs, "stepJobs");
  }

  /** Decides in the engine's transaction: whatever it decides is written. */
  void advance(LockedExecution locked) {
    decide(locked, false);
  }

  /**
   * Decides in the transaction of the write that woke the execution; false when what it would do
   * is the engine's (nothing was written then).
   */
  boolean decideInline(LockedExecution locked) {
    return decide(locked, true);
  }

  private boolean decide(LockedExecution locked, boolean inline) {
    StoredExecution e = locked.execution();
    List<StepJobRow> rows = locked.jobs();
    if (e.ended()) {
      if (inline) {
        // Cancelling its unfinished jobs writes in transactions of their own: the engine's work.
        return false;
      }
      cancelUnfinished(e, rows);
      return true;
    }
    StepRows jobs = new StepRows(rows);
    Plan plan = Planner.plan(definition(e.workflowId(), locked), (ObjectNode) parse(e.inputsJson()), jobs.views(),
        results(locked, jobs));
    String overBudget = overBudget(e, plan, locked.now());
    if (overBudget != null) {
      end(locked, plan, jobs, ExecutionStatus.failed, null, overBudget, null, false);
      return true;
    }
    switch (plan.outcome()) {
      case FAILED -> end(locked, plan, jobs, ExecutionStatus.failed, null, plan.error(), null, false);
      case COMPLETED -> end(locked, plan, jobs, ExecutionStatus.completed,
          requireNonNull(plan.result(), "result").toString(), null, null, false);
      case RUNNING -> {
        return run(locked, plan, jobs, inline);
      }
    }
    return true;
  }

  /** Why a budget ends the execution now, or null: the time budget unless it has completed, then the cost budget. */
  private static @Nullable String overBudget(StoredExecution e, Plan plan, OffsetDateTime now) {
    if (plan.outcome() != Planner.Outcome.COMPLETED && !now.isBefore(e.deadline())) {
      return "timeout of " + e.timeoutSeconds() + " s exceeded after "
          + Duration.between(e.createdAt(), now).toSeconds() + " s";
    }
    BigDecimal budget = e.maxCostBudget();
    if (budget.signum() > 0 && plan.totalCost().compareTo(budget) > 0) {
      return "cost budget " + plain(budget) + " exceeded: spent " + plain(plan.totalCost()) + " ("
          + plain(plan.totalCost().subtract(budget)) + " over)";
    }
    return null;
  }

  /** Creates the step jobs the plan asks for and saves where the execution stands; false: left to the engine. */
  private boolean run(LockedExecution locked, Plan plan, StepRows jobs, boolean inline) {
    StoredExecution e = locked.execution();
    Map<String, Map<Integer, UUID>> started = Map.of();
    if (!plan.start().isEmpty()) {
      Principal principal = locked.startedBy().orElse(null);
      if (principal == null) {
        end(locked, plan, jobs, ExecutionStatus.failed, null, "the api key that started it (" + e.keyId()
            + ") was revoked", null, false);
        return true;
      }
      // A little past the deadline, so that the execution's timeout (not the job's own expiry, which
      // a sweep could reach first) ends the step: the engine cancels its unfinished jobs then.
      Duration ttl = Duration.between(locked.now(), e.deadline());
      ttl = (ttl.isNegative() ? Duration.ZERO : ttl).plus(DEADLINE_GRACE);
      List<StepJobs.Order> orders = new ArrayList<>(plan.start().size());
      for (Planner.StepJob job : plan.start()) {
        orders.add(new StepJobs.Order(e.executionId(), StepKeys.requestId(e.executionId(), job), job, e.priority(),
            ttl));
      }
      Created created = inline ? insert(locked, principal, orders) : submit(principal, orders);
      switch (created) {
        case Created.NotNow n -> {
          return false;
        }
        case Created.Refused r -> {
          Planner.StepJob job = r.job();
          String why = (job.step().forEach() == null ? "" : "item " + job.item() + ": ") + r.reason();
          end(locked, plan, jobs, ExecutionStatus.failed, null, "step " + job.step().name() + " failed: " + why,
              new Failed(job.step().name(), why), r.othersMayRun());
          return true;
        }
        case Created.Started s -> {
          started = s.ids();
          if (s.retryAfter() != null) {
            logger.debug("[execution={}] step jobs put off for {} ms", JobIds.format(e.executionId()),
                s.retryAfter().toMillis());
            locked.wakeAt(locked.now().plus(s.retryAfter()));
          }
        }
      }
    }
    locked.save(new Decided(ExecutionStatus.running, plan.totalCost(), plan.progress(), plan.completedSteps(),
        plan.currentStep(), StepSnapshots.of(plan, jobs, started, locked.now(), null), null, null, true));
    return true;
  }

  /** What came of creating a decision's step jobs. */
  private sealed interface Created {
    /** Created (or found created), by step and item; the rest are put off for {@code retryAfter}, or null. */
    record Started(Map<String, Map<Integer, UUID>> ids, @Nullable Duration retryAfter) implements Created {}

    /** {@code job} was refused for good; others of the decision may have been created. */
    record Refused(Planner.StepJob job, String reason, boolean othersMayRun) implements Created {}

    /** Not now, and not here: the engine decides again. */
    record NotNow() implements Created {}
  }

  /** The engine's way: each job submitted like any job, waited for. */
  private Created submit(Principal principal, List<StepJobs.Order> orders) {
    List<CompletableFuture<UUID>> submitted = new ArrayList<>(orders.size());
    for (StepJobs.Order order : orders) {
      submitted.add(stepJobs.submit(principal, order));
    }
    Map<String, Map<Integer, UUID>> started = new HashMap<>();
    Duration retryAfter = null;
    for (int i = 0; i < submitted.size(); i++) {
      Planner.StepJob job = orders.get(i).job();
      try {
        started.computeIfAbsent(job.step().name(), s -> new HashMap<>()).put(job.item(), submitted.get(i).join());
      } catch (CompletionException failure) {
        switch (failure.getCause()) {
          case StepJobs.Refused refused -> {
            return new Created.Refused(job, refused.getMessage(), orders.size() > 1);
          }
          case StepJobs.Deferred deferred -> retryAfter = retryAfter == null
              || deferred.retryAfter().compareTo(retryAfter) > 0 ? deferred.retryAfter() : retryAfter;
          default -> throw failure;
        }
      }
    }
    return new Created.Started(started, retryAfter);
  }

  /**
   * The inline way: every job prepared, then inserted with the transaction's write; when one cannot
   * be (put off, or only submittable), none is, and the engine decides again.
   */
  private Created insert(LockedExecution locked, Principal principal, List<StepJobs.Order> orders) {
    List<LockedExecution.NewStepJob> prepared = new ArrayList<>(orders.size());
    try {
      for (StepJobs.Order order : orders) {
        try {
          prepared.add(stepJobs.prepare(principal, order));
        } catch (StepJobs.Refused refused) {
          prepared.forEach(LockedExecution.NewStepJob::abandoned);
          return new Created.Refused(order.job(), refused.getMessage(), false);
        } catch (StepJobs.Deferred deferred) {
          prepared.forEach(LockedExecution.NewStepJob::abandoned);
          return new Created.NotNow();
        }
      }
    } catch (RuntimeException e) {
      prepared.forEach(LockedExecution.NewStepJob::abandoned);
      throw e;
    }
    locked.insert(prepared);
    Map<String, Map<Integer, UUID>> started = new HashMap<>();
    for (int i = 0; i < orders.size(); i++) {
      Planner.StepJob job = orders.get(i).job();
      started.computeIfAbsent(job.step().name(), s -> new HashMap<>()).put(job.item(), prepared.get(i).job().jobId());
    }
    return new Created.Started(started, null);
  }

  /** A step failed outside the plan (its job was refused for good). */
  record Failed(String step, String error) {}

  /** Ends the execution; {@code othersMayRun}: step jobs not among its rows may have been created. */
  private static void end(LockedExecution locked, Plan plan, StepRows jobs, ExecutionStatus status,
      @Nullable String result, @Nullable String error, @Nullable Failed failed, boolean othersMayRun) {
    StoredExecution e = locked.execution();
    var steps = StepSnapshots.of(plan, jobs, Map.of(), locked.now(), failed).stream()
        .map(s -> s.endedWithExecution()).toList();
    boolean mayRun = othersMayRun || locked.jobs().stream().anyMatch(StepJobRow::unfinished);
    locked.save(new Decided(status, plan.totalCost(), status == ExecutionStatus.completed ? 100 : plan.progress(),
        plan.completedSteps(), null, steps, result, error, mayRun));
    logger.info("[execution={}] {}{}", JobIds.format(e.executionId()), status, error == null ? "" : ": " + error);
  }

  private void cancelUnfinished(StoredExecution e, List<StepJobRow> rows) {
    String reason = "execution " + JobIds.format(e.executionId()) + " " + e.status()
        + (e.errorMessage() == null ? "" : ": " + e.errorMessage());
    for (StepJobRow r : rows) {
      if (r.unfinished()) {
        stepJobs.cancel(r.jobId(), e.clientId(), reason);
      }
    }
  }

  private WorkflowDefinition definition(UUID workflowId, LockedExecution locked) {
    synchronized (definitions) {
      WorkflowDefinition d = definitions.get(workflowId);
      if (d != null) {
        return d;
      }
    }
    // Types were checked when it was stored; the workers that offered them may have gone since.
    WorkflowDefinition d = Definitions.parse(locked.definition(), type -> true);
    synchronized (definitions) {
      definitions.put(workflowId, d);
    }
    return d;
  }

  /** Completed step jobs' results, read a step at a time, and only when a reference or the output needs them. */
  private static Planner.Results results(LockedExecution locked, StepRows jobs) {
    Map<String, Map<Integer, JsonNode>> read = new HashMap<>();
    return (step, item) -> read.computeIfAbsent(step, s -> {
      Map<Integer, StepJobRow> mine = jobs.of(s);
      Map<UUID, @Nullable String> texts = locked.results(mine.values().stream().map(StepJobRow::jobId).toList());
      Map<Integer, JsonNode> parsed = new HashMap<>();
      mine.forEach((i, row) -> {
        String text = texts.get(row.jobId());
        parsed.put(i, text == null ? NullNode.getInstance() : parse(text));
      });
      return parsed;
    }).getOrDefault(item, NullNode.getInstance());
  }

  private static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored JSON does not parse: " + e.getOriginalMessage(), e);
    }
  }

  private static String plain(BigDecimal d) {
    return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
  }
}
