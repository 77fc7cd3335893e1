package net.aitbc.grid.coordinator.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.coordinator.workflow.WorkflowDefinition.Step;
import org.jspecify.annotations.Nullable;

/**
 * Decides what an execution does next from what has happened so far: which step jobs to start now,
 * and whether it has completed (with what result) or failed (and why). A pure function of the
 * definition, the inputs and the step jobs' states, so that it gives the same answer whenever it is
 * asked, on any coordinator, after any crash: a job it asks for that was created before is found by
 * its key ({@link StepJob#key}), never created twice.
 *
 * <p>Rules: a step starts when every step it waits for has completed; a for_each step has one job per
 * item of its list, in order, and its result is the list of their results; a plain step's result is
 * its job's. The first step to fail fails the execution: nothing more starts. With every step
 * completed, the result is the {@code output} template rendered, or else the results of the steps
 * no other step waits for, by name; a workflow without steps completes at once with its inputs.
 */
public final class Planner {
  /** The most items a for_each step may fan out to. */
  public static final int MAX_ITEMS = 1000;
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Planner() {}

  /** Where a step job is. */
  public enum JobStatus { UNFINISHED, COMPLETED, FAILED }

  /**
   * What is known of one step job.
   *
   * @param status where it is
   * @param error why it failed (failed, canceled or expired), or null
   * @param cost its price once completed (zero before)
   */
  public record JobView(JobStatus status, @Nullable String error, BigDecimal cost) {}

  /** The results of completed step jobs, read only when a reference or the output needs one. */
  @FunctionalInterface
  public interface Results {
    /** The result (a JSON object) of the completed job of {@code step}'s item {@code item}. */
    JsonNode result(String step, int item);
  }

  /**
   * A step job to create.
   *
   * @param step its step
   * @param item its for_each item (0 for a plain step)
   * @param payload the payload, rendered
   * @param constraints the constraints, rendered, or null
   */
  public record StepJob(Step step, int item, ObjectNode payload, @Nullable ObjectNode constraints) {
    /** Unique per execution, step and item: the job's idempotency key within its execution. */
    public String key() {
      return step.name() + "#" + item;
    }
  }

  /** How the execution stands. */
  public enum Outcome { RUNNING, COMPLETED, FAILED }

  /** The state of a step, for status pages. */
  public enum StepStatus { WAITING, RUNNING, COMPLETED, FAILED }

  /**
   * One step as it stands.
   *
   * @param step the step
   * @param status where it is
   * @param items how many jobs it has (its for_each items), or -1 while its list is not known
   * @param completed how many of them completed
   * @param cost the sum of its completed jobs' prices
   * @param error why it failed, or null
   */
  public record StepView(Step step, StepStatus status, int items, int completed, BigDecimal cost,
      @Nullable String error) {}

  /**
   * The decision.
   *
   * @param start the step jobs to create now (none once the execution has failed or completed)
   * @param outcome how the execution stands
   * @param result the final result, once completed
   * @param error why it failed, once failed
   * @param steps every step, in definition order
   * @param progress 0 to 100: finished jobs over all the jobs known or expected
   * @param totalCost the sum of the completed jobs' prices
   */
  public record Plan(List<StepJob> start, Outcome outcome, @Nullable JsonNode result, @Nullable String error,
      List<StepView> steps, int progress, BigDecimal totalCost) {
    /** How many steps have completed. */
    public int completedSteps() {
      return (int) steps.stream().filter(s -> s.status() == StepStatus.COMPLETED).count();
    }

    /** The first running step in definition order, or null. */
    public @Nullable String currentStep() {
      return steps.stream().filter(s -> s.status() == StepStatus.RUNNING).map(s -> s.step().name()).findFirst()
          .orElse(null);
    }
  }

  /**
   * The inputs of an execution: {@code given} over the workflow's defaults. An input declared with a
   * null default is required.
   */
  public static ObjectNode inputs(WorkflowDefinition def, ObjectNode given) {
    ObjectNode merged = def.inputs().deepCopy();
    merged.setAll(given);
    for (Map.Entry<String, JsonNode> e : merged.properties()) {
      if (e.getValue().isNull() && def.inputs().has(e.getKey())) {
        throw new InvalidWorkflow("inputs." + e.getKey(), "is required by this workflow and was not given");
      }
    }
    return merged;
  }

