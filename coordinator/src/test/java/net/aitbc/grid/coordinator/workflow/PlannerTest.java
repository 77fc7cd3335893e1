package net.aitbc.grid.coordinator.workflow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.aitbc.grid.coordinator.workflow.Planner.JobStatus;
import net.aitbc.grid.coordinator.workflow.Planner.JobView;
import net.aitbc.grid.coordinator.workflow.Planner.Outcome;
import net.aitbc.grid.coordinator.workflow.Planner.Plan;
import net.aitbc.grid.coordinator.workflow.Planner.StepJob;
import net.aitbc.grid.coordinator.workflow.Planner.StepStatus;
import org.junit.jupiter.api.Test;

class PlannerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Map<String, Map<Integer, JobView>> jobs = new HashMap<>();
  private final Map<String, JsonNode> results = new HashMap<>();

  private static WorkflowDefinition def(String json) {
    return Definitions.parse(json.replace('\'', '"'), Set.of("inference", "embedding", "noop")::contains);
  }

  private static ObjectNode obj(String json) {
    try {
      return (ObjectNode) JSON.readTree(json.replace('\'', '"'));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private Plan plan(WorkflowDefinition d, ObjectNode inputs) {
    return Planner.plan(d, Planner.inputs(d, inputs), jobs, (step, item) -> {
      JsonNode r = results.get(step + "#" + item);
      if (r == null) {
        throw new AssertionError("read a result that is not there: " + step + "#" + item);
      }
      return r;
    });
  }

  private void complete(StepJob j, String result, String cost) {
    jobs.computeIfAbsent(j.step().name(), k -> new HashMap<>()).put(j.item(),
        new JobView(JobStatus.COMPLETED, null, new BigDecimal(cost)));
    results.put(j.key(), obj(result));
  }

  private void started(List<StepJob> js) {
    for (StepJob j : js) {
      jobs.computeIfAbsent(j.step().name(), k -> new HashMap<>()).put(j.item(),
          new JobView(JobStatus.UNFINISHED, null, BigDecimal.ZERO));
    }
  }

  @Test
  void withoutStepsItCompletesWithItsInputs() {
    Plan p = plan(def("{'inputs': {'a': 1}}"), obj("{'b': 2}"));
    assertThat(p.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(p.result()).isEqualTo(obj("{'a': 1, 'b': 2}"));
  }

  @Test
  void resultsPassAlongAndIndependentStepsRunTogether() {
    WorkflowDefinition d = def("""
        {'inputs': {'text': null},
         'steps': {
           'summarise': {'type': 'inference', 'payload': {'prompt': 'Summarise: {{inputs.text}}'}},
           'count': {'type': 'noop', 'payload': {'n': '{{inputs.text}}'}},
           'embed': {'type': 'embedding', 'payload': {'input': '{{steps.summarise.result.output}}', 'all': '{{steps.summarise.result}}'}}
         }}""");
    Plan p1 = plan(d, obj("{'text': 'long text'}"));
    assertThat(p1.outcome()).isEqualTo(Outcome.RUNNING);
    assertThat(p1.start()).extracting(StepJob::key).containsExactly("summarise#0", "count#0");
    assertThat(p1.start().get(0).payload()).isEqualTo(obj("{'prompt': 'Summarise: long text'}"));
    started(p1.start());
    // Asked again before anything ended: nothing new.
    assertThat(plan(d, obj("{'text': 'long text'}")).start()).isEmpty();

    complete(p1.start().get(0), "{'output': 'short', 'tokens': 3}", "0.5");
    Plan p2 = plan(d, obj("{'text': 'long text'}"));
    assertThat(p2.start()).extracting(StepJob::key).containsExactly("embed#0");
    assertThat(p2.start().get(0).payload()).isEqualTo(obj("{'input': 'short', 'all': {'output': 'short', 'tokens': 3}}"));
    assertThat(p2.currentStep()).isEqualTo("count");
    started(p2.start());
    complete(p1.start().get(1), "{'ok': true}", "0");
    complete(p2.start().get(0), "{'embedding': [0.1, 0.2]}", "0.25");

    Plan done = plan(d, obj("{'text': 'long text'}"));
    assertThat(done.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(done.progress()).isEqualTo(100);
    assertThat(done.totalCost()).isEqualByComparingTo("0.75");
    // The steps nothing waits for, by name.
    assertThat(done.result()).isEqualTo(obj("{'count': {'ok': true}, 'embed': {'embedding': [0.1, 0.2]}}"));
  }

  @Test
  void forEachFansOutInOrderAndCollectsTheResults() {
    WorkflowDefinition d = def("""
        {'inputs': {'items': null},
         'steps': {'each': {'type': 'embedding', 'for_each': '{{inputs.items}}', 'payload': {'input': '{{item.t}} #{{index}}'}}},
         'output': {'vectors': '{{steps.each.result}}', 'first': '{{steps.each.result.0.v}}'}}""");
    ObjectNode in = obj("{'items': [{'t': 'a'}, {'t': 'b'}, {'t': 'c'}]}");
    Plan p = plan(d, in);
    assertThat(p.start()).extracting(j -> j.payload().get("input").textValue()).containsExactly("a #0", "b #1", "c #2");
    started(p.start());
    complete(p.start().get(2), "{'v': 3}", "0.1");
    complete(p.start().get(0), "{'v': 1}", "0.1");
    Plan mid = plan(d, in);
    assertThat(mid.steps().get(0).completed()).isEqualTo(2);
    assertThat(mid.progress()).isEqualTo(66);
    complete(p.start().get(1), "{'v': 2}", "0.1");
    Plan done = plan(d, in);
    assertThat(done.result()).isEqualTo(obj("{'vectors': [{'v': 1}, {'v': 2}, {'v': 3}], 'first': 1}"));
  }

  @Test
  void anEmptyListCompletesTheStepWithAnEmptyResult() {
    WorkflowDefinition d = def("{'inputs': {'items': []}, 'steps': {'each': {'type': 'noop', 'for_each': '{{inputs.items}}'}}}");
    Plan p = plan(d, obj("{}"));
    assertThat(p.outcome()).isEqualTo(Outcome.COMPLETED);
    assertThat(p.result()).isEqualTo(obj("{'each': []}"));
  }

  @Test
  void theFirstFailureFailsTheExecutionAndStartsNothingMore() {
    WorkflowDefinition d = def("{'steps': {'a': {'type': 'noop'}, 'b': {'type': 'noop'}, 'c': {'type': 'noop', 'depends_on': ['a']}}}");
    Plan p = plan(d, obj("{}"));
    started(p.start());
    jobs.get("a").put(0, new JobView(JobStatus.FAILED, "worker crashed", BigDecimal.ZERO));
    Plan failed = plan(d, obj("{}"));
    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.error()).isEqualTo("step a failed: worker crashed");
    assertThat(failed.start()).isEmpty();
    assertThat(failed.steps()).extracting(Planner.StepView::status)
        .containsExactly(StepStatus.FAILED, StepStatus.RUNNING, StepStatus.WAITING);
  }

  @Test
  void whatAResultLacksFailsTheStepThatNeedsIt() {
    WorkflowDefinition d = def("{'steps': {'a': {'type': 'noop'}, 'b': {'type': 'noop', 'payload': {'x': '{{steps.a.result.output}}'}}}}");
    Plan p = plan(d, obj("{}"));
    started(p.start());
    complete(p.start().get(0), "{'other': 1}", "0");
    Plan failed = plan(d, obj("{}"));
    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.error()).isEqualTo(
        "step b failed: steps.b.payload.x: {{steps.a.result.output}}: the result of step a has no field 'output'");
  }

  @Test
  void aForEachOverSomethingElseThanAListFails() {
    WorkflowDefinition d = def("{'inputs': {'items': null}, 'steps': {'each': {'type': 'noop', 'for_each': '{{inputs.items}}'}}}");
    Plan p = plan(d, obj("{'items': {'a': 1}}"));
    assertThat(p.error()).isEqualTo("step each failed: steps.each.for_each: {{inputs.items}} is an object, not a list");
  }

  @Test
  void aRequiredInputMustBeGiven() {
    WorkflowDefinition d = def("{'inputs': {'text': null}}");
    assertThatThrownBy(() -> Planner.inputs(d, obj("{}"))).isInstanceOf(InvalidWorkflow.class)
        .hasMessage("inputs.text: is required by this workflow and was not given");
  }
}
