package net.aitbc.grid.coordinator.scheduler;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells watchers of a job that it changed or made progress: those connected here directly, and
 * those connected to other replicas through {@link Peers} (only for jobs watched there).
 */
public final class JobEvents {
  private final Map<UUID, Set<Listener>> listeners = new ConcurrentHashMap<>();
  private final Peers peers;

  /** Events that reach watchers here, and those on other replicas through {@code peers}. */
  public JobEvents(Peers peers) {
    this.peers = java.util.Objects.requireNonNull(peers, "peers");
  }

  /** Events for a coordinator alone on its database. */
  public JobEvents() {
    this(Peers.NONE);
  }

  /** Receives a job's events; called on the thread that made the change, so it must not block. */
  public interface Listener {
    /** The job's state or fields changed: read it again. */
    void changed();

    /** The job's worker reported progress. */
    void progress(Progress progress);
  }

  /** Starts delivering a job's events to {@code listener}; close the result to stop. */
  public AutoCloseable subscribe(UUID jobId, Listener listener) {
    listeners.computeIfAbsent(jobId, id -> ConcurrentHashMap.newKeySet()).add(listener);
    peers.watching(jobId);
    return () -> listeners.computeIfPresent(jobId, (id, set) -> {
      set.remove(listener);
      return set.isEmpty() ? null : set;
    });
  }

  /** Tells a job's watchers that it changed, here and on other replicas. */
  public void changed(UUID jobId) {
    changedHere(jobId);
    if (peers.watchedElsewhere(jobId)) {
      peers.changed(jobId);
    }
  }

  /** Tells a job's watchers here that it changed (another replica changed it). */
  public void changedHere(UUID jobId) {
    Set<Listener> set = listeners.get(jobId);
    if (set != null) {
      set.forEach(Listener::changed);
    }
  }

  /** Tells a job's watchers about progress, here and on other replicas. */
  public void progress(UUID jobId, Progress progress) {
    progressHere(progress);
    if (peers.watchedElsewhere(jobId)) {
      peers.progress(progress);
    }
  }

  /** Tells a job's watchers here about progress reported to another replica. */
  public void progressHere(Progress progress) {
    UUID jobId = progress.jobId();
    Set<Listener> set = listeners.get(jobId);
    if (set != null) {
      set.forEach(l -> l.progress(progress));
    }
  }

  /** The jobs watched here now. */
  public Set<UUID> watched() {
    return Set.copyOf(listeners.keySet());
  }

  /** Has every watcher here read its job again (notifications from other replicas may have been lost). */
  public void changedAllHere() {
    listeners.keySet().forEach(this::changedHere);
  }

  /** How many jobs are watched now. */
  public int watchedJobs() {
    return listeners.size();
  }
}
