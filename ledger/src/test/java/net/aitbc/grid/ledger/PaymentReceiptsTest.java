package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Receipts.check on payments' receipts: exact amounts, what a release and a refund must name, the signature. */
class PaymentReceiptsTest {
  private final SigningKey coordinator = ContractVectorTest.vectorKey();

  private static ObjectNode released() {
    return JsonNodeFactory.instance.objectNode().put("version", "1.0").put("type", "payment")
        .put("receipt_id", "0f".repeat(16)).put("payment_id", "9e".repeat(16)).put("job_id", "5b".repeat(16))
        .put("job_receipt_id", "1e".repeat(16)).put("client", "client-a").put("status", "released")
        .put("currency", "AITBC").put("amount", "1.50000000").put("fee", "0.03750000").put("worker_owner", "owner")
        .put("provider", "worker-1").put("transfer_id", "50".repeat(16)).put("settled_at", 1772712060L);
  }

  private static ObjectNode refunded() {
    ObjectNode r = released().put("status", "refunded").put("fee", "0.00000000").put("void_reason", "cancel");
    r.remove(List.of("worker_owner", "provider", "job_receipt_id"));
    return r;
  }

  @Test
  void aReleaseAndARefundSignedByTheCoordinatorHaveNoProblems() {
    for (ObjectNode body : new ObjectNode[] {released(), refunded()}) {
      ObjectNode signed = Signatures.sign(body, coordinator);
      assertThat(PaymentReceipts.isPayment(signed)).isTrue();
      assertThat(Receipts.check(signed, coordinator.verifyingKey())).as(body.toString()).isEmpty();
      assertThat(Receipts.leafHash(signed)).isEqualTo(Merkle.leafHash(CanonicalJson.bytes(body)));
    }
  }

  @Test
  void eachWrongFieldIsNamed() {
    assertThat(problems(released().put("amount", 1.5))).containsExactly("amount: must be a string");
    assertThat(problems(released().put("amount", "1.5")))
        .containsExactly("amount: must be a decimal string with exactly 8 places, got \"1.5\"");
    assertThat(problems(released().put("fee", "2.00000000"))).containsExactly("fee: is more than the amount");
    assertThat(problems(released().put("status", "escrowed")))
        .containsExactly("status: must be \"released\" or \"refunded\", got \"escrowed\"");
    assertThat(problems(released().without("worker_owner"))).containsExactly("worker_owner: missing");
    assertThat(problems(refunded().without("void_reason"))).containsExactly("void_reason: missing");
    assertThat(problems(refunded().put("fee", "0.01000000"))).containsExactly("fee: must be 0.00000000 for a refund");
    assertThat(problems(released().put("job_receipt_id", "x"))).containsExactly(
        "job_receipt_id: must be 32 lowercase hex characters");
  }

  @Test
  void anyChangeAfterSigningBreaksTheSignature() {
    ObjectNode signed = Signatures.sign(released(), coordinator);
    ObjectNode altered = signed.deepCopy().put("amount", "15.00000000");
    assertThat(Receipts.check(altered, coordinator.verifyingKey()))
        .containsExactly("signature.sig: the signature does not verify");
  }

  @Test
  void amountsAreWrittenWithExactlyEightPlaces() {
    assertThat(PaymentReceipts.amount(new BigDecimal("1.5"))).isEqualTo("1.50000000");
    assertThat(PaymentReceipts.amount(new BigDecimal("1000000"))).isEqualTo("1000000.00000000");
    assertThat(PaymentReceipts.amount(new BigDecimal("0.00000001"))).isEqualTo("0.00000001");
    assertThatThrownBy(() -> PaymentReceipts.amount(new BigDecimal("0.000000001")))
        .isInstanceOf(ArithmeticException.class);
  }

  private List<String> problems(ObjectNode body) {
    return Receipts.check(Signatures.sign(body, coordinator), coordinator.verifyingKey());
  }
}
