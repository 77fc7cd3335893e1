package net.aitbc.grid.ops;

import java.time.Duration;
import net.aitbc.grid.worker.backend.EmbeddingBatching;
import picocli.CommandLine.Option;

/** {@code --embedding-batch-window} and {@code --embedding-max-batch}, for {@code grid worker} and {@code grid dev}. */
public final class EmbeddingBatchingOptions {
  @Option(names = "--embedding-batch-window", paramLabel = "DURATION",
      defaultValue = "${env:AITBC_EMBEDDING_BATCH_WINDOW:-0}", converter = DurationConverter.class,
      description = "embedding jobs arriving within this time of the oldest waiting one share one forward pass of the "
          + "embedded model; it is also the most a job waits for company. 0 turns batching off: one pass per text "
          + "(env AITBC_EMBEDDING_BATCH_WINDOW; default ${DEFAULT-VALUE}, at most 1s)")
  Duration window;

  @Option(names = "--embedding-max-batch", paramLabel = "N", defaultValue = "${env:AITBC_EMBEDDING_MAX_BATCH:-32}",
      description = "the most texts in one forward pass, counting every text of multi-text jobs "
          + "(env AITBC_EMBEDDING_MAX_BATCH; default ${DEFAULT-VALUE}, 1 to " + EmbeddingBatching.MAX_BATCH_LIMIT + ")")
  int maxBatch;

  /** The settings; throws {@link IllegalArgumentException} naming the bad option. */
  public EmbeddingBatching batching() {
    if (window.isNegative() || window.compareTo(EmbeddingBatching.MAX_WINDOW) > 0) {
      throw new IllegalArgumentException("--embedding-batch-window must be 0 to "
          + EmbeddingBatching.MAX_WINDOW.toMillis() + "ms, got " + window.toMillis() + "ms");
    }
    if (maxBatch < 1 || maxBatch > EmbeddingBatching.MAX_BATCH_LIMIT) {
      throw new IllegalArgumentException("--embedding-max-batch must be 1 to " + EmbeddingBatching.MAX_BATCH_LIMIT
          + ", got " + maxBatch);
    }
    return window.isZero() ? EmbeddingBatching.OFF : new EmbeddingBatching(window, maxBatch);
  }
}
