package net.aitbc.grid.coordinator.scheduler;

import java.util.UUID;

/**
 * What this coordinator tells the other coordinators on its database (its replicas). Each call only
 * queues a message and returns: callers are committers, the dispatcher and event loops. With no
 * other replica alive, nothing is sent.
 */
public interface Peers {
  /** Jobs were queued (or queued again) that workers connected to another replica may run. */
  void queued();

  /** An attempt ended here whose worker's session is not held here: whoever holds it revokes it. */
  void revoke(UUID sessionId, UUID jobId, int attempt, String reason);

  /** A client began watching this job here: replicas that change it should say so. */
  void watching(UUID jobId);

  /** Whether a client watches this job on another replica. */
  boolean watchedElsewhere(UUID jobId);

  /** The job changed here; it is watched elsewhere. */
  void changed(UUID jobId);

  /** Its worker reported progress here; the job is watched elsewhere. */
  void progress(Progress progress);

  /** A coordinator alone on its database. */
  Peers NONE = new Peers() {
    @Override
    public void queued() {}

    @Override
    public void revoke(UUID sessionId, UUID jobId, int attempt, String reason) {}

    @Override
    public void watching(UUID jobId) {}

    @Override
    public boolean watchedElsewhere(UUID jobId) {
      return false;
    }

    @Override
    public void changed(UUID jobId) {}

    @Override
    public void progress(Progress progress) {}
  };
}
