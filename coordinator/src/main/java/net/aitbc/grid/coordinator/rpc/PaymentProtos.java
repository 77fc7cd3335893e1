package net.aitbc.grid.coordinator.rpc;

import java.math.BigDecimal;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.AccountBalance;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.StoredPayment;
import net.aitbc.grid.coordinator.store.TransferEntry;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.TransferKind;
import net.aitbc.grid.v1.Payment;
import net.aitbc.grid.v1.Transfer;

/** Payments, balances and transfers as protocol messages. */
final class PaymentProtos {
  private PaymentProtos() {}

  static Payment payment(StoredPayment p) {
    Payment.Builder b = Payment.newBuilder()
        .setPaymentId(JobIds.format(p.paymentId()))
        .setJobId(JobIds.format(p.jobId()))
        .setClientId(p.clientId())
        .setAmount(amount(p.amount()))
        .setCurrency(p.currency().getLiteral())
        .setStatus(status(p.status()))
        .setPaymentMethod(p.paymentMethod())
        .setEscrowTimeoutSeconds(p.escrowTimeoutSeconds())
        .setExpireTime(JobProtos.timestamp(p.expiresAt()))
        .setFeeBps(p.feeBps())
        .setCreateTime(JobProtos.timestamp(p.createdAt()))
        .setUpdateTime(JobProtos.timestamp(p.updatedAt()))
        .setEscrowTransferId(JobIds.format(p.escrowTransferId()));
    if (p.workerOwnerId() != null) {
      b.setWorkerOwnerId(p.workerOwnerId());
    }
    if (p.feeAmount() != null) {
      b.setFeeAmount(amount(p.feeAmount()));
    }
    if (p.voidReason() != null) {
      b.setRefundReason(p.voidReason().getLiteral());
    }
    if (p.releasedAt() != null) {
      b.setReleaseTime(JobProtos.timestamp(p.releasedAt()));
    }
    if (p.refundedAt() != null) {
      b.setRefundTime(JobProtos.timestamp(p.refundedAt()));
    }
    UUID settlement = p.settlementTransferId();
    if (settlement != null) {
      b.setSettlementTransferId(JobIds.format(settlement));
    }
    UUID fee = p.feeTransferId();
    if (fee != null) {
      b.setFeeTransferId(JobIds.format(fee));
    }
    return b.build();
  }

  static net.aitbc.grid.v1.AccountBalance balance(AccountBalance a) {
    net.aitbc.grid.v1.AccountBalance.Builder b = net.aitbc.grid.v1.AccountBalance.newBuilder()
        .setKind(kind(a.kind()))
        .setCurrency(a.currency().getLiteral())
        .setBalance(amount(a.balance()));
    if (a.creditLimit() != null) {
      b.setCreditLimit(amount(a.creditLimit()));
    }
    return b.build();
  }

  static Transfer transfer(TransferEntry t) {
    Transfer.Builder b = Transfer.newBuilder()
        .setTransferId(JobIds.format(t.transferId()))
        .setKind(kind(t.kind()))
        .setCurrency(t.currency().getLiteral())
        .setAmount(amount(t.amount()))
        .setCredit(t.credit())
        .setAccountKind(kind(t.accountKind()))
        .setCreateTime(JobProtos.timestamp(t.createdAt()));
    if (t.paymentId() != null) {
      b.setPaymentId(JobIds.format(t.paymentId()));
    }
    return b.build();
  }

  /** An amount as plain decimal text without trailing zeros ("1.5", "0.00000001", "2"). */
  static String amount(BigDecimal v) {
    return v.signum() == 0 ? "0" : v.stripTrailingZeros().toPlainString();
  }

  static net.aitbc.grid.v1.PaymentStatus status(PaymentStatus s) {
    return switch (s) {
      case pending -> net.aitbc.grid.v1.PaymentStatus.PAYMENT_STATUS_PENDING;
      case escrowed -> net.aitbc.grid.v1.PaymentStatus.PAYMENT_STATUS_ESCROWED;
      case released -> net.aitbc.grid.v1.PaymentStatus.PAYMENT_STATUS_RELEASED;
      case refunded -> net.aitbc.grid.v1.PaymentStatus.PAYMENT_STATUS_REFUNDED;
      case failed -> net.aitbc.grid.v1.PaymentStatus.PAYMENT_STATUS_FAILED;
    };
  }

  private static net.aitbc.grid.v1.AccountKind kind(AccountKind k) {
    return switch (k) {
      case client -> net.aitbc.grid.v1.AccountKind.ACCOUNT_KIND_CLIENT;
      case worker_owner -> net.aitbc.grid.v1.AccountKind.ACCOUNT_KIND_WORKER_OWNER;
      default -> net.aitbc.grid.v1.AccountKind.ACCOUNT_KIND_UNSPECIFIED;
    };
  }

  private static net.aitbc.grid.v1.TransferKind kind(TransferKind k) {
    return switch (k) {
      case deposit -> net.aitbc.grid.v1.TransferKind.TRANSFER_KIND_DEPOSIT;
      case escrow -> net.aitbc.grid.v1.TransferKind.TRANSFER_KIND_ESCROW;
      case post -> net.aitbc.grid.v1.TransferKind.TRANSFER_KIND_POST;
      case fee -> net.aitbc.grid.v1.TransferKind.TRANSFER_KIND_FEE;
      case void_ -> net.aitbc.grid.v1.TransferKind.TRANSFER_KIND_VOID;
    };
  }
}
