package net.aitbc.grid.ops;

import java.math.BigDecimal;
import java.time.Duration;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import picocli.CommandLine.Option;

/**
 * How the coordinator seals receipts into blocks, the price of work whose worker names none, how
 * long finished jobs are kept, and the result cache.
 */
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

  @Option(names = "--job-retention", defaultValue = "${env:AITBC_JOB_RETENTION:-7d}", converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "how long finished jobs are kept before they are retired (deleted; their receipts and payments "
          + "stay, and their idempotency keys may be used again); 0 keeps them forever "
          + "(env AITBC_JOB_RETENTION; default ${DEFAULT-VALUE})")
  Duration jobRetention;

  @Option(names = "--result-cache-ttl", defaultValue = "${env:AITBC_RESULT_CACHE_TTL:-0s}",
      converter = DurationConverter.class,
      description = "answer an embedding (with a model) or noop job identical to one completed within this time from "
          + "the result cache, at once and free; 0s turns the cache off (env AITBC_RESULT_CACHE_TTL; default "
          + "${DEFAULT-VALUE}; e.g. 24h)")
  Duration resultCacheTtl;

  @Option(names = "--result-cache-max-bytes", defaultValue = "${env:AITBC_RESULT_CACHE_MAX_BYTES:-268435456}",
      description = "the most bytes of results the cache keeps; past it, the least recently hit go first "
          + "(env AITBC_RESULT_CACHE_MAX_BYTES; default ${DEFAULT-VALUE}, 256 MiB)")
  long resultCacheMaxBytes;

  /** Sets these on {@code builder}. */
  CoordinatorConfig.Builder applyTo(CoordinatorConfig.Builder builder) {
    return builder.blocks(blocksEvery, blockInterval).defaultUnitPrice(unitPrice)
        .retention(jobRetention, RETENTION_EVERY).resultCache(resultCacheTtl, resultCacheMaxBytes);
  }

  /** How often a coordinator looks for jobs to retire. */
  static final Duration RETENTION_EVERY = Duration.ofMinutes(1);
}
