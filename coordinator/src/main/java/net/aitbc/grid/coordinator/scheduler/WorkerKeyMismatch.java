package net.aitbc.grid.coordinator.scheduler;

import net.aitbc.grid.ledger.B64;

/** A worker registered with a public key other than the one pinned to its worker id. */
public final class WorkerKeyMismatch extends RuntimeException {
  WorkerKeyMismatch(String workerId, byte[] pinned, byte[] offered) {
    super("worker " + workerId + " is pinned to public key " + B64.encode(pinned) + ", not " + B64.encode(offered)
        + "; a worker that lost its key must register under a new worker id", null, false, false);
  }
}
