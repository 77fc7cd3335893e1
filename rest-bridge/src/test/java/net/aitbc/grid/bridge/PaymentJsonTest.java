package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.v1.AccountBalance;
import net.aitbc.grid.v1.AccountKind;
import net.aitbc.grid.v1.CurrencyEarnings;
import net.aitbc.grid.v1.GetBalanceResponse;
import net.aitbc.grid.v1.GetEarningsResponse;
import net.aitbc.grid.v1.GetPaymentReceiptResponse;
import net.aitbc.grid.v1.ListTransfersResponse;
import net.aitbc.grid.v1.Payment;
import net.aitbc.grid.v1.PaymentStatus;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.Transfer;
import net.aitbc.grid.v1.TransferKind;
import org.junit.jupiter.api.Test;

/** Payments, accounts and earnings as the REST routes write them, from the coordinator's messages. */
class PaymentJsonTest {
  /** 2026-03-05T12:00:00 UTC. */
  private static final Timestamp CREATED = Timestamp.newBuilder().setSeconds(1772712000L).build();
  private static final Timestamp LATER = Timestamp.newBuilder().setSeconds(1772712060L).setNanos(500_000).build();

  private static Payment.Builder escrowed() {
    return Payment.newBuilder().setPaymentId("9e".repeat(16)).setJobId("5b".repeat(16)).setClientId("client-a")
        .setAmount("1.5").setCurrency("AITBC").setStatus(PaymentStatus.PAYMENT_STATUS_ESCROWED)
        .setPaymentMethod("aitbc_token").setEscrowTimeoutSeconds(3600)
        .setExpireTime(Timestamp.newBuilder().setSeconds(1772715600L)).setFeeBps(250)
        .setCreateTime(CREATED).setUpdateTime(CREATED).setEscrowTransferId("e0".repeat(16));
  }

  private static Payment released() {
    return escrowed().setStatus(PaymentStatus.PAYMENT_STATUS_RELEASED).setUpdateTime(LATER).setReleaseTime(LATER)
        .setWorkerOwnerId("owner").setFeeAmount("0.0375").setSettlementTransferId("50".repeat(16))
        .setFeeTransferId("fe".repeat(16)).build();
  }

  @Test
  void theViewHasTheClisServersFieldsFirstInOrder() {
    JsonNode v = PaymentJson.view(escrowed().build());
    assertThat(v.properties()).extracting(Map.Entry::getKey).startsWith("job_id", "payment_id", "amount", "currency",
        "status", "payment_method", "escrow_address", "refund_address", "created_at", "updated_at", "released_at",
        "refunded_at", "transaction_hash", "refund_transaction_hash");
    assertThat(Json.text(v)).contains("\"amount\":1.5,", "\"status\":\"escrowed\"",
        "\"created_at\":\"2026-03-05T12:00:00.000000\"", "\"released_at\":null", "\"fee_amount\":null");
    assertThat(v.get("transaction_hash").asText()).isEqualTo("e0".repeat(16));
    assertThat(v.get("refund_transaction_hash").isNull()).isTrue();
    assertThat(v.get("expires_at").asText()).isEqualTo("2026-03-05T13:00:00.000000");
    // A whole amount is still written as a float, as the CLI's server does.
    assertThat(Json.text(PaymentJson.view(escrowed().setAmount("2").build()))).contains("\"amount\":2.0,");
    // The client id is not in it: the view is the client's own.
    assertThat(v.has("client_id")).isFalse();
  }

