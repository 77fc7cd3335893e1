package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ListExecutionsRequest;
import net.aitbc.grid.v1.ListWorkflowsRequest;
import net.aitbc.grid.v1.VerificationLevel;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The agent routes' bodies and queries, read into WorkflowService requests or refused with what is wrong. */
class AgentRequestsTest {
  private static final String WF = "5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b";
  private static final String UUID = "0d6f0b43-8f5e-4d7a-9a55-1c3a3c2f2b1e";

  private static CreateWorkflowRequest create(String singleQuoted) {
    return AgentRequests.create(HttpData.ofUtf8(singleQuoted.replace('\'', '"')));
  }

  private static ExecuteWorkflowRequest execute(String singleQuoted) {
    return AgentRequests.execute(HttpData.ofUtf8(singleQuoted.replace('\'', '"')), WF, null);
  }

  private static JsonNode json(String text) {
    try {
      return Json.MAPPER.readTree(text);
    } catch (java.io.IOException e) {
      throw new AssertionError(text, e);
    }
  }

  @Test
  void theClisCreateBodyMergedWithAWorkflowFileIsSplitIntoFieldsAndDefinition() {
    // agent create --name wf --description d --verification basic --workflow-file workflow.json
    CreateWorkflowRequest r = create("{'name': 'wf', 'description': 'd', 'verification_level': 'basic',"
        + " 'workflow_id': '" + UUID + "', 'inputs': {'query': null}, 'max_execution_time': 3600,"
        + " 'max_cost_budget': 0.0, 'steps': {'a': {'type': 'noop', 'payload': {'echo': '{{inputs.query}}'}}},"
        + " 'output': {'r': '{{steps.a.result}}'}, 'dependencies': {}, 'tags': ['rag', 'demo'], 'is_public': true,"
        + " 'requires_verification': true}");

    assertThat(r.getName()).isEqualTo("wf");
    assertThat(r.getDescription()).isEqualTo("d");
    assertThat(r.getVerificationLevel()).isEqualTo(VerificationLevel.VERIFICATION_LEVEL_BASIC);
    assertThat(r.getRequestId()).isEqualTo(UUID);
    assertThat(r.getMaxExecutionTime().getSeconds()).isEqualTo(3600);
    assertThat(r.getMaxCostBudget()).isEqualTo("0.0");
    assertThat(r.getTagsList()).containsExactly("rag", "demo");
    assertThat(r.getIsPublic()).isTrue();
    assertThat(json(r.getDefinitionJson())).isEqualTo(json(("{'steps': {'a': {'type': 'noop', 'payload': {'echo':"
        + " '{{inputs.query}}'}}}, 'inputs': {'query': null}, 'output': {'r': '{{steps.a.result}}'},"
        + " 'dependencies': {}}").replace('\'', '"')));
  }

  @Test
  void withoutAFileTheDefinitionHasNoStepsAndBudgetsKeepTheirDigits() {
    CreateWorkflowRequest r = create("{'name': 'wf', 'description': '', 'verification_level': 'zero-knowledge',"
        + " 'workflow_id': '" + UUID + "', 'inputs': {}, 'max_execution_time': 60, 'max_cost_budget': 2.50}");
    assertThat(json(r.getDefinitionJson())).isEqualTo(json("{\"inputs\": {}}"));
    assertThat(r.getVerificationLevel()).isEqualTo(VerificationLevel.VERIFICATION_LEVEL_ZERO_KNOWLEDGE);
    assertThat(r.getMaxCostBudget()).isEqualTo("2.50");
    assertThat(create("{'name': 'wf', 'max_cost_budget': '0.12345678'}").getMaxCostBudget()).isEqualTo("0.12345678");
    // Read-only fields of a saved workflow are ignored, so that it can be created again.
    CreateWorkflowRequest again = create("{'id': '" + WF + "', 'owner_id': 'c', 'version': 1, 'step_count': 0,"
        + " 'created_at': 'x', 'updated_at': 'y', 'name': 'copy', 'output': null}");
    assertThat(again.getName()).isEqualTo("copy");
    assertThat(json(again.getDefinitionJson())).isEqualTo(json("{}"));
    assertThat(again.getRequestId()).isEmpty();
  }

