package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Timestamp;
import java.math.BigDecimal;
import java.util.Locale;
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
import org.jspecify.annotations.Nullable;

/**
 * The one JSON mapping of payments (contract §4 and §7): the JobPaymentView, the payment's receipt
 * with its transfers, a refund's or release's answer, the caller's account and a worker's earnings.
 * Amounts are JSON numbers written with the coordinator's exact digits, never through a double.
 */
final class PaymentJson {
  private static final String STATUS_PREFIX = "PAYMENT_STATUS_";

  private PaymentJson() {}

  /**
   * The JobPaymentView: first exactly the fields of the CLI's server, then ours. There is no external
   * wallet: {@code escrow_address} and {@code refund_address} are null, and the "transaction hashes"
   * are the ids of the ledger's transfers (escrow, and the refund's void).
   */
  static ObjectNode view(Payment p) {
    ObjectNode o = Json.object();
    o.put("job_id", p.getJobId());
    o.put("payment_id", p.getPaymentId());
    o.set("amount", number(p.getAmount()));
    o.put("currency", p.getCurrency());
    o.put("status", status(p.getStatus()));
    o.put("payment_method", p.getPaymentMethod());
    o.putNull("escrow_address");
    o.putNull("refund_address");
    o.put("created_at", JobJson.time(p.getCreateTime()));
    o.put("updated_at", JobJson.time(p.getUpdateTime()));
    o.put("released_at", p.hasReleaseTime() ? JobJson.time(p.getReleaseTime()) : null);
    o.put("refunded_at", p.hasRefundTime() ? JobJson.time(p.getRefundTime()) : null);
    o.put("transaction_hash", orNull(p.getEscrowTransferId()));
    o.put("refund_transaction_hash", refunded(p) ? orNull(p.getSettlementTransferId()) : null);
    o.put("release_transaction_hash", released(p) ? orNull(p.getSettlementTransferId()) : null);
    o.put("escrow_timeout_seconds", p.getEscrowTimeoutSeconds());
    o.put("expires_at", p.hasExpireTime() ? JobJson.time(p.getExpireTime()) : null);
    o.put("fee_bps", p.getFeeBps());
    o.set("fee_amount", p.getFeeAmount().isEmpty() ? null : number(p.getFeeAmount()));
    o.put("refund_reason", orNull(p.getRefundReason()));
    return o;
  }

  /** {@code GET /v1/payments/{id}/status}: where the payment stands, briefly. */
  static ObjectNode status(Payment p) {
    ObjectNode o = Json.object();
    o.put("payment_id", p.getPaymentId());
    o.put("job_id", p.getJobId());
    o.put("status", status(p.getStatus()));
    o.set("amount", number(p.getAmount()));
    o.put("currency", p.getCurrency());
    o.put("updated_at", JobJson.time(p.getUpdateTime()));
    o.put("expires_at", p.hasExpireTime() ? JobJson.time(p.getExpireTime()) : null);
    o.put("released_at", p.hasReleaseTime() ? JobJson.time(p.getReleaseTime()) : null);
    o.put("refunded_at", p.hasRefundTime() ? JobJson.time(p.getRefundTime()) : null);
    return o;
  }

