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
import java.util.function.Function;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.EngineStore;
import net.aitbc.grid.coordinator.store.EngineStore.Decided;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.StepJobRow;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.workflow.Planner.Plan;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides for one locked execution, from its step jobs' rows alone: plans again, enforces the time
 * and cost budgets, submits the step jobs the plan asks for (those made before are found by their
 * request ids), and ends the execution when the plan or a budget says so. An ended execution's
 * unfinished step jobs are canceled when it is next woken (the wake-up its ending wrote).
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
  private final Function<String, java.util.Optional<Principal>> keys;
  // Workflows never change once stored: a definition is parsed once per coordinator.
  private final Map<UUID, WorkflowDefinition> definitions = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<UUID, WorkflowDefinition> eldest) {
      return size() > CACHED_DEFINITIONS;
    }
  };

  /** {@code keys} finds the active key with an id (the one that started an execution). */
  Decider(StepJobs stepJobs, Function<String, java.util.Optional<Principal>> keys) {
    this.stepJobs = requireNonNull(stepJobs, "stepJobs");
    this.keys = requireNonNull(keys, "keys");
  }

  void advance(EngineStore.Locked locked) {
    StoredExecution e = locked.execution();
    List<StepJobRow> rows = locked.jobs();
    if (e.ended()) {
      cancelUnfinished(e, rows);
      return;
    }
    StepRows jobs = new StepRows(rows);
    Plan plan = Planner.plan(definition(e.workflowId(), locked), (ObjectNode) parse(e.inputsJson()), jobs.views(),
        results(locked, jobs));
    String overBudget = overBudget(e, plan, locked.now());
    if (overBudget != null) {
      end(locked, plan, jobs, ExecutionStatus.failed, null, overBudget, null);
      return;
    }
    switch (plan.outcome()) {
      case FAILED -> end(locked, plan, jobs, ExecutionStatus.failed, null, plan.error(), null);
      case COMPLETED -> end(locked, plan, jobs, ExecutionStatus.completed,
          requireNonNull(plan.result(), "result").toString(), null, null);
      case RUNNING -> run(locked, plan, jobs);
    }
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

  /** Submits the step jobs the plan asks for and saves where the execution stands. */
  private void run(EngineStore.Locked locked, Plan plan, StepRows jobs) {
    StoredExecution e = locked.execution();
    Map<String, Map<Integer, UUID>> started = new HashMap<>();
    if (!plan.start().isEmpty()) {
      Principal principal = keys.apply(e.keyId()).orElse(null);
      if (principal == null) {
        end(locked, plan, jobs, ExecutionStatus.failed, null, "the api key that started it (" + e.keyId()
            + ") was revoked", null);
        return;
      }
      // A little past the deadline, so that the execution's timeout (not the job's own expiry, which
      // a sweep could reach first) ends the step: the engine cancels its unfinished jobs then.
      Duration ttl = Duration.between(locked.now(), e.deadline());
      ttl = (ttl.isNegative() ? Duration.ZERO : ttl).plus(DEADLINE_GRACE);
      List<CompletableFuture<UUID>> submitted = new ArrayList<>(plan.start().size());
      for (Planner.StepJob job : plan.start()) {
        submitted.add(stepJobs.submit(principal, new StepJobs.Order(e.executionId(),
            StepKeys.requestId(e.executionId(), job), job, e.priority(), ttl)));
      }
      Duration retryAfter = null;
      for (int i = 0; i < submitted.size(); i++) {
        Planner.StepJob job = plan.start().get(i);
        try {
          started.computeIfAbsent(job.step().name(), s -> new HashMap<>()).put(job.item(), submitted.get(i).join());
        } catch (CompletionException failure) {
          switch (failure.getCause()) {
            case StepJobs.Refused refused -> {
              String why = (job.step().forEach() == null ? "" : "item " + job.item() + ": ") + refused.getMessage();
              end(locked, plan, jobs, ExecutionStatus.failed, null, "step " + job.step().name() + " failed: " + why,
                  new Failed(job.step().name(), why));
              return;
            }
            case StepJobs.Deferred deferred -> retryAfter = retryAfter == null
                || deferred.retryAfter().compareTo(retryAfter) > 0 ? deferred.retryAfter() : retryAfter;
            default -> throw failure;
          }
        }
      }
      if (retryAfter != null) {
        logger.debug("[execution={}] step jobs put off for {} ms", JobIds.format(e.executionId()),
            retryAfter.toMillis());
        locked.wakeAt(locked.now().plus(retryAfter));
      }
    }
    locked.save(new Decided(ExecutionStatus.running, plan.totalCost(), plan.progress(), plan.completedSteps(),
        plan.currentStep(), StepSnapshots.of(plan, jobs, started, locked.now(), null), null, null));
  }

  /** A step failed outside the plan (its job was refused for good). */
  record Failed(String step, String error) {}

  private static void end(EngineStore.Locked locked, Plan plan, StepRows jobs, ExecutionStatus status,
      @Nullable String result, @Nullable String error, @Nullable Failed failed) {
    StoredExecution e = locked.execution();
    var steps = StepSnapshots.of(plan, jobs, Map.of(), locked.now(), failed).stream()
        .map(s -> s.endedWithExecution()).toList();
    locked.save(new Decided(status, plan.totalCost(), status == ExecutionStatus.completed ? 100 : plan.progress(),
        plan.completedSteps(), null, steps, result, error));
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

  private WorkflowDefinition definition(UUID workflowId, EngineStore.Locked locked) {
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
  private static Planner.Results results(EngineStore.Locked locked, StepRows jobs) {
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
