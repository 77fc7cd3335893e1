package net.aitbc.grid.worker.backend;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How the embedded model batches the texts of embedding jobs that arrive close together into one
 * forward pass, as Triton's dynamic batcher does.
 *
 * @param window how long the oldest waiting text may wait for others to join its batch; zero
 *     turns batching off (each job runs alone, one pass per text, as before)
 * @param maxBatch the most texts in one forward pass
 */
public record EmbeddingBatching(Duration window, int maxBatch) {

  /** The most an operator may set the window to: a batch exists to save time, not to hold jobs. */
  public static final Duration MAX_WINDOW = Duration.ofSeconds(1);

  /** The largest batch allowed: beyond it the padded input only costs memory. */
  public static final int MAX_BATCH_LIMIT = 1024;

  /**
   * 2 ms, at most 32 texts (a few per cent of one pass's time on a 2-core CPU): the setting to
   * turn it on with. Off by default until a worker stopped during a batched pass is known to exit
   * cleanly (StopCleanlyIT saw a native crash).
   */
  public static final EmbeddingBatching DEFAULT = new EmbeddingBatching(Duration.ofMillis(2), 32);

  /** Batching off. */
  public static final EmbeddingBatching OFF = new EmbeddingBatching(Duration.ZERO, 1);

  /** Checks the bounds. */
  public EmbeddingBatching {
    requireNonNull(window, "window");
    if (window.isNegative() || window.compareTo(MAX_WINDOW) > 0) {
      throw new IllegalArgumentException(
          "the embedding batch window must be 0 to " + MAX_WINDOW.toMillis() + " ms, got " + window.toMillis()
              + " ms");
    }
    if (maxBatch < 1 || maxBatch > MAX_BATCH_LIMIT) {
      throw new IllegalArgumentException(
          "the embedding max batch must be 1 to " + MAX_BATCH_LIMIT + ", got " + maxBatch);
    }
  }

  /** Whether texts of different jobs share forward passes. */
  public boolean enabled() {
    return !window.isZero();
  }
}