  @Test
  void aRefundedPaymentNamesItsVoidAndReason() {
    Payment p = escrowed().setStatus(PaymentStatus.PAYMENT_STATUS_REFUNDED).setRefundTime(LATER)
        .setRefundReason("refund").setSettlementTransferId("70".repeat(16)).build();
    JsonNode v = PaymentJson.view(p);
    assertThat(v.get("status").asText()).isEqualTo("refunded");
    assertThat(v.get("refund_transaction_hash").asText()).isEqualTo("70".repeat(16));
    assertThat(v.get("release_transaction_hash").isNull()).isTrue();
    assertThat(v.get("refunded_at").asText()).isEqualTo("2026-03-05T12:01:00.000500");
    assertThat(v.get("refund_reason").asText()).isEqualTo("refund");

    JsonNode r = PaymentJson.receipt(GetPaymentReceiptResponse.newBuilder().setPayment(p).build());
    assertThat(r.get("verified_at").asText()).isEqualTo("2026-03-05T12:01:00.000500");
    assertThat(r.get("job_receipt").isNull()).isTrue();
    // A coordinator without a signing key issues none: every field of the signed receipt is null.
    for (String field : List.of("receipt", "receipt_id", "leaf_hash", "leaf_index", "block_height")) {
      assertThat(r.get(field).isNull()).as(field).isTrue();
    }
    assertThat(r.get("transfers")).hasSize(2);
    assertThat(Json.text(r.get("transfers").get(1))).isEqualTo("{\"transfer_id\":\"" + "70".repeat(16)
        + "\",\"kind\":\"void\",\"from\":\"escrow\",\"to\":\"client\",\"amount\":1.5,"
        + "\"created_at\":\"2026-03-05T12:01:00.000500\"}");

    JsonNode s = PaymentJson.settled(p, true);
    assertThat(s.properties()).extracting(Map.Entry::getKey).startsWith("status", "payment_id");
    assertThat(s.get("status").asText()).isEqualTo("refunded");
    assertThat(s.get("changed").asBoolean()).isTrue();
  }

  @Test
  void aReleasedPaymentsReceiptShowsTheThreeLegsThatAddUp() {
    String signed = "{\"amount\":\"1.50000000\",\"fee\":\"0.03750000\",\"receipt_id\":\"" + "ab".repeat(16)
        + "\",\"signature\":{\"alg\":\"Ed25519\"},\"type\":\"payment\"}";
    JsonNode r = PaymentJson.receipt(GetPaymentReceiptResponse.newBuilder().setPayment(released())
        .setJobReceiptId("0f".repeat(16))
        .setReceipt(Receipt.newBuilder().setReceiptId("ab".repeat(16)).setPaymentId("9e".repeat(16))
            .setReceiptJson(signed).setLeafHash(ByteString.copyFrom(new byte[32])).setLeafIndex(7).setBlockHeight(2))
        .build());
    assertThat(r.properties()).extracting(Map.Entry::getKey).startsWith("payment_id", "job_id", "amount", "currency",
        "status", "transaction_hash", "created_at", "verified_at");
    assertThat(r.get("status").asText()).isEqualTo("released");
    assertThat(r.get("job_receipt").asText()).isEqualTo("0f".repeat(16));
    // The signed receipt as the coordinator signed it (its amounts strings), and where the ledger holds it.
    assertThat(Json.text(r.get("receipt"))).isEqualTo(signed);
    assertThat(r.get("receipt_id").asText()).isEqualTo("ab".repeat(16));
    assertThat(r.get("leaf_hash").asText()).isEqualTo("00".repeat(32));
    assertThat(r.get("leaf_index").asLong()).isEqualTo(7);
    assertThat(r.get("block_height").asLong()).isEqualTo(2);
    JsonNode legs = r.get("transfers");
    assertThat(legs).hasSize(3);
    assertThat(legs.get(0).get("kind").asText()).isEqualTo("escrow");
    assertThat(legs.get(1).get("kind").asText()).isEqualTo("post");
    assertThat(legs.get(1).get("to").asText()).isEqualTo("worker_owner");
    assertThat(legs.get(1).get("amount").decimalValue()).isEqualByComparingTo("1.4625");
    assertThat(legs.get(2).get("kind").asText()).isEqualTo("fee");
    assertThat(legs.get(2).get("transfer_id").asText()).isEqualTo("fe".repeat(16));
    assertThat(legs.get(2).get("amount").decimalValue()).isEqualByComparingTo("0.0375");
    assertThat(legs.get(1).get("amount").decimalValue().add(legs.get(2).get("amount").decimalValue()))
        .isEqualByComparingTo(legs.get(0).get("amount").decimalValue());
  }

