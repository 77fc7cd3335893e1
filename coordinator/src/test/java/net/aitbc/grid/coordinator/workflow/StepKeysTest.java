package net.aitbc.grid.coordinator.workflow;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import org.junit.jupiter.api.Test;

class StepKeysTest {
  @Test
  void aStepJobsRequestIdNamesItsExecutionStepAndItem() {
    WorkflowDefinition def = Definitions.parse("{\"steps\":{\"sum-up_2\":{\"type\":\"noop\",\"for_each\":"
        + "\"{{inputs.xs}}\"}},\"inputs\":{\"xs\":[1,2,3]}}", Set.of("noop")::contains);
    Planner.Plan plan = Planner.plan(def, def.inputs(), java.util.Map.of(), (s, i) -> {
      throw new AssertionError();
    });
    UUID execution = new JobIds().next();
    String id = StepKeys.requestId(execution, plan.start().get(2));

    assertThat(id).isEqualTo("wf:" + JobIds.format(execution) + ":sum-up_2#2");
    assertThat(id.length()).isLessThanOrEqualTo(200);
    assertThat(StepKeys.parse(id)).contains(new StepKeys.Key("sum-up_2", 2));
  }

  @Test
  void otherRequestIdsNameNoStep() {
    String execution = JobIds.format(new JobIds().next());
    for (String id : new String[] {"order-42", "wf:", "wf:" + execution + ":a", "wf:" + execution + ":#1",
        "wf:" + execution + ":a#x", "wf:" + execution + "-a#1", "xx:" + execution + ":a#1"}) {
      assertThat(StepKeys.parse(id)).as(id).isEmpty();
    }
  }
}
