package net.aitbc.grid.coordinator.miner;

import static java.util.Objects.requireNonNull;

/** A miner's call that cannot be done, and why, in words for the miner. */
public final class MinerRefused extends RuntimeException {
  /** What kind of refusal. */
  public enum Kind {
    /** The caller has no registered miner by that id. */
    NOT_REGISTERED,
    /** No such job. */
    NO_SUCH_JOB,
    /** The miner does not hold the job's current attempt (another's, taken back, ended). */
    NOT_HELD
  }

  private final Kind kind;

  MinerRefused(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = requireNonNull(kind, "kind");
  }

  /** What kind of refusal. */
  public Kind kind() {
    return kind;
  }
}
