package net.aitbc.grid.coordinator.workflow;

import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tells watchers of an execution on this coordinator that it changed. The changes come from
 * PostgreSQL's notifications, so a change made by any coordinator reaches them.
 */
public final class ExecutionEvents {
  private final Map<UUID, Set<Runnable>> listeners = new ConcurrentHashMap<>();

  /** Calls {@code listener} (on the notifying thread: it must not block) when the execution changes; close to stop. */
  public AutoCloseable subscribe(UUID executionId, Runnable listener) {
    listeners.computeIfAbsent(executionId, id -> ConcurrentHashMap.newKeySet()).add(listener);
    return () -> listeners.computeIfPresent(executionId, (id, set) -> {
      set.remove(listener);
      return set.isEmpty() ? null : set;
    });
  }

  /** The execution changed. */
  public void changed(UUID executionId) {
    Set<Runnable> set = listeners.get(executionId);
    if (set != null) {
      set.forEach(Runnable::run);
    }
  }

  /** Changes may have been missed (the notifications were down): every watcher reads again. */
  public void changedAll() {
    listeners.values().forEach(set -> set.forEach(Runnable::run));
  }
}