  /**
   * The PaymentReceipt (the CLI's server's fields: {@code verified_at} is when it was released or
   * refunded), the transfers that moved the money, {@code job_receipt}: the id of the job's signed
   * receipt (null while the job has none), and the payment's own signed receipt with where the
   * ledger holds it: {@code receipt}, {@code receipt_id}, {@code leaf_hash} (its transaction hash in
   * the explorer), {@code leaf_index} and {@code block_height}, each null until there is one.
   */
  static ObjectNode receipt(GetPaymentReceiptResponse r) {
    Payment p = r.getPayment();
    ObjectNode o = Json.object();
    o.put("payment_id", p.getPaymentId());
    o.put("job_id", p.getJobId());
    o.set("amount", number(p.getAmount()));
    o.put("currency", p.getCurrency());
    o.put("status", status(p.getStatus()));
    o.put("transaction_hash", orNull(p.getEscrowTransferId()));
    o.put("created_at", JobJson.time(p.getCreateTime()));
    Timestamp verified = p.hasReleaseTime() ? p.getReleaseTime() : p.hasRefundTime() ? p.getRefundTime() : null;
    o.put("verified_at", verified == null ? null : JobJson.time(verified));
    o.put("payment_method", p.getPaymentMethod());
    o.put("fee_bps", p.getFeeBps());
    o.set("fee_amount", p.getFeeAmount().isEmpty() ? null : number(p.getFeeAmount()));
    o.put("refund_reason", orNull(p.getRefundReason()));
    ArrayNode transfers = o.putArray("transfers");
    BigDecimal amount = new BigDecimal(p.getAmount());
    transfers.add(leg(p.getEscrowTransferId(), "escrow", "client", "escrow", amount, p.getCreateTime()));
    if (released(p)) {
      BigDecimal fee = p.getFeeAmount().isEmpty() ? BigDecimal.ZERO : new BigDecimal(p.getFeeAmount());
      transfers.add(leg(p.getSettlementTransferId(), "post", "escrow", "worker_owner", amount.subtract(fee),
          p.getReleaseTime()));
      if (fee.signum() > 0) {
        transfers.add(leg(p.getFeeTransferId(), "fee", "escrow", "platform_fee", fee, p.getReleaseTime()));
      }
    } else if (refunded(p)) {
      transfers.add(leg(p.getSettlementTransferId(), "void", "escrow", "client", amount, p.getRefundTime()));
    }
    o.put("job_receipt", orNull(r.getJobReceiptId()));
    Receipt signed = r.hasReceipt() ? r.getReceipt() : null;
    o.set("receipt", signed == null ? null : Json.parseStored(signed.getReceiptJson()));
    o.put("receipt_id", signed == null ? null : signed.getReceiptId());
    o.put("leaf_hash", signed == null ? null : LedgerJson.hex(signed.getLeafHash()));
    o.put("leaf_index", signed != null && signed.hasLeafIndex() ? signed.getLeafIndex() : null);
    o.put("block_height", signed != null && signed.hasBlockHeight() ? signed.getBlockHeight() : null);
    return o;
  }

  /** A refund's or release's answer: the CLI's server's {@code {"status", "payment_id"}}, then the payment. */
  static ObjectNode settled(Payment p, boolean changed) {
    ObjectNode o = Json.object();
    o.put("status", status(p.getStatus()));
    o.put("payment_id", p.getPaymentId());
    o.put("job_id", p.getJobId());
    // False for a retry: nothing moved this time.
    o.put("changed", changed);
    o.set("payment", view(p));
    return o;
  }

  /** {@code GET /v1/account}: the caller's balances and a page of its transfers, newest first. */
  static ObjectNode account(GetBalanceResponse balances, ListTransfersResponse transfers, int limit, int offset) {
    ObjectNode o = Json.object();
    o.put("client_id", balances.getOwnerId());
    ArrayNode bs = o.putArray("balances");
    for (AccountBalance b : balances.getBalancesList()) {
      ObjectNode bo = bs.addObject();
      bo.put("account", account(b.getKind()));
      bo.put("currency", b.getCurrency());
      bo.set("balance", number(b.getBalance()));
      bo.set("credit_limit", b.getCreditLimit().isEmpty() ? null : number(b.getCreditLimit()));
    }
    ArrayNode ts = o.putArray("transfers");
    for (Transfer t : transfers.getTransfersList()) {
      ObjectNode to = ts.addObject();
      to.put("transfer_id", t.getTransferId());
      to.put("kind", kind(t.getKind()));
      to.put("currency", t.getCurrency());
      to.set("amount", number(t.getAmount()));
      to.put("direction", t.getCredit() ? "credit" : "debit");
      to.put("account", account(t.getAccountKind()));
      to.put("payment_id", orNull(t.getPaymentId()));
      to.put("created_at", JobJson.time(t.getCreateTime()));
    }
    o.put("limit", limit);
    o.put("offset", offset);
    if (transfers.hasNextOffset()) {
      o.put("next_offset", transfers.getNextOffset());
    } else {
      o.putNull("next_offset");
    }
    return o;
  }

