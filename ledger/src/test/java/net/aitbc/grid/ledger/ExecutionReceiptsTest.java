package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Receipts.check on executions' receipts: the fields, the steps it names, the signature. */
class ExecutionReceiptsTest {
  private final SigningKey coordinator = ContractVectorTest.vectorKey();

  private static ObjectNode completed() {
    ObjectNode r = JsonNodeFactory.instance.objectNode().put("version", "1.0").put("type", "execution")
        .put("receipt_id", "0e".repeat(16)).put("execution_id", "e1".repeat(16)).put("workflow_id", "af".repeat(16))
        .put("client", "client-a").put("status", "completed").put("verification_level", "full")
        .put("total_cost", "0.40000000").put("started_at", 1772712000L).put("completed_at", 1772712009L)
        .put("result_sha256", "ab".repeat(32));
    ArrayNode steps = r.putArray("steps");
    steps.addObject().put("step", "draft").put("item", 0).put("job_id", "5b".repeat(16)).put("state", "COMPLETED")
        .put("receipt_id", "1e".repeat(16)).put("leaf_hash", "cd".repeat(32));
    steps.addObject().put("step", "final").put("item", 0).put("job_id", "5c".repeat(16)).put("state", "COMPLETED")
        .put("receipt_id", "1f".repeat(16)).put("leaf_hash", "ce".repeat(32));
    return r;
  }

  private static ObjectNode failed() {
    ObjectNode r = completed().put("status", "failed").put("error", "step final failed: boom");
    r.remove("result_sha256");
    ObjectNode last = (ObjectNode) r.get("steps").get(1);
    last.put("state", "FAILED").remove(List.of("receipt_id", "leaf_hash"));
    return r;
  }

  @Test
  void aCompletedAndAFailedExecutionSignedByTheCoordinatorHaveNoProblems() {
    for (ObjectNode body : new ObjectNode[] {completed(), failed()}) {
      ObjectNode signed = Signatures.sign(body, coordinator);
      assertThat(ExecutionReceipts.isExecution(signed)).isTrue();
      assertThat(PaymentReceipts.isPayment(signed)).isFalse();
      assertThat(Receipts.check(signed, coordinator.verifyingKey())).as(body.toString()).isEmpty();
      assertThat(Receipts.leafHash(signed)).isEqualTo(Merkle.leafHash(CanonicalJson.bytes(body)));
    }
  }

  @Test
  void eachWrongFieldIsNamed() {
    assertThat(problems(completed().put("total_cost", "0.4")))
        .containsExactly("total_cost: must be a decimal string with exactly 8 places, got \"0.4\"");
    assertThat(problems(failed().put("status", "running")))
        .containsExactly("status: must be \"completed\", \"failed\" or \"cancelled\", got \"running\"");
    assertThat(problems(completed().without("result_sha256"))).containsExactly("result_sha256: missing");
    assertThat(problems(failed().put("result_sha256", "ab".repeat(32))))
        .containsExactly("result_sha256: only a completed execution has a result");
    assertThat(problems(completed().put("verification_level", "zero_knowledge"))).containsExactly(
        "verification_level: must be \"basic\", \"full\" or \"zero-knowledge\", got \"zero_knowledge\"");
    assertThat(problems(completed().without("execution_id"))).containsExactly("execution_id: missing");
    ObjectNode halfNamed = completed();
    ((ObjectNode) halfNamed.get("steps").get(0)).remove("leaf_hash");
    assertThat(problems(halfNamed)).containsExactly(
        "steps[0].leaf_hash: missing: a step job's receipt is named by both its id and its leaf hash");
    ObjectNode badStep = completed();
    ((ArrayNode) badStep.get("steps")).add(7);
    ((ObjectNode) badStep.get("steps").get(1)).put("item", -1);
    assertThat(problems(badStep)).containsExactly("steps[1].item: must be at least 0, got -1",
        "steps[2]: must be an object");
    assertThat(problems(completed().put("steps", "none"))).containsExactly("steps: must be a list");
  }

  @Test
  void anyChangeAfterSigningBreaksTheSignature() {
    ObjectNode signed = Signatures.sign(completed(), coordinator);
    ObjectNode altered = signed.deepCopy();
    ((ObjectNode) altered.get("steps").get(0)).put("leaf_hash", "00".repeat(32));
    assertThat(Receipts.check(altered, coordinator.verifyingKey()))
        .containsExactly("signature.sig: the signature does not verify");
  }

  private List<String> problems(ObjectNode body) {
    return Receipts.check(Signatures.sign(body, coordinator), coordinator.verifyingKey());
  }
}
