package net.aitbc.grid.coordinator.session;

import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/** The worker sessions connected to this coordinator. */
public final class SessionRegistry {
  private final Map<UUID, WorkerSession> sessions = new ConcurrentHashMap<>();

  /** Adds a registered session. */
  public void add(WorkerSession session) {
    sessions.put(session.id(), session);
  }

  /** Removes a session; true if it was there. */
  public boolean remove(WorkerSession session) {
    return sessions.remove(session.id(), session);
  }

  /** A connected session by id. */
  public Optional<WorkerSession> find(@Nullable UUID id) {
    return id == null ? Optional.empty() : Optional.ofNullable(sessions.get(id));
  }

  /** All connected sessions. */
  public Collection<WorkerSession> all() {
    return sessions.values();
  }

  /** How many sessions are connected. */
  public int size() {
    return sessions.size();
  }

  /** Whether some connected worker can run a job of this type and model. */
  public boolean anySupports(String type, @Nullable String model) {
    for (WorkerSession s : sessions.values()) {
      if (s.supports(type, model)) {
        return true;
      }
    }
    return false;
  }
}