  /**
   * {@code POST /v1/miners/{id}/earnings}: the CLI's server's fields, in {@code currency} (AITBC unless
   * asked), then the totals of every currency. {@code total_earnings} is released net of fees within
   * the period; {@code pending_earnings} is held in escrow for jobs the worker runs now.
   */
  static ObjectNode earnings(String minerId, GetEarningsResponse r, String currency, @Nullable String fromTime,
      @Nullable String toTime) {
    ObjectNode o = Json.object();
    o.put("miner_id", minerId);
    CurrencyEarnings main = r.getTotalsList().stream().filter(t -> t.getCurrency().equals(currency)).findFirst()
        .orElse(CurrencyEarnings.newBuilder().setCurrency(currency).setEarned("0").setPending("0").build());
    o.set("total_earnings", number(main.getEarned()));
    o.set("pending_earnings", number(main.getPending()));
    o.put("completed_jobs", main.getCompletedJobs());
    o.put("currency", currency);
    o.put("from_time", fromTime);
    o.put("to_time", toTime);
    ArrayNode history = o.putArray("earnings_history");
    for (Payment p : r.getHistoryList()) {
      ObjectNode h = history.addObject();
      h.put("payment_id", p.getPaymentId());
      h.put("job_id", p.getJobId());
      BigDecimal gross = new BigDecimal(p.getAmount());
      BigDecimal fee = p.getFeeAmount().isEmpty() ? BigDecimal.ZERO : new BigDecimal(p.getFeeAmount());
      h.set("amount", DecimalNode.valueOf(plain(gross.subtract(fee))));
      h.set("gross_amount", number(p.getAmount()));
      h.set("fee_amount", DecimalNode.valueOf(plain(fee)));
      h.put("currency", p.getCurrency());
      h.put("released_at", p.hasReleaseTime() ? JobJson.time(p.getReleaseTime()) : null);
    }
    o.put("owner_id", r.getOwnerId());
    ArrayNode totals = o.putArray("totals");
    for (CurrencyEarnings t : r.getTotalsList()) {
      ObjectNode to = totals.addObject();
      to.put("currency", t.getCurrency());
      to.set("earned", number(t.getEarned()));
      to.set("pending", number(t.getPending()));
      to.put("completed_jobs", t.getCompletedJobs());
    }
    return o;
  }

  /** The contract's spelling of a status: {@code PAYMENT_STATUS_ESCROWED} → {@code escrowed}. */
  static String status(PaymentStatus s) {
    String name = s.name();
    return (name.startsWith(STATUS_PREFIX) ? name.substring(STATUS_PREFIX.length()) : name).toLowerCase(Locale.ROOT);
  }

  private static ObjectNode leg(String transferId, String kind, String from, String to, BigDecimal amount,
      Timestamp at) {
    ObjectNode o = Json.object();
    o.put("transfer_id", orNull(transferId));
    o.put("kind", kind);
    o.put("from", from);
    o.put("to", to);
    o.set("amount", DecimalNode.valueOf(plain(amount)));
    o.put("created_at", JobJson.time(at));
    return o;
  }

  private static boolean released(Payment p) {
    return p.getStatus() == PaymentStatus.PAYMENT_STATUS_RELEASED;
  }

  private static boolean refunded(Payment p) {
    return p.getStatus() == PaymentStatus.PAYMENT_STATUS_REFUNDED;
  }

  private static String account(AccountKind k) {
    return switch (k) {
      case ACCOUNT_KIND_CLIENT -> "client";
      case ACCOUNT_KIND_WORKER_OWNER -> "worker_owner";
      default -> "other";
    };
  }

  private static String kind(TransferKind k) {
    return switch (k) {
      case TRANSFER_KIND_DEPOSIT -> "deposit";
      case TRANSFER_KIND_ESCROW -> "escrow";
      case TRANSFER_KIND_POST -> "post";
      case TRANSFER_KIND_FEE -> "fee";
      case TRANSFER_KIND_VOID -> "void";
      default -> "other";
    };
  }

  /** An amount as a JSON number with exactly the coordinator's digits ("1.5" → 1.5). */
  private static DecimalNode number(String amount) {
    return DecimalNode.valueOf(plain(new BigDecimal(amount)));
  }

  private static BigDecimal plain(BigDecimal v) {
    // Scale at least 1 so that JSON shows 2.0 rather than 2 or 2E+1: a float, as the CLI's server writes it.
    BigDecimal s = v.stripTrailingZeros();
    return s.scale() < 1 ? s.setScale(1) : s;
  }

  private static @Nullable String orNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
