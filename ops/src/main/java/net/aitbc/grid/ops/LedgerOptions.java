package net.aitbc.grid.ops;

import java.math.BigDecimal;
import java.time.Duration;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import picocli.CommandLine.Option;

/** How the coordinator seals receipts into blocks, and the price of work whose worker names none. */
final class LedgerOptions {
  @Option(names = "--blocks-every", defaultValue = "1000", paramLabel = "N",
      description = "receipts per block: a block is sealed as soon as this many wait (default ${DEFAULT-VALUE})")
  int blocksEvery;

  @Option(names = "--block-interval", defaultValue = "1s", converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "how long a receipt may wait before a block seals it (default ${DEFAULT-VALUE})")
  Duration blockInterval;

  @Option(names = "--unit-price", defaultValue = "0.02", paramLabel = "DECIMAL",
      description = "price per unit (gpu_seconds) on receipts of workers that advertise none (default ${DEFAULT-VALUE})")
  BigDecimal unitPrice;

  /** Sets these on {@code builder}. */
  CoordinatorConfig.Builder applyTo(CoordinatorConfig.Builder builder) {
    return builder.blocks(blocksEvery, blockInterval).defaultUnitPrice(unitPrice);
  }
}
