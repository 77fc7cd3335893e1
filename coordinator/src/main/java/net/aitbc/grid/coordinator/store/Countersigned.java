package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;

/**
 * What a completion brings to its receipt beyond the job: the worker's verified countersignature and
 * the price it asked.
 *
 * @param worker the receipt's {@code metadata.worker}: the statement the worker signed, its batch proof
 *     and signature
 * @param unitPrice the price per unit the worker advertised (or the coordinator's default)
 */
public record Countersigned(ObjectNode worker, BigDecimal unitPrice) {
  /** Checks the values. */
  public Countersigned {
    requireNonNull(worker, "worker");
    requireNonNull(unitPrice, "unitPrice");
  }
}
