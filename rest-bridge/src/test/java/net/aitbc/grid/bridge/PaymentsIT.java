package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.LedgerSteps.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The payment routes over a real coordinator, as the aitbc CLI calls them (contract §4 and §11:
 * {@code client pay}, {@code payment-status}, {@code payment-receipt}, {@code refund}), plus the
 * account, the release and a worker's earnings; after each test the money adds up.
 */
class PaymentsIT {
  private static final String ID = "[0-9a-f]{32}";

  private static Grid grid;
  private static ManagedChannel channel;

  @BeforeAll
  static void fundTheClient() {
    grid = Grid.startWithLedger(LedgerSteps.SEAL_EVERY);
    channel = GrpcClients.channel(grid.coordinator.grpcPort());
    String admin = grid.coordinator.createKey(Role.ADMIN, "ops");
    GrpcClients.withKey(PaymentServiceGrpc.newBlockingStub(channel), admin).deposit(DepositRequest.newBuilder()
        .setClientId("client-a").setAmount("100").setCurrency("AITBC").setIdempotencyKey("fund-a").build());
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    grid.close();
  }

  @AfterEach
  void moneyAddsUp() throws SQLException {
    try (Connection c = grid.db.connect()) {
      PaymentInvariants.check(DSL.using(c, SQLDialect.POSTGRES));
    }
  }

  private static String payBody(String jobId, String amount) {
    // client pay <JOB_ID> <AMOUNT> --currency AITBC --method aitbc_token --escrow-timeout 3600
    return "{\"job_id\": \"" + jobId + "\", \"amount\": " + amount + ", \"currency\": \"AITBC\","
        + " \"payment_method\": \"aitbc_token\", \"escrow_timeout_seconds\": 3600}";
  }

  private static BigDecimal balance(String key) {
    JsonNode account = ok(grid, "/v1/account", key);
    for (JsonNode b : account.get("balances")) {
      if (b.get("account").asText().equals("client") && b.get("currency").asText().equals("AITBC")) {
        return b.get("balance").decimalValue();
      }
    }
    return BigDecimal.ZERO;
  }

