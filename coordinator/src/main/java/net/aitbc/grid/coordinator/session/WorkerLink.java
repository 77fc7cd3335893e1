package net.aitbc.grid.coordinator.session;

import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.ClaimedJob;

/**
 * How the coordinator reaches one connected worker, whatever carries it (a gRPC stream, or a REST
 * miner's long polls). Implementations are the single writer of their transport and
 * must not block: calls come from the dispatcher, committers and the sweeper.
 */
public interface WorkerLink {
  /** Why the coordinator ends a session. */
  enum Ending {
    /** The worker said it was done; everything it sent has been answered. */
    DONE,
    /** No heartbeat within the lease. */
    SILENT,
    /** The worker's key was revoked. */
    KEY_REVOKED,
    /** The coordinator is shutting down. */
    SHUTDOWN
  }

  /** Hands claimed jobs to the worker, in order, each until {@code leaseExpiresAt} unless renewed. */
  void assign(List<ClaimedJob> jobs, java.time.OffsetDateTime leaseExpiresAt);

  /** Tells the worker to stop an attempt (canceled, expired, overran, taken back). */
  void revoke(UUID jobId, int attempt, String reason);

  /** Tells the worker to take no more work and finish or hand back what it holds. */
  void drain(String reason);

  /** Ends the session's transport; afterwards every call is ignored. */
  void end(Ending why, String detail);

  /** Whether the transport has ended. */
  boolean ended();
}
