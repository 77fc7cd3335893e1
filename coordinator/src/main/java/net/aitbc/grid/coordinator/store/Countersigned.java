package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import org.jspecify.annotations.Nullable;

/**
 * What a completion brings to its receipt beyond the job: the worker's verified countersignature,
 * the result it covers, and the price the worker asked.
 *
 * @param worker the receipt's {@code metadata.worker}, canonical JSON: the statement the worker signed,
 *     its batch proof and signature; null when no worker signed it
 * @param result the result in canonical JSON, as hashed to check the signature (the receipt's
 *     {@code metadata.result})
 * @param unitPrice the price per unit the worker advertised (or the coordinator's default)
 */
public record Countersigned(@Nullable String worker, String result, BigDecimal unitPrice) {
  /** Checks the values. */
  public Countersigned {
    requireNonNull(result, "result");
    requireNonNull(unitPrice, "unitPrice");
  }

  /**
   * A completion that no worker signed (a REST miner's, which has no key): the receipt names the
   * miner as its provider and has no {@code metadata.worker}, so it proves who recorded the job but not
   * who ran it.
   */
  public static Countersigned unattested(String result, BigDecimal unitPrice) {
    return new Countersigned(null, result, unitPrice);
  }
}
