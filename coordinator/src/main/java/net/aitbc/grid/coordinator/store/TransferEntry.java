package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.UUID;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.TransferKind;
import org.jspecify.annotations.Nullable;

/**
 * A transfer as one of its owners sees it.
 *
 * @param transferId its id
 * @param kind deposit, escrow, post, fee or void
 * @param currency its currency
 * @param amount how much, always positive
 * @param credit whether it credited the owner's account (else it debited it)
 * @param accountKind which of the owner's accounts it touched
 * @param paymentId the payment it belongs to, or null for a deposit
 * @param createdAt when it happened
 */
public record TransferEntry(UUID transferId, TransferKind kind, Currency currency, BigDecimal amount, boolean credit,
    AccountKind accountKind, @Nullable UUID paymentId, OffsetDateTime createdAt) {}
