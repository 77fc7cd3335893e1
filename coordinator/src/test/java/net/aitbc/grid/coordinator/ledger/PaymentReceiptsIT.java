package net.aitbc.grid.coordinator.ledger;

import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreatePaymentRequest;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.GetBlockRequest;
import net.aitbc.grid.v1.GetInclusionProofRequest;
import net.aitbc.grid.v1.GetInclusionProofResponse;
import net.aitbc.grid.v1.GetJobReceiptRequest;
import net.aitbc.grid.v1.GetPaymentReceiptRequest;
import net.aitbc.grid.v1.GetPaymentReceiptResponse;
import net.aitbc.grid.v1.GetReceiptRequest;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.ListReceiptsRequest;
import net.aitbc.grid.v1.Payment;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc.PaymentServiceBlockingStub;
import net.aitbc.grid.v1.PaymentStatus;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.ReceiptServiceGrpc.ReceiptServiceBlockingStub;
import net.aitbc.grid.v1.RefundPaymentRequest;
import net.aitbc.grid.v1.ReleasePaymentRequest;
import net.aitbc.grid.v1.VerifyReceiptRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Payments' receipts over a real coordinator: a payment that ends gets one receipt, signed by the
 * coordinator's key (checked here with the JDK's Ed25519 and the public key alone), naming the job's
 * receipt, sealed into a signed block with an inclusion proof that verifies; retries issue none twice.
 */
class PaymentReceiptsIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture(b -> b.paymentFee(500));

  private static final VerifyingKey COORDINATOR = TestConfigs.SIGNING_KEY.verifyingKey();
  /** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 raw key bytes. */
  private static final byte[] ED25519_SPKI = HexFormat.of().parseHex("302a300506032b6570032100");

  private static JobServiceBlockingStub jobs;
  private static PaymentServiceBlockingStub payments;
  private static ReceiptServiceBlockingStub receipts;

  @BeforeAll
  static void fund() {
    String key = grid.clientKey("payer");
    jobs = grid.clientWithKey(key);
    payments = GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()), key);
    receipts = GrpcClients.withKey(ReceiptServiceGrpc.newBlockingStub(grid.channel()), key);
    GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()), grid.coordinator().createKey(Role.ADMIN,
        "ops")).deposit(DepositRequest.newBuilder().setClientId("payer").setAmount("100").setIdempotencyKey("payer")
        .build());
  }

  @AfterEach
  void moneyAndReceiptsAddUp() {
    grid.query(dsl -> {
      PaymentInvariants.check(dsl);
      return null;
    });
  }

  @Test
  void aCompletedJobsPaymentHasASignedReceiptNamingTheJobsReceiptAndProvedInABlock() throws Exception {
    String jobId;
    Payment p;
    try (TestWorker w = grid.worker("w-paid", "t-paid")) {
      w.credit(1);
      jobId = submit("t-paid");
      Assignment a = w.nextAssignment();
      p = pay(jobId, "2.5");
      assertThat(receiptOf(p).hasReceipt()).as("no receipt while held in escrow").isFalse();
      w.complete(a.getJobId(), a.getAttempt(), "{\"ok\":true}");
      ack(w);
    }
    GetPaymentReceiptResponse answer = receiptOf(p);
    assertThat(answer.getPayment().getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_RELEASED);
    Receipt r = answer.getReceipt();
    ObjectNode receipt = (ObjectNode) CanonicalJson.parse(r.getReceiptJson());

    // The coordinator's signature, checked with the JDK and the public key alone.
    assertThat(verifiesWithJdk(receipt)).isTrue();
    assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
    assertThat(receipt.get("signature").get("key_id").asText()).isEqualTo(COORDINATOR.keyId());

    String jobReceiptId = jobs.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(jobId).build()).getReceipt()
        .getReceiptId();
    assertThat(receipt.get("type").asText()).isEqualTo("payment");
    assertThat(receipt.get("job_receipt_id").asText()).isEqualTo(jobReceiptId);
    assertThat(answer.getJobReceiptId()).isEqualTo(jobReceiptId);
    assertThat(receipt.get("receipt_id").asText()).isEqualTo(r.getReceiptId()).isNotEqualTo(jobReceiptId);
    assertThat(receipt.get("payment_id").asText()).isEqualTo(p.getPaymentId()).isEqualTo(r.getPaymentId());
    assertThat(receipt.get("job_id").asText()).isEqualTo(jobId);
    assertThat(receipt.get("client").asText()).isEqualTo("payer");
    assertThat(receipt.get("status").asText()).isEqualTo("released").isEqualTo(r.getStatus());
    assertThat(receipt.get("amount").asText()).isEqualTo("2.50000000");
    assertThat(receipt.get("fee").asText()).isEqualTo("0.12500000");
    assertThat(receipt.get("currency").asText()).isEqualTo("AITBC");
    assertThat(receipt.get("worker_owner").asText()).isEqualTo("owner");
    assertThat(receipt.get("provider").asText()).isEqualTo("w-paid").isEqualTo(r.getProvider());
    assertThat(receipt.get("transfer_id").asText()).isEqualTo(answer.getPayment().getSettlementTransferId());
    assertThat(receipt.get("settled_at").asLong())
        .isEqualTo(answer.getPayment().getReleaseTime().getSeconds());

    // Sealed like a job's receipt, with a proof against the signed block that verifies.
    await().atMost(Duration.ofSeconds(10)).until(() -> receiptOf(p).getReceipt().hasBlockHeight());
    GetInclusionProofResponse proof = receipts.getInclusionProof(GetInclusionProofRequest.newBuilder()
        .setReceiptId(r.getReceiptId()).build());
    var block = GrpcClients.withKey(ExplorerServiceGrpc.newBlockingStub(grid.channel()), grid.workerKey())
        .getBlock(GetBlockRequest.newBuilder().setHeight(proof.getBlockHeight()).build()).getBlock();
    ObjectNode header = (ObjectNode) CanonicalJson.parse(block.getHeaderJson());
    assertThat(Blocks.check(header, COORDINATOR)).isEmpty();
    byte[] leaf = Receipts.leafHash(receipt);
    assertThat(leaf).isEqualTo(r.getLeafHash().toByteArray()).isEqualTo(proof.getLeafHash().toByteArray());
    assertThat(Merkle.verifyInclusion(proof.getLeafIndex(), header.get("tree_size").asLong(), leaf,
        proof.getHashesList().stream().map(ByteString::toByteArray).toList(),
        HexFormat.of().parseHex(header.get("root").asText()))).isTrue();

    // Found and checked by the ledger's other routes, but the job's receipts list only the job's.
    assertThat(receipts.getReceipt(GetReceiptRequest.newBuilder().setLeafHash(r.getLeafHash()).build()).getReceipt()
        .getReceiptJson()).isEqualTo(r.getReceiptJson());
    assertThat(receipts.verifyReceipt(VerifyReceiptRequest.newBuilder().setReceiptJson(r.getReceiptJson()).build())
        .getValid()).isTrue();
    assertThat(receipts.listReceipts(ListReceiptsRequest.newBuilder().setJobId(jobId).build()).getReceiptsList())
        .extracting(Receipt::getReceiptId).containsExactly(jobReceiptId);

    // A release asked for again changes nothing and issues nothing.
    assertThat(payments.releasePayment(ReleasePaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build())
        .getChanged()).isFalse();
    assertThat(receiptRows(p)).isOne();
    assertThat(receiptOf(p).getReceipt().getReceiptJson()).isEqualTo(r.getReceiptJson());
  }

  @Test
  void aRefundOfAJobThatNeverRanHasAReceiptNamingNoJobReceiptAndARetryIssuesNoOther() throws Exception {
    String jobId = submit("t-never-runs");
    Payment p = pay(jobId, "1.25");
    Payment refunded = payments.refundPayment(RefundPaymentRequest.newBuilder().setPaymentId(p.getPaymentId())
        .setJobId(jobId).setReason("changed my mind").build()).getPayment();
    assertThat(refunded.getStatus()).isEqualTo(PaymentStatus.PAYMENT_STATUS_REFUNDED);
    assertThat(payments.refundPayment(RefundPaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build())
        .getChanged()).isFalse();
    assertThat(receiptRows(p)).isOne();

    GetPaymentReceiptResponse answer = receiptOf(p);
    ObjectNode receipt = (ObjectNode) CanonicalJson.parse(answer.getReceipt().getReceiptJson());
    assertThat(verifiesWithJdk(receipt)).isTrue();
    assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
    assertThat(receipt.get("status").asText()).isEqualTo("refunded");
    assertThat(receipt.get("void_reason").asText()).isEqualTo("refund");
    assertThat(receipt.get("amount").asText()).isEqualTo("1.25000000");
    assertThat(receipt.get("fee").asText()).isEqualTo("0.00000000");
    assertThat(receipt.has("job_receipt_id")).isFalse();
    assertThat(receipt.has("worker_owner")).isFalse();
    assertThat(receipt.has("provider")).isFalse();
    assertThat(answer.getReceipt().getProvider()).isEmpty();
    assertThat(answer.getJobReceiptId()).isEmpty();

    // Paid again after the refund, then canceled: a second payment, a second receipt of its own.
    Payment again = pay(jobId, "1");
    jobs.cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build());
    ObjectNode canceled = (ObjectNode) CanonicalJson.parse(receiptOf(again).getReceipt().getReceiptJson());
    assertThat(canceled.get("void_reason").asText()).isEqualTo("cancel");
    assertThat(canceled.get("receipt_id").asText()).isNotEqualTo(receipt.get("receipt_id").asText());
    assertThat(receiptRows(again)).isOne();
  }

  @Test
  void anotherClientGetsNoReceipt() {
    Payment p = pay(submit("t-private"), "1");
    PaymentServiceBlockingStub other = GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(grid.channel()),
        grid.clientKey("someone-else"));
    assertThat(catchThrowable(() -> other.getPaymentReceipt(
        GetPaymentReceiptRequest.newBuilder().setPaymentId(p.getPaymentId()).build())))
        .hasMessageContaining("NOT_FOUND");
    payments.refundPayment(RefundPaymentRequest.newBuilder().setPaymentId(p.getPaymentId()).build());
  }

  /** The JDK's own Ed25519 over the receipt without its signature, with the raw public key from the key id. */
  private static boolean verifiesWithJdk(ObjectNode receipt) throws Exception {
    byte[] raw = Base64.getUrlDecoder().decode(receipt.get("signature").get("key_id").asText());
    assertThat(raw).isEqualTo(COORDINATOR.raw());
    byte[] spki = new byte[ED25519_SPKI.length + raw.length];
    System.arraycopy(ED25519_SPKI, 0, spki, 0, ED25519_SPKI.length);
    System.arraycopy(raw, 0, spki, ED25519_SPKI.length, raw.length);
    PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    ObjectNode body = receipt.deepCopy();
    body.remove("signature");
    Signature ed25519 = Signature.getInstance("Ed25519");
    ed25519.initVerify(key);
    ed25519.update(CanonicalJson.bytes(body));
    return ed25519.verify(Base64.getUrlDecoder().decode(receipt.get("signature").get("sig").asText()));
  }

  private static int receiptRows(Payment p) {
    return grid.query(db -> db.fetchCount(RECEIPT, RECEIPT.PAYMENT_ID.eq(JobIds.parse(p.getPaymentId())
        .orElseThrow())));
  }

  private static GetPaymentReceiptResponse receiptOf(Payment p) {
    return payments.getPaymentReceipt(GetPaymentReceiptRequest.newBuilder().setPaymentId(p.getPaymentId()).build());
  }

  private static Payment pay(String jobId, String amount) {
    return payments.createPayment(CreatePaymentRequest.newBuilder().setJobId(jobId).setAmount(amount)
        .setEscrowTimeoutSeconds(3600).build()).getPayment();
  }

  private static String submit(String type) {
    return jobs.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}").build())
        .getJob().getJobId();
  }

  private static void ack(TestWorker w) {
    ConnectResponse r;
    do {
      r = w.next();
    } while (!r.hasOutcomeAck());
    assertThat(r.getOutcomeAck().getAccepted()).isTrue();
  }
}