  @Test
  void badCreateFieldsAre422NamingTheField() {
    assertRefused(() -> create("[]"), 422, "the body must be a JSON object such as {\"name\": \"wf\", \"steps\":"
        + " {\"hello\": {\"type\": \"noop\", \"payload\": {\"echo\": \"hi\"}}}}, not a list");
    assertRefused(() -> create("{'name': 'wf', 'step': {}}"), 422, "step is not a field of a workflow; it has"
        + " dependencies, description, inputs, is_public, max_cost_budget, max_execution_time, name, output,"
        + " requires_verification, steps, tags, verification_level, workflow_id");
    assertRefused(() -> create("{'name': 3}"), 422, "name must be a string, not an integer");
    assertRefused(() -> create("{'name': 'wf', 'verification_level': 'strong'}"), 422,
        "verification_level must be basic, full or zero-knowledge, not 'strong'");
    assertRefused(() -> create("{'name': 'wf', 'max_execution_time': 1.5}"), 422,
        "max_execution_time must be a whole number, not a number with a fraction");
    assertRefused(() -> create("{'name': 'wf', 'max_cost_budget': true}"), 422,
        "max_cost_budget must be a number such as 2.5 (0 for no bound), not a boolean");
    assertRefused(() -> create("{'name': 'wf', 'tags': 'rag'}"), 422, "tags must be a list of strings, not a string");
    assertRefused(() -> create("{'name': 'wf', 'tags': [1]}"), 422, "tags must hold strings, not an integer");
    assertRefused(() -> create("{'name': 'wf', 'is_public': 'yes'}"), 422,
        "is_public must be true or false, not a string");
    assertRefused(() -> create("{'name': 'wf', 'requires_verification': false}"), 422,
        "requires_verification cannot be false: every execution's receipt is signed (with verification_level saying"
            + " how much it proves); leave it out or set it to true");
    assertRefused(() -> AgentRequests.create(HttpData.ofUtf8("{\"name\": ")), 400,
        "the request body is not valid JSON: Unexpected end-of-input within/between Object entries"
            + " (line 1, column 10)");
    assertRefused(() -> AgentRequests.create(HttpData.empty()), 400, "the request body is empty: send a JSON object"
        + " such as {\"name\": \"wf\", \"steps\": {\"hello\": {\"type\": \"noop\", \"payload\": {\"echo\": \"hi\"}}}}");
  }

  @Test
  void theClisExecuteBodyBecomesTheRequest() {
    // agent execute <ID> --inputs inputs.json --verification full --priority high --timeout 60
    ExecuteWorkflowRequest r = execute("{'verification_level': 'full', 'workflow_id': '" + WF + "',"
        + " 'inputs': {'query': 'q', 'n': 1.50}, 'priority': 'high', 'timeout_seconds': 60}");
    assertThat(r.getWorkflowId()).isEqualTo(WF);
    assertThat(r.getVerificationLevel()).isEqualTo(VerificationLevel.VERIFICATION_LEVEL_FULL);
    assertThat(r.getInputsJson()).isEqualTo("{\"query\":\"q\",\"n\":1.50}");
    assertThat(r.getPriorityName()).isEqualTo("high");
    assertThat(r.hasPriority()).isFalse();
    assertThat(r.getTimeout().getSeconds()).isEqualTo(60);

    ExecuteWorkflowRequest numbered = execute("{'priority': 7, 'max_execution_time': 30, 'max_cost_budget': 1.5}");
    assertThat(numbered.getPriority()).isEqualTo(7);
    assertThat(numbered.getTimeout().getSeconds()).isEqualTo(30);
    assertThat(numbered.getMaxCostBudget()).isEqualTo("1.5");

    ExecuteWorkflowRequest empty = AgentRequests.execute(HttpData.empty(), WF, " key-1 ");
    assertThat(empty.getInputsJson()).isEmpty();
    assertThat(empty.hasTimeout()).isFalse();
    assertThat(empty.getRequestId()).isEqualTo("key-1");
  }