  @Test
  void payingForACompletedJobReleasesItAtOnceToTheWorkersOwner() {
    String jobId = LedgerSteps.runJob(grid, grid.clientKey, "pay-done");
    BigDecimal before = balance(grid.clientKey);

    Reply paid = grid.post("/v1/payments", grid.clientKey, payBody(jobId, "1.5"));

    assertThat(paid.status()).as(paid.body()).isEqualTo(201);
    JsonNode p = paid.json();
    assertThat(p.get("job_id").asText()).isEqualTo(jobId);
    assertThat(p.get("payment_id").asText()).matches(ID);
    assertThat(p.get("amount").decimalValue()).isEqualByComparingTo("1.5");
    assertThat(p.get("currency").asText()).isEqualTo("AITBC");
    assertThat(p.get("status").asText()).isEqualTo("released");
    assertThat(p.get("payment_method").asText()).isEqualTo("aitbc_token");
    assertThat(p.get("created_at").asText()).matches(Grid.NAIVE_TIME);
    assertThat(p.get("released_at").asText()).matches(Grid.NAIVE_TIME);
    String paymentId = p.get("payment_id").asText();
    BigDecimal fee = p.get("fee_amount").decimalValue();
    assertThat(balance(grid.clientKey)).isEqualByComparingTo(before.subtract(new BigDecimal("1.5")));

    // client payment-status <JOB_ID>
    JsonNode status = ok(grid, "/v1/jobs/" + jobId + "/payment", grid.clientKey);
    assertThat(status.get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(status.get("status").asText()).isEqualTo("released");
    assertThat(ok(grid, "/v1/payments/" + paymentId, grid.clientKey)).isEqualTo(status);
    assertThat(ok(grid, "/v1/payments/" + paymentId + "/status", grid.clientKey).get("status").asText())
        .isEqualTo("released");
    // client status <JOB_ID> names the payment and where it stands.
    JsonNode job = ok(grid, "/v1/jobs/" + jobId, grid.clientKey);
    assertThat(job.get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(job.get("payment_status").asText()).isEqualTo("released");

    // client payment-receipt <PAYMENT_ID>: the legs add up, and it names the job's signed receipt.
    JsonNode receipt = ok(grid, "/v1/payments/" + paymentId + "/receipt", grid.clientKey);
    String jobReceiptId = ok(grid, "/v1/jobs/" + jobId + "/receipt", grid.clientKey).get("receipt_id").asText();
    assertThat(receipt.get("job_receipt").asText()).isEqualTo(jobReceiptId);
    assertThat(receipt.get("verified_at").asText()).matches(Grid.NAIVE_TIME);
    JsonNode legs = receipt.get("transfers");
    assertThat(legs).extracting(l -> l.get("kind").asText()).containsExactly("escrow", "post", "fee");
    assertThat(legs.get(1).get("amount").decimalValue().add(legs.get(2).get("amount").decimalValue()))
        .isEqualByComparingTo("1.5");
    assertThat(legs.get(2).get("amount").decimalValue()).isEqualByComparingTo(fee);
    // ...and carries the payment's own receipt, signed by the coordinator, its amounts exact strings.
    ObjectNode signed = LedgerSteps.document(receipt.get("receipt"));
    assertThat(Receipts.check(signed, grid.coordinatorKey)).isEmpty();
    assertThat(signed.get("type").asText()).isEqualTo("payment");
    assertThat(signed.get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(signed.get("job_receipt_id").asText()).isEqualTo(jobReceiptId);
    assertThat(signed.get("status").asText()).isEqualTo("released");
    assertThat(signed.get("amount").asText()).isEqualTo("1.50000000");
    assertThat(new BigDecimal(signed.get("fee").asText())).isEqualByComparingTo(fee);
    assertThat(receipt.get("receipt_id").asText()).isEqualTo(signed.get("receipt_id").asText());
    assertThat(receipt.get("leaf_hash").asText()).matches(LedgerSteps.HEX_HASH)
        .isEqualTo(Hex.encode(Receipts.leafHash(signed)));
    // Sealed into a block like the job's receipt, with a proof that leads to the block's signed root;
    // the explorer's transaction route finds it by its leaf hash, and its receipts list stays the job's.
    await().atMost(Duration.ofSeconds(15)).until(() -> !ok(grid, "/v1/payments/" + paymentId + "/receipt",
        grid.clientKey).get("block_height").isNull());
    JsonNode proof = ok(grid, "/v1/ledger/proofs/inclusion?receipt_id=" + signed.get("receipt_id").asText(),
        grid.clientKey);
    ObjectNode header = LedgerSteps.document(ok(grid, "/v1/ledger/blocks/" + proof.get("block_height").asLong(),
        grid.clientKey).get("header"));
    assertThat(Blocks.check(header, grid.coordinatorKey)).isEmpty();
    assertThat(Merkle.verifyInclusion(proof.get("leaf_index").asLong(), header.get("tree_size").asLong(),
        Receipts.leafHash(signed), LedgerSteps.hashes(proof), Hex.decode(header.get("root").asText()))).isTrue();
    assertThat(ok(grid, "/explorer/transactions/" + receipt.get("leaf_hash").asText(), grid.clientKey)
        .get("receiptId").asText()).isEqualTo(signed.get("receipt_id").asText());
    assertThat(ok(grid, "/v1/explorer/receipts?job_id=" + jobId, grid.clientKey).get("items"))
        .extracting(i -> i.get("receiptId").asText()).containsExactly(jobReceiptId);

    // The same pay again is the same payment, and nothing moves twice.
    Reply again = grid.post("/v1/payments", grid.clientKey, payBody(jobId, "1.50"));
    assertThat(again.status()).as(again.body()).isEqualTo(201);
    assertThat(again.json().get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(balance(grid.clientKey)).isEqualByComparingTo(before.subtract(new BigDecimal("1.5")));

    // miner earnings --miner-id w-pay-done, with the worker owner's key.
    Reply earnings = grid.post("/v1/miners/w-pay-done/earnings?miner_id=w-pay-done", grid.workerKey);
    assertThat(earnings.status()).as(earnings.body()).isEqualTo(200);
    JsonNode e = earnings.json();
    assertThat(e.get("miner_id").asText()).isEqualTo("w-pay-done");
    assertThat(e.get("currency").asText()).isEqualTo("AITBC");
    assertThat(e.get("total_earnings").decimalValue()).isEqualByComparingTo(new BigDecimal("1.5").subtract(fee));
    assertThat(e.get("completed_jobs").asInt()).isEqualTo(1);
    assertThat(e.get("earnings_history")).extracting(h -> h.get("payment_id").asText()).containsExactly(paymentId);
  }

  @Test
  void aQueuedJobPaidThenRefundedGivesTheMoneyBackOnce() {
    String jobId = grid.submit(grid.clientKey, "pay-nobody-serves");
    BigDecimal before = balance(grid.clientKey);
    Reply paid = grid.post("/v1/payments", grid.clientKey, payBody(jobId, "2"));
    assertThat(paid.status()).as(paid.body()).isEqualTo(201);
    assertThat(paid.json().get("status").asText()).isEqualTo("escrowed");
    String paymentId = paid.json().get("payment_id").asText();
    assertThat(balance(grid.clientKey)).isEqualByComparingTo(before.subtract(BigDecimal.TWO));
    JsonNode account = ok(grid, "/v1/account?limit=5", grid.clientKey);
    assertThat(account.get("transfers").get(0).get("kind").asText()).isEqualTo("escrow");
    assertThat(account.get("transfers").get(0).get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(account.get("transfers").get(0).get("direction").asText()).isEqualTo("debit");

    // Nobody ran it: there is no one to release it to.
    String body = "{\"job_id\": \"" + jobId + "\", \"payment_id\": \"" + paymentId + "\"}";
    grid.post("/v1/payments/" + paymentId + "/release", grid.clientKey, body).assertError(400);
    // Another job's id in the body is refused.
    grid.post("/v1/payments/" + paymentId + "/refund", grid.clientKey,
        "{\"job_id\": \"" + "0".repeat(32) + "\", \"payment_id\": \"" + paymentId + "\", \"reason\": \"x\"}")
        .assertError(400);

    // client refund <JOB_ID> <PAYMENT_ID> --reason "job failed"
    String refund = "{\"job_id\": \"" + jobId + "\", \"payment_id\": \"" + paymentId + "\", \"reason\": \"job failed\"}";
    Reply r = grid.post("/v1/payments/" + paymentId + "/refund", grid.clientKey, refund);
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(r.json().get("status").asText()).isEqualTo("refunded");
    assertThat(r.json().get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(r.json().get("changed").asBoolean()).isTrue();
    Reply again = grid.post("/v1/payments/" + paymentId + "/refund", grid.clientKey, refund);
    assertThat(again.status()).as(again.body()).isEqualTo(200);
    assertThat(again.json().get("changed").asBoolean()).isFalse();
    assertThat(balance(grid.clientKey)).isEqualByComparingTo(before);

    assertThat(ok(grid, "/v1/jobs/" + jobId + "/payment", grid.clientKey).get("status").asText()).isEqualTo("refunded");
    JsonNode receipt = ok(grid, "/v1/payments/" + paymentId + "/receipt", grid.clientKey);
    assertThat(receipt.get("job_receipt").isNull()).isTrue();
    assertThat(receipt.get("transfers")).extracting(l -> l.get("kind").asText()).containsExactly("escrow", "void");
    // Its signed receipt names the refund and no job receipt: the job never ran.
    ObjectNode signed = LedgerSteps.document(receipt.get("receipt"));
    assertThat(Receipts.check(signed, grid.coordinatorKey)).isEmpty();
    assertThat(signed.get("status").asText()).isEqualTo("refunded");
    assertThat(signed.get("void_reason").asText()).isEqualTo("refund");
    assertThat(signed.get("amount").asText()).isEqualTo("2.00000000");
    assertThat(signed.has("job_receipt_id")).isFalse();
    // Released after a refund: refused, nothing moves.
    grid.post("/v1/payments/" + paymentId + "/release", grid.clientKey, body).assertError(400);
  }

  @Test
  void aPaymentHeldInEscrowHasNoSignedReceiptYet() {
    String jobId = grid.submit(grid.clientKey, "pay-held");
    String paymentId = grid.post("/v1/payments", grid.clientKey, payBody(jobId, "1")).json().get("payment_id")
        .asText();
    JsonNode receipt = ok(grid, "/v1/payments/" + paymentId + "/receipt", grid.clientKey);
    assertThat(receipt.get("status").asText()).isEqualTo("escrowed");
    assertThat(receipt.get("verified_at").isNull()).isTrue();
    for (String field : List.of("receipt", "receipt_id", "leaf_hash", "leaf_index", "block_height")) {
      assertThat(receipt.get(field).isNull()).as(field).isTrue();
    }
    grid.post("/v1/payments/" + paymentId + "/refund", grid.clientKey, "").json();
  }

  @Test
  void badInputIsAClear4xxAndMovesNothing() {
    String jobId = grid.submit(grid.clientKey, "pay-bad-input");
    BigDecimal before = balance(grid.clientKey);
    JsonNode lastTransfer = ok(grid, "/v1/account?limit=1", grid.clientKey).get("transfers").get(0);
    for (String amount : List.of("-1", "0", "0.001", "1000000.01", "0.123456789", "1e309", "\"1.5\"", "null")) {
      Reply r = grid.post("/v1/payments", grid.clientKey, payBody(jobId, amount));
      assertThat(r.assertError(422)).as(amount).contains("amount");
    }
    grid.post("/v1/payments", grid.clientKey, payBody(jobId, "1").replace("\"AITBC\"", "\"XYZ\"")).assertError(422);
    grid.post("/v1/payments", grid.clientKey, payBody(jobId, "1").replace("3600", "299")).assertError(422);
    grid.post("/v1/payments", grid.clientKey, payBody(jobId, "1").replace("3600", "86401")).assertError(422);
    grid.post("/v1/payments", grid.clientKey, payBody("not a job", "1")).assertError(422);
    grid.post("/v1/payments", grid.clientKey, "{\"job_id\": ").assertError(400);
    grid.post("/v1/payments", null, payBody(jobId, "1")).assertError(401);
    // An unknown job, and another client's job, are both not found.
    grid.post("/v1/payments", grid.clientKey, payBody("0".repeat(32), "1")).assertError(404);
    grid.post("/v1/payments", grid.otherClientKey, payBody(jobId, "1")).assertError(404);
    assertThat(balance(grid.clientKey)).isEqualByComparingTo(before);
    assertThat(ok(grid, "/v1/account?limit=1", grid.clientKey).get("transfers").get(0)).isEqualTo(lastTransfer);
    grid.get("/v1/jobs/" + jobId + "/payment", grid.clientKey).assertError(404);

    // Another client cannot see or refund a payment.
    String paymentId = grid.post("/v1/payments", grid.clientKey, payBody(jobId, "1")).json().get("payment_id").asText();
    grid.get("/v1/payments/" + paymentId, grid.otherClientKey).assertError(404);
    grid.get("/v1/payments/" + paymentId + "/receipt", grid.otherClientKey).assertError(404);
    grid.get("/v1/jobs/" + jobId + "/payment", grid.otherClientKey).assertError(404);
    grid.post("/v1/payments/" + paymentId + "/refund", grid.otherClientKey, "{}").assertError(404);
    grid.get("/v1/payments/nope", grid.clientKey).assertError(404);
    // A different amount for a job already paid for is a conflict.
    grid.post("/v1/payments", grid.clientKey, payBody(jobId, "3")).assertError(409);
    grid.post("/v1/payments/" + paymentId + "/refund", grid.clientKey, "").json();
  }

  @Test
  void aBalanceThatDoesNotCoverThePaymentIs402() {
    String jobId = grid.submit(grid.otherClientKey, "pay-broke");
    Reply r = grid.post("/v1/payments", grid.otherClientKey, payBody(jobId, "5"));
    assertThat(r.assertError(402)).contains("insufficient");
    assertThat(balance(grid.otherClientKey)).isEqualByComparingTo("0");
    grid.get("/v1/jobs/" + jobId + "/payment", grid.otherClientKey).assertError(404);
  }

  @Test
  void aJobSubmittedWithAPaymentIsStoredWithItsEscrowOrNotAtAll() {
    BigDecimal before = balance(grid.clientKey);
    String paid = "{\"payload\": {\"type\": \"inference\", \"model\": \"pay-on-submit\"}, \"ttl_seconds\": 900,"
        + " \"payment_amount\": 3, \"payment_currency\": \"AITBC\"}";
    Reply r = grid.post("/v1/jobs", grid.clientKey, paid);
    assertThat(r.status()).as(r.body()).isEqualTo(201);
    String jobId = r.json().get("job_id").asText();
    String paymentId = r.json().get("payment_id").asText();
    assertThat(paymentId).matches(ID);
    assertThat(r.json().get("payment_status").asText()).isEqualTo("escrowed");
    assertThat(balance(grid.clientKey)).isEqualByComparingTo(before.subtract(new BigDecimal("3")));
    JsonNode job = ok(grid, "/v1/jobs/" + jobId, grid.clientKey);
    assertThat(job.get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(job.get("payment_status").asText()).isEqualTo("escrowed");
    JsonNode payment = ok(grid, "/v1/jobs/" + jobId + "/payment", grid.clientKey);
    assertThat(payment.get("payment_id").asText()).isEqualTo(paymentId);
    assertThat(payment.get("amount").decimalValue()).isEqualByComparingTo("3");

    // client cancel <JOB_ID>: the escrow goes back.
    assertThat(grid.post("/v1/jobs/" + jobId + "/cancel", grid.clientKey).status()).isEqualTo(200);
    assertThat(ok(grid, "/v1/jobs/" + jobId, grid.clientKey).get("payment_status").asText()).isEqualTo("refunded");
    assertThat(balance(grid.clientKey)).isEqualByComparingTo(before);

    // A payment the balance does not cover: 402, and no job was stored.
    int jobsBefore = ok(grid, "/v1/jobs?limit=1000", grid.otherClientKey).get("items").size();
    String tooMuch = paid.replace("\"payment_amount\": 3", "\"payment_amount\": 5");
    assertThat(grid.post("/v1/jobs", grid.otherClientKey, tooMuch).assertError(402)).contains("insufficient");
    assertThat(ok(grid, "/v1/jobs?limit=1000", grid.otherClientKey).get("items").size()).isEqualTo(jobsBefore);
    // An unpaid job's view says so.
    String unpaid = grid.submit(grid.clientKey, "pay-unpaid");
    JsonNode view = ok(grid, "/v1/jobs/" + unpaid, grid.clientKey);
    assertThat(view.get("payment_id").isNull()).isTrue();
    assertThat(view.get("payment_status").isNull()).isTrue();
  }
}
