package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import java.math.BigDecimal;
import java.util.Map;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.StepProgress;
import net.aitbc.grid.v1.StepState;
import net.aitbc.grid.v1.StepStatus;
import net.aitbc.grid.v1.VerificationLevel;
import net.aitbc.grid.v1.Workflow;
import org.junit.jupiter.api.Test;

/** Workflows and executions as the agent routes write them, from the coordinator's messages. */
class AgentJsonTest {
  /** 2026-03-05T12:00:00 UTC. */
  private static final Timestamp CREATED = Timestamp.newBuilder().setSeconds(1772712000L).build();
  private static final Timestamp STARTED = Timestamp.newBuilder().setSeconds(1772712001L).setNanos(250_000_000).build();
  private static final Timestamp ENDED = Timestamp.newBuilder().setSeconds(1772712003L).setNanos(500_000_000).build();
  private static final String WF = "5b".repeat(16);
  private static final String EXEC = "e0".repeat(16);

  @Test
  void aWorkflowIsTheUpstreamModelWithItsDefinitionTakenApart() {
    Workflow w = Workflow.newBuilder().setWorkflowId(WF).setClientId("client-a").setName("wf").setDescription("d")
        .setDefinitionJson("{\"inputs\":{\"q\":null},\"steps\":{\"a\":{\"type\":\"noop\",\"payload\":{}}},"
            + "\"dependencies\":{\"a\":[]}}")
        .setVerificationLevel(VerificationLevel.VERIFICATION_LEVEL_ZERO_KNOWLEDGE)
        .setMaxExecutionTime(Duration.newBuilder().setSeconds(600)).setMaxCostBudget("2.5").addTags("rag")
        .setIsPublic(true).setVersion(1).setStepCount(1).setCreateTime(CREATED).setUpdateTime(CREATED).build();

    ObjectNode o = AgentJson.workflow(w);

    assertThat(o.properties()).extracting(Map.Entry::getKey).containsExactly("id", "owner_id", "name", "description",
        "steps", "dependencies", "max_execution_time", "max_cost_budget", "requires_verification",
        "verification_level", "tags", "version", "is_public", "created_at", "updated_at", "inputs", "output",
        "step_count");
    assertThat(o.get("id").asText()).isEqualTo(WF);
    assertThat(o.get("owner_id").asText()).isEqualTo("client-a");
    assertThat(o.get("steps").get("a").get("type").asText()).isEqualTo("noop");
    assertThat(o.get("dependencies").get("a").isArray()).isTrue();
    assertThat(o.get("max_execution_time").asLong()).isEqualTo(600);
    assertThat(o.get("max_cost_budget").isNumber()).isTrue();
    assertThat(o.get("max_cost_budget").decimalValue()).isEqualTo(new BigDecimal("2.5"));
    assertThat(o.get("verification_level").asText()).isEqualTo("zero-knowledge");
    assertThat(o.get("created_at").asText()).isEqualTo("2026-03-05T12:00:00.000000");
    assertThat(o.get("inputs").has("q")).isTrue();
    assertThat(o.get("output").isNull()).isTrue();

    ObjectNode empty = AgentJson.workflow(w.toBuilder().setDefinitionJson("{}").setMaxCostBudget("0").build());
    assertThat(empty.get("steps")).isEqualTo(Json.object());
    assertThat(empty.get("dependencies")).isEqualTo(Json.object());
    assertThat(Json.text(empty.get("max_cost_budget"))).isEqualTo("0.0");
  }

