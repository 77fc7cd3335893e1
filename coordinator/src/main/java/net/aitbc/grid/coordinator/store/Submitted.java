package net.aitbc.grid.coordinator.store;

import org.jspecify.annotations.Nullable;

/**
 * The outcome of an insert.
 *
 * @param job the stored job
 * @param existing true when the idempotency key matched a job created earlier
 * @param placed the first attempt, when the job was stored already handed to its placement's session
 * @param refused why its payment was refused, in which case neither the job nor the payment was stored
 * @param cache what the result cache answered for it
 */
public record Submitted(StoredJob job, boolean existing, @Nullable ClaimedJob placed,
    @Nullable PaymentRefused refused, Lookup cache) {
  /** A job stored, or found stored, that the result cache was not asked about. */
  public Submitted(StoredJob job, boolean existing, @Nullable ClaimedJob placed) {
    this(job, existing, placed, null, Lookup.NONE);
  }

  /** A job stored, found stored or refused, that the result cache was not asked about. */
  public Submitted(StoredJob job, boolean existing, @Nullable ClaimedJob placed, @Nullable PaymentRefused refused) {
    this(job, existing, placed, refused, Lookup.NONE);
  }

  /** What the result cache answered for a job. */
  public enum Lookup {
    /** Not asked: the job is not of a cached type, opted out, or the cache is off. */
    NONE,
    /** Answered: the job was stored completed with the cached result. */
    HIT,
    /** Asked, and it had nothing: the job was queued to run. */
    MISS
  }
}
