package net.aitbc.grid.coordinator.session;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import net.aitbc.grid.coordinator.store.Offer;
import net.aitbc.grid.coordinator.store.Requirements;
import org.jspecify.annotations.Nullable;

/** The worker sessions connected to this coordinator. */
public final class SessionRegistry {
  private final Map<UUID, WorkerSession> sessions = new ConcurrentHashMap<>();
  private final Map<String, Set<WorkerSession>> byProfile = new ConcurrentHashMap<>();
  private final Map<String, WorkerSession> byWorker = new ConcurrentHashMap<>();

  /** Adds a registered session. */
  public void add(WorkerSession session) {
    sessions.put(session.id(), session);
    byProfile.computeIfAbsent(session.profile(), p -> ConcurrentHashMap.newKeySet()).add(session);
    byWorker.put(session.workerId(), session);
  }

  /** Removes a session; true if it was there. */
  public boolean remove(WorkerSession session) {
    if (!sessions.remove(session.id(), session)) {
      return false;
    }
    byProfile.computeIfPresent(session.profile(), (p, set) -> {
      set.remove(session);
      return set.isEmpty() ? null : set;
    });
    byWorker.remove(session.workerId(), session);
    return true;
  }

  /** The connected sessions with this profile (workers that can run the same jobs). */
  public Collection<WorkerSession> withProfile(String profile) {
    Set<WorkerSession> set = byProfile.get(profile);
    return set == null ? List.of() : set;
  }

  /** The latest connected session of a worker, if it is connected here. */
  public Optional<WorkerSession> ofWorker(String workerId) {
    return Optional.ofNullable(byWorker.get(workerId));
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

  /**
   * What a queued job waits for, in words: a worker that runs its type and model, then one that
   * also meets its requirements, else just a free one.
   */
  public String waitingFor(String type, @Nullable String model, Requirements requirements) {
    String kind = "a worker that runs " + type + (model == null ? "" : " with model " + model);
    List<Offer> capable = sessions.values().stream().map(WorkerSession::offer).filter(o -> o.runs(type, model)).toList();
    if (capable.isEmpty()) {
      return kind;
    }
    if (capable.stream().noneMatch(requirements::satisfiedBy)) {
      return kind + " and offers " + String.join(", ", requirements.describe());
    }
    return "a free slot on " + kind;
  }
}
