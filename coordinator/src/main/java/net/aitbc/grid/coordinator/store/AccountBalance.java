package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.Currency;
import org.jspecify.annotations.Nullable;

/**
 * One account of an owner.
 *
 * @param kind client (what it pays from) or worker_owner (what its workers earned)
 * @param currency its currency
 * @param balance credits minus debits
 * @param creditLimit how far below zero it may go; null for no limit
 */
public record AccountBalance(AccountKind kind, Currency currency, BigDecimal balance,
    @Nullable BigDecimal creditLimit) {}
