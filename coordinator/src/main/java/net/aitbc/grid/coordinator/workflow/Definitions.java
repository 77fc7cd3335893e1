package net.aitbc.grid.coordinator.workflow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import net.aitbc.grid.coordinator.workflow.WorkflowDefinition.Step;
import org.jspecify.annotations.Nullable;

/**
 * Reads and checks a workflow definition: a JSON object with {@code steps} (an object of steps by
 * name, or a list of steps each with a {@code name}), optional {@code inputs} (declared inputs and
 * their defaults), {@code output} (a template of the result) and {@code dependencies} (step → the
 * steps it waits for, as the upstream model writes them). Every fault is an {@link InvalidWorkflow}
 * naming the step and field; a definition that passes can only fail at run time on what its inputs
 * and results hold.
 */
public final class Definitions {
  /** The most steps a workflow may have. */
  public static final int MAX_STEPS = 100;
  /** The largest definition, in bytes of JSON. */
  public static final int MAX_BYTES = 256 * 1024;
  /** The deepest nesting of objects and lists a definition may have. */
  public static final int MAX_DEPTH = 32;

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern TYPE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Set<String> STEP_FIELDS = Set.of("name", "description", "type", "payload", "constraints",
      "priority", "retries", "timeout_seconds", "depends_on", "for_each", "payment_amount");
  private static final Set<String> TOP_FIELDS = Set.of("steps", "inputs", "output", "dependencies");
  private static final Map<String, Integer> PRIORITY_NAMES = Map.of("low", 2, "normal", 5, "high", 8);
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  static {
    JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH + 1).build());
  }

  private Definitions() {}

  /** The parts of a definition the workflow service stores apart from it; the rest is ignored. */
  public static Set<String> fields() {
    return TOP_FIELDS;
  }

  /**
   * Reads {@code json} (empty for no steps). {@code knownType} says which job types the grid runs;
   * a step of another type is refused.
   */
  public static WorkflowDefinition parse(String json, Predicate<String> knownType) {
    if (json.isBlank()) {
      return new WorkflowDefinition(List.of(), JsonNodeFactory.instance.objectNode(), null);
    }
    int bytes = json.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_BYTES) {
      throw new InvalidWorkflow("definition", "is " + bytes + " bytes; at most " + MAX_BYTES + " are allowed");
    }
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
      throw new InvalidWorkflow("definition", "is nested more than " + MAX_DEPTH + " levels deep");
    } catch (JsonProcessingException e) {
      throw new InvalidWorkflow("definition", "is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw new InvalidWorkflow("definition", "must be a JSON object with steps, not "
          + (root == null ? "nothing" : Templates.kindOf(root)));
    }
    return parse((ObjectNode) root, knownType);
  }

  private static WorkflowDefinition parse(ObjectNode root, Predicate<String> knownType) {
    ObjectNode inputs = JsonNodeFactory.instance.objectNode();
    JsonNode in = present(root, "inputs");
    if (in != null) {
      if (!in.isObject()) {
        throw new InvalidWorkflow("inputs", "must be an object of input names and their defaults (null for a "
            + "required input), not " + Templates.kindOf(in));
      }
      in.properties().forEach(e -> {
        name(e.getKey(), "inputs." + e.getKey(), "an input");
        inputs.set(e.getKey(), e.getValue());
      });
    }
    Map<String, ObjectNode> raw = steps(present(root, "steps"));
    Map<String, Set<String>> extraDeps = dependencies(present(root, "dependencies"), raw.keySet());

    List<Step> steps = new ArrayList<>(raw.size());
    for (Map.Entry<String, ObjectNode> e : raw.entrySet()) {
      steps.add(step(e.getKey(), e.getValue(), raw.keySet(), inputs, knownType,
          extraDeps.getOrDefault(e.getKey(), Set.of())));
    }
    JsonNode output = present(root, "output");
    if (output != null) {
      Templates.references(output, "output", (field, ref) -> checkReference(ref, field, null, raw.keySet(), inputs,
          false));
    }
    checkAcyclic(steps);
    return new WorkflowDefinition(List.copyOf(steps), inputs, output);
  }

  /** The steps by name, in the order written. */
  private static Map<String, ObjectNode> steps(@Nullable JsonNode steps) {
    Map<String, ObjectNode> out = new LinkedHashMap<>();
    if (steps == null) {
      return out;
    }
    if (steps.isObject()) {
      for (Map.Entry<String, JsonNode> e : steps.properties()) {
        String field = "steps." + e.getKey();
        name(e.getKey(), field, "a step");
        out.put(e.getKey(), stepObject(e.getValue(), field));
      }
    } else if (steps.isArray()) {
      for (int i = 0; i < steps.size(); i++) {
        String field = "steps[" + i + "]";
        ObjectNode s = stepObject(steps.get(i), field);
        JsonNode n = s.get("name");
        if (n == null || !n.isTextual()) {
          throw new InvalidWorkflow(field + ".name", "each step in a list needs a name (a string)");
        }
        name(n.textValue(), field + ".name", "a step");
        if (out.put(n.textValue(), s) != null) {
          throw new InvalidWorkflow(field + ".name", "two steps are named '" + n.textValue() + "'");
        }
      }
    } else {
      throw new InvalidWorkflow("steps", "must be an object of steps by name (or a list of named steps), not "
          + Templates.kindOf(steps));
    }
    if (out.size() > MAX_STEPS) {
      throw new InvalidWorkflow("steps", "has " + out.size() + " steps; at most " + MAX_STEPS + " are allowed");
    }
    return out;
  }

  private static ObjectNode stepObject(JsonNode n, String field) {
    if (!n.isObject()) {
      throw new InvalidWorkflow(field, "a step must be an object with a type and a payload, not " + Templates.kindOf(n));
    }
    for (String f : (Iterable<String>) n::fieldNames) {
      if (!STEP_FIELDS.contains(f)) {
        throw new InvalidWorkflow(field + "." + f, "is not a step field; a step has " + String.join(", ",
            new java.util.TreeSet<>(STEP_FIELDS)));
      }
    }
    return (ObjectNode) n;
  }

  /** The upstream model's {@code dependencies}: step name → the names it waits for. */
  private static Map<String, Set<String>> dependencies(@Nullable JsonNode deps, Set<String> names) {
    Map<String, Set<String>> out = new HashMap<>();
    if (deps == null) {
      return out;
    }
    if (!deps.isObject()) {
      throw new InvalidWorkflow("dependencies", "must be an object of step names and the steps each waits for, not "
          + Templates.kindOf(deps));
    }
    for (Map.Entry<String, JsonNode> e : deps.properties()) {
      String field = "dependencies." + e.getKey();
      if (!names.contains(e.getKey())) {
        throw new InvalidWorkflow(field, "there is no step named '" + e.getKey() + "'");
      }
      out.put(e.getKey(), names(e.getValue(), field, names));
    }
    return out;
  }

  private static Set<String> names(JsonNode list, String field, Set<String> names) {
    if (!list.isArray()) {
      throw new InvalidWorkflow(field, "must be a list of step names, not " + Templates.kindOf(list));
    }
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < list.size(); i++) {
      JsonNode n = list.get(i);
      if (!n.isTextual() || !names.contains(n.textValue())) {
        throw new InvalidWorkflow(field + "[" + i + "]", n.isTextual() ? "there is no step named '" + n.textValue() + "'"
            : "must be a step name, not " + Templates.kindOf(n));
      }
      out.add(n.textValue());
    }
    return out;
  }

  private static Step step(String name, ObjectNode s, Set<String> names, ObjectNode inputs,
      Predicate<String> knownType, Set<String> extraDeps) {
    String field = "steps." + name;
    JsonNode p = present(s, "payload");
    if (p != null && !p.isObject()) {
      throw new InvalidWorkflow(field + ".payload", "must be a JSON object, not " + Templates.kindOf(p));
    }
    ObjectNode payload = p == null ? JsonNodeFactory.instance.objectNode() : (ObjectNode) p;
    String type = type(s, payload, field, knownType);
    JsonNode c = present(s, "constraints");
    if (c != null && !c.isObject()) {
      throw new InvalidWorkflow(field + ".constraints", "must be a JSON object, not " + Templates.kindOf(c));
    }
    Integer priority = priority(present(s, "priority"), field + ".priority");
    Integer retries = whole(present(s, "retries"), field + ".retries", 0, 10);
    Integer timeout = whole(present(s, "timeout_seconds"), field + ".timeout_seconds", 1, 86_400);
    String amount = amount(present(s, "payment_amount"), field + ".payment_amount");

    Reference forEach = null;
    JsonNode fe = present(s, "for_each");
    if (fe != null) {
      forEach = forEach(fe, field + ".for_each");
      checkReference(forEach, field + ".for_each", name, names, inputs, false);
    }
    boolean fansOut = forEach != null;
    Set<String> deps = new LinkedHashSet<>(extraDeps);
    JsonNode d = present(s, "depends_on");
    if (d != null) {
      deps.addAll(names(d.isTextual() ? JsonNodeFactory.instance.arrayNode().add(d) : d, field + ".depends_on",
          names));
    }
    if (forEach != null && forEach.root() == Reference.Root.STEP) {
      deps.add(forEach.step());
    }
    for (JsonNode template : new JsonNode[] {payload, c}) {
      if (template != null) {
        String where = field + (template == payload ? ".payload" : ".constraints");
        Templates.references(template, where, (f, ref) -> {
          checkReference(ref, f, name, names, inputs, fansOut);
          if (ref.root() == Reference.Root.STEP) {
            deps.add(ref.step());
          }
        });
      }
    }
    if (deps.contains(name)) {
      throw new InvalidWorkflow(field + ".depends_on", "a step cannot wait for itself");
    }
    return new Step(name, type, payload, (ObjectNode) c, priority, retries, timeout, amount, List.copyOf(deps), forEach);
  }

  private static String type(ObjectNode s, ObjectNode payload, String field, Predicate<String> knownType) {
    JsonNode t = present(s, "type");
    String where = field + ".type";
    if (t == null) {
      t = present(payload, "type");
      where = field + ".payload.type";
    }
    if (t == null) {
      throw new InvalidWorkflow(field + ".type", "is required: the job type, such as \"inference\" or \"embedding\"");
    }
    if (!t.isTextual()) {
      throw new InvalidWorkflow(where, "must be a string such as \"embedding\", not " + Templates.kindOf(t));
    }
    String type = t.textValue().strip().toLowerCase(Locale.ROOT);
    if (!TYPE.matcher(type).matches()) {
      throw new InvalidWorkflow(where, "'" + abbreviate(t.textValue()) + "' is not a job type: use 1-64 letters, "
          + "digits, '.', '_' or '-'");
    }
    if (!knownType.test(type)) {
      throw new InvalidWorkflow(where, "no worker runs jobs of type '" + type + "'");
    }
    return type;
  }

  private static Reference forEach(JsonNode fe, String field) {
    if (!fe.isTextual()) {
      throw new InvalidWorkflow(field, "must be one reference to a list, such as \"{{inputs.items}}\", not "
          + Templates.kindOf(fe));
    }
    String text = fe.textValue().strip();
    if (!text.startsWith("{{") || !text.endsWith("}}") || text.indexOf("{{", 2) >= 0) {
      throw new InvalidWorkflow(field, "must be one reference to a list, such as \"{{inputs.items}}\" or "
          + "\"{{steps.split.result.parts}}\"");
    }
    Reference ref = Reference.parse(text.substring(2, text.length() - 2), field);
    if (ref.root() == Reference.Root.ITEM || ref.root() == Reference.Root.INDEX) {
      throw new InvalidWorkflow(field, "must refer to an input or an earlier step's result, not to {{" + ref.text()
          + "}}");
    }
    return ref;
  }

  /** A reference must name a declared input, another step, or (in a for_each step) the item. */
  private static void checkReference(Reference ref, String field, @Nullable String self, Set<String> steps,
      ObjectNode inputs, boolean fansOut) {
    switch (ref.root()) {
      case INPUTS -> {
        if (!ref.path().isEmpty() && !inputs.has(ref.path().get(0))) {
          throw new InvalidWorkflow(field, "{{" + ref.text() + "}}: there is no input named '" + ref.path().get(0)
              + "'; declare it under \"inputs\" (with a default, or null when it is required)");
        }
      }
      case STEP -> {
        if (!steps.contains(ref.step())) {
          throw new InvalidWorkflow(field, "{{" + ref.text() + "}}: there is no step named '" + ref.step() + "'");
        }
        if (ref.step().equals(self)) {
          throw new InvalidWorkflow(field, "{{" + ref.text() + "}}: a step cannot use its own result");
        }
      }
      case ITEM, INDEX -> {
        if (!fansOut) {
          throw new InvalidWorkflow(field, "{{" + ref.text() + "}}: only a step with for_each has an item and an "
              + "index");
        }
      }
    }
  }

  /** Refuses a cycle, naming it: {@code a → b → a}. */
  private static void checkAcyclic(List<Step> steps) {
    Map<String, Step> byName = new HashMap<>();
    steps.forEach(s -> byName.put(s.name(), s));
    Map<String, Integer> mark = new HashMap<>(); // 1: on the path, 2: done
    for (Step s : steps) {
      Deque<String> path = new ArrayDeque<>();
      visit(s.name(), byName, mark, path);
    }
  }

  private static void visit(String name, Map<String, Step> byName, Map<String, Integer> mark, Deque<String> path) {
    Integer m = mark.get(name);
    if (m != null && m == 2) {
      return;
    }
    path.addLast(name);
    if (m != null) {
      List<String> cycle = new ArrayList<>(path);
      cycle = cycle.subList(cycle.indexOf(name), cycle.size());
      throw new InvalidWorkflow("steps." + cycle.get(0) + ".depends_on", "the steps wait for each other in a cycle: "
          + String.join(" → ", cycle));
    }
    mark.put(name, 1);
    for (String d : byName.get(name).dependsOn()) {
      visit(d, byName, mark, path);
    }
    mark.put(name, 2);
    path.removeLast();
  }

  private static @Nullable Integer priority(@Nullable JsonNode p, String field) {
    if (p != null && p.isTextual()) {
      Integer named = PRIORITY_NAMES.get(p.textValue().strip().toLowerCase(Locale.ROOT));
      if (named == null) {
        throw new InvalidWorkflow(field, "must be low, normal, high or a whole number from 0 to 9, not '"
            + abbreviate(p.textValue()) + "'");
      }
      return named;
    }
    return whole(p, field, 0, 9);
  }

  private static @Nullable Integer whole(@Nullable JsonNode n, String field, int min, int max) {
    if (n == null) {
      return null;
    }
    if (!n.isNumber() || !n.canConvertToExactIntegral() || !n.canConvertToInt() || n.intValue() < min
        || n.intValue() > max) {
      throw new InvalidWorkflow(field, "must be a whole number from " + min + " to " + max + ", not "
          + abbreviate(n.toString()));
    }
    return n.intValue();
  }

  /** A decimal as text, checked as a payment amount when a step's job is made (one owner of that rule). */
  private static @Nullable String amount(@Nullable JsonNode n, String field) {
    if (n == null) {
      return null;
    }
    if (n.isTextual() || n.isNumber()) {
      String text = n.isTextual() ? n.textValue().strip() : n.decimalValue().toPlainString();
      try {
        java.math.BigDecimal v = new java.math.BigDecimal(text);
        if (v.signum() > 0 && v.scale() <= 8 && v.compareTo(java.math.BigDecimal.valueOf(1_000_000)) <= 0) {
          return v.toPlainString();
        }
      } catch (NumberFormatException e) {
        // Below.
      }
    }
    throw new InvalidWorkflow(field, "must be an amount from 0.01 to 1000000 with at most 8 decimals, not "
        + abbreviate(n.toString()));
  }

  private static void name(String name, String field, String what) {
    if (!NAME.matcher(name).matches()) {
      throw new InvalidWorkflow(field, "'" + abbreviate(name) + "' is not a valid name for " + what
          + ": use 1-64 letters, digits, '_' or '-'");
    }
  }

  private static @Nullable JsonNode present(JsonNode object, String field) {
    JsonNode n = object.get(field);
    return n == null || n.isNull() ? null : n;
  }

  private static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }
}