  /** The plan for an execution whose step jobs are {@code jobs} (step → item → job). */
  public static Plan plan(WorkflowDefinition def, ObjectNode inputs, Map<String, Map<Integer, JobView>> jobs,
      Results results) {
    if (def.steps().isEmpty()) {
      return new Plan(List.of(), Outcome.COMPLETED, inputs, null, List.of(), 100, BigDecimal.ZERO);
    }
    Map<String, StepView> views = new LinkedHashMap<>();
    Map<String, JsonNode> resultsByStep = new HashMap<>();
    Scope scope = new Scope(inputs, resultsByStep, results);
    List<StepJob> start = new ArrayList<>();
    String failure = null;
    int known = 0;
    int finished = 0;
    BigDecimal total = BigDecimal.ZERO;
    for (Step step : order(def)) {
      Map<Integer, JobView> mine = jobs.getOrDefault(step.name(), Map.of());
      boolean ready = step.dependsOn().stream().allMatch(d -> views.get(d).status() == StepStatus.COMPLETED);
      if (!ready) {
        views.put(step.name(), new StepView(step, StepStatus.WAITING, -1, 0, BigDecimal.ZERO, null));
        known++;
        continue;
      }
      StepView view = advance(step, mine, scope, start);
      views.put(step.name(), view);
      known += Math.max(view.items(), 1);
      finished += (int) mine.values().stream().filter(j -> j.status() != JobStatus.UNFINISHED).count();
      total = total.add(view.cost());
      if (view.status() == StepStatus.FAILED && failure == null) {
        failure = "step " + step.name() + " failed: " + view.error();
      }
    }
    List<StepView> inOrder = def.steps().stream().map(s -> views.get(s.name())).toList();
    if (failure != null) {
      return new Plan(List.of(), Outcome.FAILED, null, failure, inOrder, percent(finished, known), total);
    }
    boolean done = inOrder.stream().allMatch(v -> v.status() == StepStatus.COMPLETED);
    if (!done) {
      return new Plan(List.copyOf(start), Outcome.RUNNING, null, null, inOrder, Math.min(99, percent(finished, known)),
          total);
    }
    try {
      return new Plan(List.of(), Outcome.COMPLETED, output(def, scope), null, inOrder, 100, total);
    } catch (InvalidWorkflow e) {
      return new Plan(List.of(), Outcome.FAILED, null, "the output cannot be made: " + e.getMessage(), inOrder, 100,
          total);
    }
  }

  /** One ready step: its jobs to start, and how it stands. */
  private static StepView advance(Step step, Map<Integer, JobView> mine, Scope scope, List<StepJob> start) {
    int items;
    try {
      items = items(step, scope);
    } catch (InvalidWorkflow e) {
      return new StepView(step, StepStatus.FAILED, 0, 0, BigDecimal.ZERO, e.getMessage());
    }
    int completed = 0;
    BigDecimal cost = BigDecimal.ZERO;
    String error = null;
    List<StepJob> missing = new ArrayList<>();
    for (int i = 0; i < items; i++) {
      JobView job = mine.get(i);
      if (job == null) {
        try {
          missing.add(render(step, i, scope));
        } catch (InvalidWorkflow e) {
          error = error == null ? e.getMessage() : error;
        }
      } else if (job.status() == JobStatus.COMPLETED) {
        completed++;
        cost = cost.add(job.cost());
      } else if (job.status() == JobStatus.FAILED && error == null) {
        error = (step.forEach() == null ? "" : "item " + i + ": ") + job.error();
      }
    }
    if (error != null) {
      return new StepView(step, StepStatus.FAILED, items, completed, cost, error);
    }
    start.addAll(missing);
    if (completed < items) {
      return new StepView(step, StepStatus.RUNNING, items, completed, cost, null);
    }
    scope.completed(step, items);
    return new StepView(step, StepStatus.COMPLETED, items, completed, cost, null);
  }

