package net.aitbc.grid.coordinator.miner;

import static java.util.Objects.requireNonNull;

import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.MinerStore;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;

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

  static MinerRefused notRegistered(String minerId) {
    return new MinerRefused(Kind.NOT_REGISTERED, "miner " + minerId + " is not registered");
  }

  static MinerRefused otherAttempt(String minerId, UUID jobId, int held, int asked) {
    return new MinerRefused(Kind.NOT_HELD, "miner " + minerId + " holds attempt " + held + " of job "
        + JobIds.format(jobId) + ", not attempt " + asked);
  }

  /**
   * Why the miner may not end the job, from where it stands ({@code status}, null when there is no
   * such job) and why it was taken from the miner, if it was.
   */
  static MinerRefused notHeld(String minerId, UUID jobId, @Nullable String takenBecause,
      MinerStore.@Nullable JobStatus status) {
    String job = "job " + JobIds.format(jobId);
    if (status == null) {
      return new MinerRefused(Kind.NO_SUCH_JOB, job + " not found");
    }
    String because = takenBecause != null ? " (taken from it: " + takenBecause + ")" : "";
    if (status.state() != JobState.QUEUED && status.state() != JobState.RUNNING) {
      return new MinerRefused(Kind.NOT_HELD, job + " is " + status.state() + ": it takes no more outcomes" + because);
    }
    return new MinerRefused(Kind.NOT_HELD, "miner " + minerId + " does not hold " + job + ": it is "
        + status.state() + (status.state() == JobState.RUNNING ? " on another worker" : " again") + because);
  }
}
