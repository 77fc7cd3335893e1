package net.aitbc.grid.coordinator.miner;

import static java.util.Objects.requireNonNull;

import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.WorkerSession;

/**
 * One session of a REST miner: the scheduler's {@link WorkerSession} and its {@link PollLink}. The
 * miner asks for work by polling, so the session holds a credit for each waiting poll, never more
 * than its concurrency allows (the session's own cap), and none once no poll waits.
 */
final class MinerSession {
  private final WorkerSession session;
  private final PollLink link;
  private final Scheduler scheduler;

  MinerSession(WorkerSession session, PollLink link, Scheduler scheduler) {
    this.session = requireNonNull(session, "session");
    this.link = requireNonNull(link, "link");
    this.scheduler = requireNonNull(scheduler, "scheduler");
  }

  WorkerSession session() {
    return session;
  }

  PollLink link() {
    return link;
  }

  UUID id() {
    return session.id();
  }

  /** Whether the session is over. */
  boolean closed() {
    return link.ended();
  }

  /** Any call of the miner counts as a heartbeat. */
  void touch() {
    session.touch();
  }

  /**
   * The attempt of this job the session holds, if it holds one (also while its outcome is being
   * recorded: a repeated report then gets the answer the first one gets).
   */
  Optional<Integer> holds(UUID jobId) {
    return session.running(jobId).map(WorkerSession.RunningAttempt::attempt);
  }

  /**
   * Grants a credit for each waiting poll that has none (the session caps them at its concurrency);
   * called when a poll starts waiting and whenever a slot frees.
   */
  void creditWaitingPolls() {
    synchronized (this) {
      int want = link.waiting() - session.credits();
      if (want > 0) {
        scheduler.grant(session, want);
      }
    }
  }

  /**
   * Takes back credits no poll waits for any more (a wait ran out). A claim already under way keeps
   * its credit: its job waits in the mailbox for the next poll.
   */
  void dropUnwantedCredits() {
    synchronized (this) {
      int excess = session.credits() - link.waiting();
      if (excess > 0) {
        session.reserve(excess);
      }
    }
  }
}
