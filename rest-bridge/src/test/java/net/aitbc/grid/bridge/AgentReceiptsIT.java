package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.HEX_HASH;
import static net.aitbc.grid.bridge.LedgerSteps.document;
import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.VerificationLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code aitbc agent receipt <EXEC_ID>} and {@code aitbc agent receipt <EXEC_ID> --verify}, sent as
 * contract §8 and §11 give them, to a bridge in front of a coordinator that signs receipts and seals
 * blocks: the upstream's fields filled from the signed receipt, which verifies offline and at the
 * verify route; an altered copy does not, and says why; bad requests get 4xx.
 */
class AgentReceiptsIT {
  private static final String MODEL = "agent-receipts";
  private static final String TWO_STEPS = """
      {'steps': {'draft': {'type': 'inference', 'payload': {'model': '%s', 'prompt': 'a'}},
                 'final': {'type': 'inference', 'payload': {'model': '%s', 'prompt': '{{steps.draft.result.output}}'}}}}"""
      .formatted(MODEL, MODEL);

  private static Grid grid;
  private static Execution execution;
  /** What {@code agent receipt <EXEC_ID>} prints, once the receipt is sealed. */
  private static JsonNode answer;

  @BeforeAll
  static void runAnExecutionToItsBlock() {
    grid = Grid.startWithLedger(LedgerSteps.SEAL_EVERY);
    String id = AgentWorkflows.execute(grid, grid.clientKey, TWO_STEPS, VerificationLevel.VERIFICATION_LEVEL_FULL);
    try (TestWorker w = grid.worker("w-" + MODEL, MODEL)) {
      w.credit(2);
      for (int i = 0; i < 2; i++) {
        Assignment a = assignment(w);
        w.complete(a.getJobId(), a.getAttempt(), "{\"output\":\"hello\"}");
      }
      execution = AgentWorkflows.ended(grid, grid.clientKey, id);
    }
    AtomicReference<JsonNode> sealed = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      JsonNode body = ok(grid, "/api/v1/agents/executions/" + id + "/receipt", grid.clientKey);
      assertThat(body.get("block_hash").isNull()).as(body.toString()).isFalse();
      sealed.set(body);
    });
    answer = sealed.get();
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  private static Assignment assignment(TestWorker w) {
    while (true) {
      ConnectResponse m = w.next(Duration.ofSeconds(15));
      assertThat(m).as("an assignment within 15 s").isNotNull();
      if (m.hasAssignment()) {
        return m.getAssignment();
      }
    }
  }

  @Test
  void agentReceiptAnswersTheUpstreamFieldsFilledFromTheSignedReceipt() {
    // agent receipt <EXEC_ID>
    Reply r = grid.get("/api/v1/agents/executions/" + execution.getExecutionId() + "/receipt", grid.clientKey);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    JsonNode body = r.json();
    JsonNode receipt = body.get("receipt");
    assertThat(Receipts.check(document(receipt), grid.coordinatorKey)).isEmpty();
    assertThat(receipt.get("type").asText()).isEqualTo("execution");
    assertThat(receipt.get("status").asText()).isEqualTo("completed");
    assertThat(receipt.get("client").asText()).isEqualTo("client-a");
    assertThat(receipt.get("steps")).hasSize(2).allSatisfy(s -> assertThat(s.get("leaf_hash").asText()).matches(HEX_HASH));

    assertThat(body.get("execution_id").asText()).isEqualTo(execution.getExecutionId())
        .isEqualTo(receipt.get("execution_id").asText());
    assertThat(body.get("workflow_id").asText()).isEqualTo(execution.getWorkflowId());
    assertThat(body.get("status").asText()).isEqualTo("completed");
    assertThat(body.get("receipt_id").asText()).isEqualTo(execution.getReceiptId())
        .isEqualTo(receipt.get("receipt_id").asText());
    assertThat(body.get("miner_signature").isNull()).isTrue();
    assertThat(body.get("coordinator_attestations")).hasSize(1);
    JsonNode attestation = body.get("coordinator_attestations").get(0);
    assertThat(attestation.get("coordinator_id").asText()).isEqualTo(grid.coordinatorKey.keyId());
    assertThat(attestation.get("signature").asText()).isEqualTo(receipt.get("signature").get("sig").asText());
    assertThat(attestation.get("timestamp").asText()).matches(Grid.NAIVE_TIME);
    assertThat(body.get("recorded_at").asText()).isEqualTo(attestation.get("timestamp").asText());
    assertThat(body.get("minted_amount").asDouble()).isZero();
    assertThat(body.get("verified").asBoolean()).isTrue();
    assertThat(body.get("transaction_hash").asText()).isEqualTo(Hex.encode(Receipts.leafHash(document(receipt))));
    JsonNode block = ok(grid, "/v1/ledger/blocks/" + body.get("block_height").asLong(), grid.clientKey);
    assertThat(body.get("block_hash").asText()).isEqualTo(block.get("hash").asText());
    assertThat(r.body()).doesNotContain(grid.clientKey);

    // The /v1/agents alias, and our own receipt routes, serve the same receipt.
    assertThat(ok(grid, "/v1/agents/executions/" + execution.getExecutionId() + "/receipt", grid.clientKey))
        .isEqualTo(body);
    JsonNode transaction = ok(grid, "/v1/explorer/transactions/" + body.get("transaction_hash").asText(),
        grid.clientKey);
    assertThat(transaction.get("receipt")).isEqualTo(receipt);
  }

  @Test
  void agentReceiptVerifyIsValid() {
    // agent receipt <EXEC_ID> --verify: the GET's answer, wrapped.
    ObjectNode request = Json.object();
    request.set("receipt", answer);
    JsonNode verdict = verify("/api/v1/agents/receipts/verify", request.toString());
    assertThat(verdict.get("valid").asBoolean()).as(verdict.toString()).isTrue();
    assertThat(verdict.get("reasons")).isEmpty();
    assertThat(verdict.get("execution_id").asText()).isEqualTo(execution.getExecutionId());
    assertThat(verdict.get("receipt_id").asText()).isEqualTo(execution.getReceiptId());
    assertThat(verdict.get("coordinator_id").asText()).isEqualTo(grid.coordinatorKey.keyId());
    assertThat(verdict.get("transaction_hash")).isEqualTo(answer.get("transaction_hash"));
    assertThat(verdict.get("block_hash")).isEqualTo(answer.get("block_hash"));
    assertThat(verdict.get("block_height")).isEqualTo(answer.get("block_height"));

    // The signed receipt alone, wrapped or not, and at the /v1 alias.
    ObjectNode signedOnly = Json.object();
    signedOnly.set("receipt", answer.get("receipt"));
    assertThat(verify("/v1/agents/receipts/verify", signedOnly.toString()).get("valid").asBoolean()).isTrue();
    assertThat(verify("/api/v1/agents/receipts/verify", answer.get("receipt").toString()).get("valid").asBoolean())
        .isTrue();
  }

  @Test
  void anAlteredReceiptIsNotValidAndSaysWhy() {
    // A cheaper total in the signed receipt: its signature, and the ledger holds no such receipt.
    ObjectNode cheaper = (ObjectNode) answer.deepCopy();
    ((ObjectNode) cheaper.get("receipt")).put("total_cost", "0.00000001");
    JsonNode verdict = verifyWrapped(cheaper);
    assertThat(verdict.get("valid").asBoolean()).isFalse();
    assertThat(verdict.get("reasons")).extracting(JsonNode::asText).contains(
        "signature.sig: the signature does not verify", "the ledger holds no receipt with this content",
        "transaction_hash: \"" + answer.get("transaction_hash").asText() + "\" is not the signed receipt's leaf hash");

    // A step's job receipt swapped for another hash.
    ObjectNode swapped = (ObjectNode) answer.deepCopy();
    ((ObjectNode) swapped.get("receipt").get("steps").get(1)).put("leaf_hash", "00".repeat(32));
    JsonNode stepVerdict = verifyWrapped(swapped);
    assertThat(stepVerdict.get("valid").asBoolean()).isFalse();
    assertThat(stepVerdict.get("reasons")).extracting(JsonNode::asText)
        .contains("signature.sig: the signature does not verify")
        .anySatisfy(reason -> assertThat(reason).startsWith("steps[1] (final#0): leaf_hash is not job receipt "));

    // Only the answer around it altered: the signed receipt still verifies, the answer does not restate it.
    ObjectNode relabelled = ((ObjectNode) answer.deepCopy()).put("status", "failed").put("verified", true);
    JsonNode envelopeVerdict = verifyWrapped(relabelled);
    assertThat(envelopeVerdict.get("valid").asBoolean()).isFalse();
    assertThat(envelopeVerdict.get("reasons")).extracting(JsonNode::asText)
        .containsExactly("status: the answer says \"failed\", the signed receipt \"completed\"");
  }

  @Test
  void badRequestsAreRefusedWithTheirReason() {
    String running = AgentWorkflows.execute(grid, grid.clientKey, """
        {'steps': {'waits': {'type': 'inference', 'payload': {'model': 'no-such-model', 'prompt': 'x'}}}}""",
        VerificationLevel.VERIFICATION_LEVEL_BASIC);
    assertThat(grid.get("/api/v1/agents/executions/" + running + "/receipt", grid.clientKey).assertError(404))
        .matches("execution " + running + " is (pending|running): its receipt is issued when it ends");
    assertThat(grid.get("/api/v1/agents/executions/" + execution.getExecutionId() + "/receipt", grid.otherClientKey)
        .assertError(404)).isEqualTo("execution " + execution.getExecutionId() + " not found");
    assertThat(grid.get("/api/v1/agents/executions/exec_0123456789/receipt", grid.clientKey).assertError(404))
        .isEqualTo("execution not found");
    assertThat(grid.get("/api/v1/agents/executions/" + execution.getExecutionId() + "/receipt", null)
        .assertError(401)).isNotEmpty();

    String path = "/api/v1/agents/receipts/verify";
    assertThat(grid.post(path, grid.clientKey, "{\"receipt\":").assertError(400))
        .startsWith("the request body is not valid JSON");
    assertThat(grid.post(path, grid.clientKey, "[]").assertError(422)).contains("{\"receipt\": {...}}");
    assertThat(grid.post(path, grid.clientKey, "{\"receipt\": null}").assertError(422))
        .isEqualTo("receipt is null: there is no receipt to verify");
    assertThat(grid.post(path, grid.clientKey, "{\"receipt\": 7}").assertError(422))
        .startsWith("receipt must be a JSON object");
    // Something that is no receipt at all: not valid, with the fields it lacks.
    JsonNode nothing = verify(path, "{\"receipt\": {\"hello\": 1}}");
    assertThat(nothing.get("valid").asBoolean()).isFalse();
    assertThat(nothing.get("reasons")).extracting(JsonNode::asText).contains("receipt_id: missing",
        "type: missing: not an execution's receipt");
  }

  private static JsonNode verifyWrapped(JsonNode receipt) {
    ObjectNode request = Json.object();
    request.set("receipt", receipt);
    return verify("/api/v1/agents/receipts/verify", request.toString());
  }

  private static JsonNode verify(String path, String body) {
    Reply r = grid.post(path, grid.clientKey, body);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    return r.json();
  }
}
