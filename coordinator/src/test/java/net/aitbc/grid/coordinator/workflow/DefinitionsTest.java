package net.aitbc.grid.coordinator.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DefinitionsTest {
  private static final Set<String> TYPES = Set.of("inference", "embedding", "noop");

  private static WorkflowDefinition parse(String json) {
    return Definitions.parse(json.replace('\'', '"'), TYPES::contains);
  }

  @Test
  void noStepsIsAValidWorkflow() {
    assertThat(Definitions.parse("", TYPES::contains).steps()).isEmpty();
    assertThat(parse("{}").steps()).isEmpty();
    assertThat(parse("{'steps': {}}").steps()).isEmpty();
  }

  @Test
  void referencesAddDependenciesAndStepsKeepTheirOrder() {
    WorkflowDefinition d = parse("""
        {'inputs': {'text': null, 'lang': 'en'},
         'steps': {
           'summarise': {'type': 'inference', 'payload': {'prompt': 'Summarise ({{inputs.lang}}): {{inputs.text}}'}},
           'embed': {'type': 'embedding', 'payload': {'input': '{{steps.summarise.result.output}}'}},
           'log': {'type': 'noop', 'depends_on': ['embed'], 'retries': 2, 'priority': 'high'},
           'each': {'type': 'embedding', 'for_each': '{{inputs.items}}', 'payload': {'input': '{{item}}', 'i': '{{index}}'}}
         }}""".replace("inputs.items", "inputs.text"));
    assertThat(d.steps()).extracting(WorkflowDefinition.Step::name).containsExactly("summarise", "embed", "log", "each");
    assertThat(d.byName().get("embed").dependsOn()).containsExactly("summarise");
    assertThat(d.byName().get("log").dependsOn()).containsExactly("embed");
    assertThat(d.byName().get("log").retries()).isEqualTo(2);
    assertThat(d.byName().get("log").priority()).isEqualTo(8);
    assertThat(d.byName().get("each").forEach().root()).isEqualTo(Reference.Root.INPUTS);
  }

  @Test
  void upstreamDependenciesAndAListOfStepsAreRead() {
    WorkflowDefinition d = parse("""
        {'steps': [{'name': 'a', 'type': 'noop'}, {'name': 'b', 'type': 'noop'}], 'dependencies': {'b': ['a']}}""");
    assertThat(d.byName().get("b").dependsOn()).containsExactly("a");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', textBlock = """
      {'steps': {'a': {'type': 'noop', 'depends_on': ['b']}, 'b': {'type': 'noop', 'depends_on': ['a']}}} | steps.a.depends_on: the steps wait for each other in a cycle: a → b → a
      {'steps': {'a': {'type': 'noop', 'payload': {'x': '{{steps.a.result}}'}}}} | steps.a.payload.x: {{steps.a.result}}: a step cannot use its own result
      {'steps': {'a': {'type': 'noop', 'payload': {'x': '{{steps.zz.result.y}}'}}}} | steps.a.payload.x: {{steps.zz.result.y}}: there is no step named 'zz'
      {'steps': {'a': {'type': 'noop', 'payload': {'x': ['{{inputs.nope}}']}}}} | steps.a.payload.x[0]: {{inputs.nope}}: there is no input named 'nope'; declare it under "inputs" (with a default, or null when it is required)
      {'steps': {'a': {'type': 'teleport'}}} | steps.a.type: no worker runs jobs of type 'teleport'
      {'steps': {'a': {'payload': {}}}} | steps.a.type: is required: the job type, such as "inference" or "embedding"
      {'steps': {'a': {'type': 'noop', 'retries': 11}}} | steps.a.retries: must be a whole number from 0 to 10, not 11
      {'steps': {'a': {'type': 'noop', 'timout_seconds': 5}}} | steps.a.timout_seconds: is not a step field; a step has constraints, depends_on, description, for_each, name, payload, payment_amount, priority, retries, timeout_seconds, type
      {'steps': {'a': {'type': 'noop', 'depends_on': ['x']}}} | steps.a.depends_on[0]: there is no step named 'x'
      {'steps': {'a': {'type': 'noop', 'payload': {'x': '{{item}}'}}}} | steps.a.payload.x: {{item}}: only a step with for_each has an item and an index
      {'steps': {'a': {'type': 'noop', 'for_each': 'inputs.x'}}} | steps.a.for_each: must be one reference to a list, such as "{{inputs.items}}" or "{{steps.split.result.parts}}"
      {'steps': {'a b': {'type': 'noop'}}} | steps.a b: 'a b' is not a valid name for a step: use 1-64 letters, digits, '_' or '-'
      {'steps': {'a': {'type': 'noop', 'payload': {'x': '{{steps.b}}'}}, 'b': {'type': 'noop'}}} | steps.a.payload.x: {{steps.b}}: a step is referred to as steps.STEP.result, optionally followed by fields
      {'steps': {'a': {'type': 'noop', 'payment_amount': '1.123456789'}}} | steps.a.payment_amount: must be an amount from 0.01 to 1000000 with at most 8 decimals, not "1.123456789"
      {'steps': 'x'} | steps: must be an object of steps by name (or a list of named steps), not a string
      [1] | definition: must be a JSON object with steps, not a list
      {'output': '{{steps.q.result}}'} | output: {{steps.q.result}}: there is no step named 'q'
      """)
  void faultsNameTheStepAndField(String json, String message) {
    assertThatThrownBy(() -> parse(json)).isInstanceOf(InvalidWorkflow.class).hasMessage(message);
  }

  @Test
  void sizeAndDepthAreBounded() {
    String deep = "{\"steps\":{\"a\":{\"type\":\"noop\",\"payload\":" + "{\"x\":".repeat(40) + "1" + "}".repeat(40) + "}}}";
    assertThatThrownBy(() -> Definitions.parse(deep, TYPES::contains)).isInstanceOf(InvalidWorkflow.class)
        .hasMessage("definition: is nested more than 32 levels deep");
    String big = "{\"steps\":{\"a\":{\"type\":\"noop\",\"payload\":{\"x\":\"" + "y".repeat(300_000) + "\"}}}}";
    assertThatThrownBy(() -> Definitions.parse(big, TYPES::contains)).isInstanceOf(InvalidWorkflow.class)
        .hasMessageStartingWith("definition: is 300");
    StringBuilder many = new StringBuilder("{\"steps\":{");
    for (int i = 0; i < 101; i++) {
      many.append(i == 0 ? "" : ",").append("\"s").append(i).append("\":{\"type\":\"noop\"}");
    }
    assertThatThrownBy(() -> Definitions.parse(many + "}}", TYPES::contains)).isInstanceOf(InvalidWorkflow.class)
        .hasMessage("steps: has 101 steps; at most 100 are allowed");
  }

  @Test
  void duplicateKeysAreRefused() {
    assertThatThrownBy(() -> parse("{'steps': {'a': {'type': 'noop'}, 'a': {'type': 'noop'}}}"))
        .isInstanceOf(InvalidWorkflow.class).hasMessageStartingWith("definition: is not valid JSON: Duplicate field 'a'");
  }
}