  @Test
  void badExecuteFieldsAreRefused() {
    assertRefused(() -> execute("{'workflow_id': 'other'}"), 400,
        "workflow_id in the body ('other') is not the one in the path");
    assertRefused(() -> execute("{'inputs': [1]}"), 422, "inputs must be a JSON object of input names and values,"
        + " not a list");
    assertRefused(() -> execute("{'priority': ''}"), 422,
        "priority is an empty string: leave it out for normal, or give low, normal or high");
    assertRefused(() -> execute("{'priority': true}"), 422,
        "priority must be low, normal, high or a whole number 0 to 9, not a boolean");
    assertRefused(() -> execute("{'timeout_seconds': '60'}"), 422,
        "timeout_seconds must be a whole number, not a string");
    assertRefused(() -> execute("{'timeout': 60}"), 422, "timeout is not a field of an execution request; it has"
        + " inputs, max_cost_budget, max_execution_time, priority, timeout_seconds, verification_level, workflow_id");
    assertRefused(() -> AgentRequests.cancelReason(HttpData.ofUtf8("{\"why\": 1}")), 422,
        "why is not a field of a cancel request; it has reason");
    assertThat(AgentRequests.cancelReason(HttpData.empty())).isEmpty();
    assertThat(AgentRequests.cancelReason(HttpData.ofUtf8("{\"reason\": \"enough\"}"))).isEqualTo("enough");
  }

  @Test
  void listQueriesMapToTheirFilters() {
    // agent list --limit 5 (and the other filters of agent list)
    ListWorkflowsRequest r = AgentRequests.workflows(QueryParams.of("limit", "5"));
    assertThat(r.getPageSize()).isEqualTo(5);
    assertThat(r.getTag()).isEmpty();
    assertThat(r.getIncludePublic()).isFalse();
    assertThat(AgentRequests.workflows(QueryParams.of()).getPageSize()).isEqualTo(20);

    ListWorkflowsRequest all = AgentRequests.workflows(QueryParams.builder().add("type", "rag")
        .add("status", "Running").add("verification", "zero-knowledge").add("owner", "client-b").add("offset", "20")
        .build());
    assertThat(all.getTag()).isEqualTo("rag");
    assertThat(all.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_RUNNING);
    assertThat(all.getVerificationLevel()).isEqualTo(VerificationLevel.VERIFICATION_LEVEL_ZERO_KNOWLEDGE);
    assertThat(all.getOwner()).isEqualTo("client-b");
    assertThat(all.getIncludePublic()).isTrue();
    assertThat(all.getOffset()).isEqualTo(20);
    assertThat(AgentRequests.workflows(QueryParams.of("tag", "x", "include_public", "true")).getIncludePublic())
        .isTrue();

    ListExecutionsRequest e = AgentRequests.executions(QueryParams.of("workflow_id", WF, "status", "canceled"));
    assertThat(e.getWorkflowId()).isEqualTo(WF);
    assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_CANCELLED);

    assertRefused(() -> AgentRequests.workflows(QueryParams.of("status", "done")), 422,
        "status must be one of pending, running, completed, failed, cancelled, canceled, not 'done'");
    assertRefused(() -> AgentRequests.workflows(QueryParams.of("verification", "strong")), 422,
        "verification must be basic, full or zero-knowledge, not 'strong'");
    assertRefused(() -> AgentRequests.workflows(QueryParams.of("limit", "0")), 422,
        "limit must be between 1 and 200, not 0");
    assertRefused(() -> AgentRequests.workflows(QueryParams.of("include_public", "maybe")), 422,
        "include_public must be true or false, not 'maybe'");
    assertRefused(() -> AgentRequests.executions(QueryParams.of("offset", "-1")), 422,
        "offset must be of at least 0, not -1");
  }

  private static void assertRefused(ThrowingCallable call, int status, String detail) {
    assertThatThrownBy(call).isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
      assertThat(e.getMessage()).isEqualTo(detail);
      assertThat(e.status().code()).isEqualTo(status);
    });
  }
}
