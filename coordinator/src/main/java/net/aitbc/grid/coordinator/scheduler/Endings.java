package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.store.Ended;
import net.aitbc.grid.db.enums.JobState;

/**
 * Tells everyone about attempts that ended from outside their worker (canceled, expired, taken
 * back): the worker that ran it, the job's watchers, the meters and the dispatcher.
 */
final class Endings {
  private final SessionRegistry registry;
  private final JobEvents events;
  private final GridMetrics metrics;
  private final Runnable wake;
  private final Peers peers;

  Endings(SessionRegistry registry, JobEvents events, GridMetrics metrics, Runnable wake, Peers peers) {
    this.registry = requireNonNull(registry, "registry");
    this.events = requireNonNull(events, "events");
    this.metrics = requireNonNull(metrics, "metrics");
    this.wake = requireNonNull(wake, "wake");
    this.peers = requireNonNull(peers, "peers");
  }

  /** Settles these endings; {@code reason} is what the worker is told. */
  void settle(List<Ended> ended, String reason) {
    for (Ended e : ended) {
      if (e.sessionId() != null) {
        var session = registry.find(e.sessionId());
        if (session.isPresent()) {
          session.get().revoke(e.jobId(), e.attempt(), reason);
        } else {
          // Its worker may be connected to another replica.
          peers.revoke(e.sessionId(), e.jobId(), e.attempt(), reason);
        }
      }
      changed(e.jobId(), e.state());
    }
  }

  /** A job's attempt ended and the job is now in {@code state}: meters, dispatcher and watchers hear of it. */
  void changed(UUID jobId, JobState state) {
    if (state == JobState.QUEUED) {
      metrics.requeued();
      wake.run();
      peers.queued();
    } else {
      metrics.finished(state);
    }
    events.changed(jobId);
  }
}