  @Test
  void theAccountListsBalancesAndTransfers() {
    GetBalanceResponse b = GetBalanceResponse.newBuilder().setOwnerId("client-a")
        .addBalances(AccountBalance.newBuilder().setKind(AccountKind.ACCOUNT_KIND_CLIENT).setCurrency("AITBC")
            .setBalance("998.5"))
        .build();
    ListTransfersResponse t = ListTransfersResponse.newBuilder()
        .addTransfers(Transfer.newBuilder().setTransferId("aa".repeat(16)).setKind(TransferKind.TRANSFER_KIND_ESCROW)
            .setCurrency("AITBC").setAmount("1.5").setCredit(false).setAccountKind(AccountKind.ACCOUNT_KIND_CLIENT)
            .setPaymentId("9e".repeat(16)).setCreateTime(CREATED))
        .addTransfers(Transfer.newBuilder().setTransferId("bb".repeat(16)).setKind(TransferKind.TRANSFER_KIND_DEPOSIT)
            .setCurrency("AITBC").setAmount("1000").setCredit(true).setAccountKind(AccountKind.ACCOUNT_KIND_CLIENT)
            .setCreateTime(CREATED))
        .setNextOffset(2)
        .build();
    JsonNode a = PaymentJson.account(b, t, 2, 0);
    assertThat(Json.text(a.get("balances"))).isEqualTo("[{\"account\":\"client\",\"currency\":\"AITBC\","
        + "\"balance\":998.5,\"credit_limit\":null}]");
    assertThat(a.get("client_id").asText()).isEqualTo("client-a");
    assertThat(a.get("transfers").get(0).get("direction").asText()).isEqualTo("debit");
    assertThat(a.get("transfers").get(0).get("kind").asText()).isEqualTo("escrow");
    assertThat(a.get("transfers").get(1).get("payment_id").isNull()).isTrue();
    assertThat(Json.text(a.get("transfers").get(1).get("amount"))).isEqualTo("1000.0");
    assertThat(a.get("next_offset").asInt()).isEqualTo(2);
  }

  @Test
  void earningsHaveTheClisServersShapeInTheAskedCurrency() {
    GetEarningsResponse r = GetEarningsResponse.newBuilder().setOwnerId("owner")
        .addTotals(CurrencyEarnings.newBuilder().setCurrency("AITBC").setEarned("1.4625").setPending("3")
            .setCompletedJobs(1))
        .addHistory(released())
        .build();
    JsonNode e = PaymentJson.earnings("m1", r, "AITBC", null, null);
    assertThat(e.properties()).extracting(Map.Entry::getKey).startsWith("miner_id", "total_earnings",
        "pending_earnings", "completed_jobs", "currency", "from_time", "to_time", "earnings_history");
    assertThat(Json.text(e)).contains("\"total_earnings\":1.4625", "\"pending_earnings\":3.0", "\"completed_jobs\":1");
    JsonNode h = e.get("earnings_history").get(0);
    assertThat(h.get("amount").decimalValue()).isEqualByComparingTo("1.4625");
    assertThat(h.get("gross_amount").decimalValue()).isEqualByComparingTo("1.5");

    JsonNode none = PaymentJson.earnings("m1", GetEarningsResponse.newBuilder().setOwnerId("o").build(), "BTC",
        "2026-03-01T00:00:00", null);
    assertThat(Json.text(none)).startsWith("{\"miner_id\":\"m1\",\"total_earnings\":0.0,\"pending_earnings\":0.0,"
        + "\"completed_jobs\":0,\"currency\":\"BTC\",\"from_time\":\"2026-03-01T00:00:00\",\"to_time\":null,"
        + "\"earnings_history\":[]");
  }
}
