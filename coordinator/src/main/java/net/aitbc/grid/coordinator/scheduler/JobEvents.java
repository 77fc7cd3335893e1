package net.aitbc.grid.coordinator.scheduler;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells watchers of a job that it changed or made progress. In-process: a watcher connected to
 * this coordinator sees the changes this coordinator makes (replicas will add LISTEN/NOTIFY).
 */
public final class JobEvents {
  private final Map<UUID, Set<Listener>> listeners = new ConcurrentHashMap<>();

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
    return () -> listeners.computeIfPresent(jobId, (id, set) -> {
      set.remove(listener);
      return set.isEmpty() ? null : set;
    });
  }

  /** Tells a job's watchers that it changed. */
  public void changed(UUID jobId) {
    Set<Listener> set = listeners.get(jobId);
    if (set != null) {
      set.forEach(Listener::changed);
    }
  }

  /** Tells a job's watchers about progress. */
  public void progress(UUID jobId, Progress progress) {
    Set<Listener> set = listeners.get(jobId);
    if (set != null) {
      set.forEach(l -> l.progress(progress));
    }
  }

  /** How many jobs are watched now. */
  public int watchedJobs() {
    return listeners.size();
  }
}
