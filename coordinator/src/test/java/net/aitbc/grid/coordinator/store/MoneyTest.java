package net.aitbc.grid.coordinator.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import net.aitbc.grid.coordinator.store.PaymentRefused.Reason;
import net.aitbc.grid.db.enums.Currency;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The contract's rules for amounts, currencies and escrow timeouts. */
class MoneyTest {
  @ParameterizedTest
  @ValueSource(strings = {"-1", "0", "0.00", "0.009", "0.00999999", "1000000.00000001", "1000001", "1e309",
      "1.123456789", "0.000000001", "1e-309", "abc", "1,5", "NaN", "Infinity", "", " ", "1e999999999999",
      "99999999999999999999999999999999999999999999999999999999999999999"})
  void badPaymentAmountsAreRefused(String text) {
    assertThatThrownBy(() -> Money.paymentAmount(Money.parse(text, "amount")))
        .isInstanceOfSatisfying(PaymentRefused.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.INVALID);
          assertThat(e.getMessage()).startsWith("amount");
        });
  }

  @ParameterizedTest
  @ValueSource(strings = {"0.01", "1.5", "1000000", "1e2", "2.50000000", "2.500000000000", "0.12345678"})
  void goodPaymentAmountsKeepEightPlaces(String text) {
    BigDecimal v = Money.paymentAmount(Money.parse(text, "amount"));
    assertThat(v.scale()).isEqualTo(8);
    assertThat(v).isEqualByComparingTo(new BigDecimal(text));
  }

  @Test
  void currenciesAreTheFourInAnyCaseAndAitbcByDefault() {
    assertThat(Money.currency("usdt")).isEqualTo(Currency.USDT);
    assertThat(Money.currency("")).isEqualTo(Currency.AITBC);
    assertThatThrownBy(() -> Money.currency("EUR")).isInstanceOfSatisfying(PaymentRefused.class,
        e -> assertThat(e.getMessage()).contains("AITBC, BTC, ETH, USDT"));
  }

  @Test
  void escrowTimeoutsAreBetween300And86400Seconds() {
    assertThat(Money.escrowTimeout(0)).isEqualTo(3600);
    assertThat(Money.escrowTimeout(300)).isEqualTo(300);
    assertThat(Money.escrowTimeout(86_400)).isEqualTo(86_400);
    for (long bad : new long[] {299, 86_401, -1, Long.MAX_VALUE}) {
      assertThatThrownBy(() -> Money.escrowTimeout(bad)).isInstanceOf(PaymentRefused.class);
    }
  }

  @Test
  void theFeeIsRoundedDownSoTheWorkerKeepsTheRest() {
    assertThat(Money.fee(new BigDecimal("0.01000000"), 9999)).isEqualByComparingTo("0.009999");
    assertThat(Money.fee(new BigDecimal("0.01000000"), 3)).isEqualByComparingTo("0.000003");
    assertThat(Money.fee(new BigDecimal("0.00000001"), 250)).isEqualByComparingTo("0");
    assertThatThrownBy(() -> Money.feeBps(10_000)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void depositsArePositiveAndBounded() {
    assertThat(Money.depositAmount(new BigDecimal("0.00000001"))).isEqualByComparingTo("0.00000001");
    assertThatThrownBy(() -> Money.depositAmount(BigDecimal.ZERO)).isInstanceOf(PaymentRefused.class);
    assertThatThrownBy(() -> Money.depositAmount(new BigDecimal("1000000000.00000001")))
        .isInstanceOf(PaymentRefused.class);
  }
}
