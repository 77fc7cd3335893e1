package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.UUID;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.VoidReason;
import org.jspecify.annotations.Nullable;

/**
 * A payment as stored.
 *
 * @param paymentId its id
 * @param jobId the job it pays for
 * @param clientId who paid
 * @param amount how much
 * @param currency in what
 * @param status pending, escrowed, released, refunded or failed
 * @param paymentMethod the client's label
 * @param escrowTimeoutSeconds how long the escrow is held
 * @param expiresAt when the escrow is voided if nothing settled it before
 * @param feeBps the platform's fee on release, in basis points
 * @param workerOwnerId who was paid, once released
 * @param workerId the worker that ran the job, once released
 * @param feeAmount the fee taken, once released
 * @param voidReason why it was refunded, once refunded
 * @param createdAt when it was made
 * @param updatedAt when it last changed
 * @param releasedAt when it was released
 * @param refundedAt when it was refunded
 */
public record StoredPayment(UUID paymentId, UUID jobId, String clientId, BigDecimal amount, Currency currency,
    PaymentStatus status, String paymentMethod, int escrowTimeoutSeconds, OffsetDateTime expiresAt, int feeBps,
    @Nullable String workerOwnerId, @Nullable String workerId, @Nullable BigDecimal feeAmount,
    @Nullable VoidReason voidReason, OffsetDateTime createdAt, OffsetDateTime updatedAt,
    @Nullable OffsetDateTime releasedAt, @Nullable OffsetDateTime refundedAt) {

  /** The id of the transfer that moved the amount into escrow. */
  public UUID escrowTransferId() {
    return Transfers.id(Transfers.escrowKey(paymentId));
  }

  /** The id of the transfer that settled the escrow (post or void), or null while it is open. */
  public @Nullable UUID settlementTransferId() {
    return switch (status) {
      case released -> Transfers.id(Transfers.postKey(paymentId));
      case refunded -> Transfers.id(Transfers.voidKey(paymentId));
      default -> null;
    };
  }

  /** The id of the transfer that paid the platform's fee, or null unless it was released with a fee. */
  public @Nullable UUID feeTransferId() {
    return status == PaymentStatus.released && feeAmount != null && feeAmount.signum() > 0
        ? Transfers.id(Transfers.feeKey(paymentId)) : null;
  }
}
