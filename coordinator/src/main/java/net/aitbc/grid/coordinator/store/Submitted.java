package net.aitbc.grid.coordinator.store;

import org.jspecify.annotations.Nullable;

/**
 * The outcome of an insert.
 *
 * @param job the stored job
 * @param existing true when the idempotency key matched a job created earlier
 * @param placed the first attempt, when the job was stored already handed to its placement's session
 * @param refused why its payment was refused, in which case neither the job nor the payment was stored
 */
public record Submitted(StoredJob job, boolean existing, @Nullable ClaimedJob placed,
    @Nullable PaymentRefused refused) {
  /** A job stored, or found stored. */
  public Submitted(StoredJob job, boolean existing, @Nullable ClaimedJob placed) {
    this(job, existing, placed, null);
  }
}
