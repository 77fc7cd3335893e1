package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.util.UUID;
import net.aitbc.grid.db.enums.Currency;

/**
 * A payment a client asks for; {@link PaymentStore#create} checks it with {@link Money}.
 *
 * @param paymentId its new id (used only if it is created)
 * @param jobId the job it pays for, which must be the client's
 * @param clientId who pays
 * @param amount how much
 * @param currency in what
 * @param paymentMethod a free label the client chose (the CLI's {@code --method})
 * @param escrowTimeoutSeconds how long the escrow is held before it is voided back, 300 to 86,400
 */
public record NewPayment(UUID paymentId, UUID jobId, String clientId, BigDecimal amount, Currency currency,
    String paymentMethod, int escrowTimeoutSeconds) {}