  @Test
  void anExecutionCarriesIdProgressAndANumericCostFromTheExactDecimal() {
    Execution e = Execution.newBuilder().setExecutionId(EXEC).setWorkflowId(WF).setClientId("client-a")
        .setStatus(ExecutionStatus.EXECUTION_STATUS_COMPLETED).setProgress(100).setCurrentStep(2).setTotalSteps(2)
        .addSteps(StepState.newBuilder().setName("a").setStatus(StepStatus.STEP_STATUS_COMPLETED)
            .addJobIds("ab".repeat(16))
            .setItems(1).setItemsCompleted(1).setCost("0.123456789012345678").setStartTime(STARTED).setEndTime(ENDED))
        .addSteps(StepState.newBuilder().setName("b").setStatus(StepStatus.STEP_STATUS_CANCELLED).addDependsOn("a")
            .setCost("0").setError("x"))
        .setTotalCost("0.123456789012345678").setFinalResultJson("{\"r\":[1,2]}").setInputsJson("{\"q\":\"hi\"}")
        .setPriority(8).setVerificationLevel(VerificationLevel.VERIFICATION_LEVEL_FULL).setMaxCostBudget("0")
        .setCreateTime(CREATED).setStartTime(STARTED).setEndTime(ENDED).setDeadline(ENDED).build();

    ObjectNode o = AgentJson.execution(e);

    assertThat(o.get("id").asText()).isEqualTo(EXEC);
    assertThat(o.get("execution_id").asText()).isEqualTo(EXEC);
    assertThat(o.get("status").asText()).isEqualTo("completed");
    assertThat(o.get("progress").asInt()).isEqualTo(100);
    assertThat(o.get("current_step_name").isNull()).isTrue();
    // Every digit survives: a double would have rounded this.
    assertThat(Json.text(o.get("total_cost"))).isEqualTo("0.123456789012345678");
    assertThat(o.get("current_cost")).isEqualTo(o.get("total_cost"));
    assertThat(o.get("estimated_total_cost").isNull()).isTrue();
    assertThat(o.get("final_result").get("r").size()).isEqualTo(2);
    assertThat(o.get("total_execution_time").decimalValue()).isEqualTo(new BigDecimal("2.25"));
    assertThat(o.get("started_at").asText()).isEqualTo("2026-03-05T12:00:01.250000");
    assertThat(o.get("verification_proof").isNull()).isTrue();
    assertThat(o.get("verification_level").asText()).isEqualTo("full");
    assertThat(o.get("inputs").get("q").asText()).isEqualTo("hi");
    assertThat(o.get("receipt_id").isNull()).isTrue();
    JsonNode a = o.get("step_states").get("a");
    assertThat(a.get("status").asText()).isEqualTo("completed");
    assertThat(a.get("completed").asInt()).isEqualTo(1);
    assertThat(a.get("job_ids").get(0).asText()).isEqualTo("ab".repeat(16));
    assertThat(a.get("completed_at").asText()).isEqualTo("2026-03-05T12:00:03.500000");
    JsonNode b = o.get("step_states").get("b");
    assertThat(b.get("status").asText()).isEqualTo("cancelled");
    assertThat(b.get("depends_on").get(0).asText()).isEqualTo("a");
    assertThat(Json.text(b.get("cost"))).isEqualTo("0.0");
    assertThat(b.get("started_at").isNull()).isTrue();

    ObjectNode pending = AgentJson.execution(Execution.newBuilder().setExecutionId(EXEC)
        .setStatus(ExecutionStatus.EXECUTION_STATUS_PENDING).setTotalCost("0").setCreateTime(CREATED).build());
    assertThat(pending.get("status").asText()).isEqualTo("pending");
    assertThat(Json.text(pending.get("total_cost"))).isEqualTo("0.0");
    assertThat(pending.get("total_execution_time").isNull()).isTrue();
    assertThat(pending.get("final_result").isNull()).isTrue();
    assertThat(pending.get("started_at").isNull()).isTrue();
  }

  @Test
  void progressNamesItsStepItemAndJob() {
    ObjectNode p = AgentJson.progress(EXEC, StepProgress.newBuilder().setStep("docs").setItem(2)
        .setJobId("ab".repeat(16))
        .setProgress(JobProgress.newBuilder().setJobId("ab".repeat(16)).setAttempt(1).setPercent(50).setOutput("tok"))
        .build());
    assertThat(Json.text(p)).isEqualTo("{\"execution_id\":\"" + EXEC + "\",\"step\":\"docs\",\"item\":2,\"job_id\":\""
        + "ab".repeat(16) + "\",\"attempt\":1,\"percent\":50.0,\"output\":\"tok\"}");
  }
}