  private static int items(Step step, Scope scope) {
    Reference each = step.forEach();
    if (each == null) {
      return 1;
    }
    String field = "steps." + step.name() + ".for_each";
    JsonNode list = scope.resolve(each, field);
    if (!list.isArray()) {
      throw new InvalidWorkflow(field, "{{" + each.text() + "}} is " + Templates.kindOf(list) + ", not a list");
    }
    if (list.size() > MAX_ITEMS) {
      throw new InvalidWorkflow(field, "{{" + each.text() + "}} holds " + list.size() + " items; a step may fan out "
          + "to at most " + MAX_ITEMS);
    }
    return list.size();
  }

  private static StepJob render(Step step, int item, Scope scope) {
    Scope at = step.forEach() == null ? scope : scope.at(step, item);
    String field = "steps." + step.name();
    ObjectNode payload = (ObjectNode) Templates.render(step.payload(), field + ".payload", at);
    ObjectNode constraints = null;
    if (step.constraints() != null) {
      JsonNode c = Templates.render(step.constraints(), field + ".constraints", at);
      constraints = (ObjectNode) c;
    }
    return new StepJob(step, item, payload, constraints);
  }

  private static JsonNode output(WorkflowDefinition def, Scope scope) {
    if (def.output() != null) {
      return Templates.render(def.output(), "output", scope);
    }
    ObjectNode out = NODES.objectNode();
    for (Step s : def.steps()) {
      boolean sink = def.steps().stream().noneMatch(o -> o.dependsOn().contains(s.name()));
      if (sink) {
        out.set(s.name(), scope.stepResult(s.name()));
      }
    }
    return out;
  }

  /** The steps so that each comes after those it waits for; otherwise in definition order. */
  static List<Step> order(WorkflowDefinition def) {
    List<Step> out = new ArrayList<>(def.steps().size());
    java.util.Set<String> placed = new java.util.HashSet<>();
    while (out.size() < def.steps().size()) {
      for (Step s : def.steps()) {
        if (!placed.contains(s.name()) && placed.containsAll(s.dependsOn())) {
          out.add(s);
          placed.add(s.name());
        }
      }
    }
    return out;
  }

  private static int percent(int finished, int known) {
    return known == 0 ? 0 : (int) (100L * finished / known);
  }

  /** What references resolve to while planning: inputs, completed steps' results, and an item. */
  private static final class Scope implements Templates.Scope {
    private final ObjectNode inputs;
    private final Map<String, JsonNode> stepResults;
    private final Map<String, Integer> itemCounts = new HashMap<>();
    private final Results results;
    private final @Nullable JsonNode item;
    private final int index;

    Scope(ObjectNode inputs, Map<String, JsonNode> stepResults, Results results) {
      this(inputs, stepResults, results, null, -1);
    }

    private Scope(ObjectNode inputs, Map<String, JsonNode> stepResults, Results results, @Nullable JsonNode item,
        int index) {
      this.inputs = inputs;
      this.stepResults = stepResults;
      this.results = results;
      this.item = item;
      this.index = index;
    }

    void completed(Step step, int items) {
      itemCounts.put(step.name(), step.forEach() == null ? -1 : items);
    }

    Scope at(Step step, int i) {
      JsonNode list = resolve(step.forEach(), "steps." + step.name() + ".for_each");
      Scope s = new Scope(inputs, stepResults, results, list.get(i), i);
      s.itemCounts.putAll(itemCounts);
      return s;
    }

    /** A completed step's result, read once. */
    JsonNode stepResult(String name) {
      return stepResults.computeIfAbsent(name, n -> {
        int items = itemCounts.get(n);
        if (items < 0) {
          return results.result(n, 0);
        }
        ArrayNode all = NODES.arrayNode(items);
        for (int i = 0; i < items; i++) {
          all.add(results.result(n, i));
        }
        return all;
      });
    }

    @Override
    public JsonNode resolve(Reference ref, String field) {
      return switch (ref.root()) {
        case INPUTS -> Templates.walk(inputs, ref.path(), ref, "inputs", field);
        case STEP -> {
          if (!itemCounts.containsKey(ref.step())) {
            throw new InvalidWorkflow(field, "{{" + ref.text() + "}}: step " + ref.step() + " has not completed");
          }
          yield Templates.walk(stepResult(ref.step()), ref.path(), ref, "the result of step " + ref.step(), field);
        }
        case ITEM -> Templates.walk(java.util.Objects.requireNonNull(item, "item"), ref.path(), ref, "the item", field);
        case INDEX -> IntNode.valueOf(index);
      };
    }
  }
}
