package net.aitbc.grid.coordinator.swarm;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.LiveWorker;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.store.SwarmCandidate;
import net.aitbc.grid.coordinator.store.SwarmReads;
import net.aitbc.grid.coordinator.store.SwarmStore;
import org.jspecify.annotations.Nullable;

/**
 * The workers a swarm task may choose from: those connected now (on any coordinator) that run its
 * type and model and meet its constraints, each with its tier, reputation, measured latency and price.
 */
public final class SwarmWorkers {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SwarmStore swarms;
  private final SwarmReads reads;

  /** Reads workers through these stores. */
  public SwarmWorkers(SwarmStore swarms, SwarmReads reads) {
    this.swarms = requireNonNull(swarms, "swarms");
    this.reads = requireNonNull(reads, "reads");
  }

  /**
   * The capable connected workers but {@code excluded}, unranked; members of {@code swarmId} (or of
   * the swarms of {@code type} that {@code clientId} joined) are tier 0.
   */
  public List<SwarmCandidate> capable(String type, @Nullable String model, Requirements requirements,
      @Nullable UUID swarmId, String clientId, Set<String> excluded) {
    List<LiveWorker> able = new ArrayList<>();
    for (LiveWorker w : swarms.liveWorkers()) {
      if (!excluded.contains(w.workerId()) && w.offer().runs(type, model) && requirements.satisfiedBy(w.offer())) {
        able.add(w);
      }
    }
    if (able.isEmpty()) {
      return List.of();
    }
    SwarmStore.Preferred preferred = swarms.preferred(type, swarmId, clientId);
    Map<String, SwarmReads.Standing> standings = reads.standings(able.stream().map(LiveWorker::workerId).toList());
    List<SwarmCandidate> out = new ArrayList<>(able.size());
    for (LiveWorker w : able) {
      SwarmReads.Standing s = standings.getOrDefault(w.workerId(), SwarmReads.Standing.NEW);
      out.add(new SwarmCandidate(w.workerId(), w.ownerId(), preferred.tier(w.workerId(), w.ownerId()),
          s.reputation(), s.latencyMs(), w.offer().price()));
    }
    return out;
  }

  /** The model a payload names (lower case), or null. */
  public static @Nullable String model(JsonNode payload) {
    JsonNode m = payload.get("model");
    if (m == null || !m.isTextual() || m.textValue().isBlank()) {
      return null;
    }
    return m.textValue().trim().toLowerCase(Locale.ROOT);
  }

  /**
   * The requirements of a Constraints object written as JSON with its proto field names (as the task
   * row keeps it; already checked when the task was started).
   */
  public static Requirements requirements(String constraintsJson) {
    JsonNode c;
    try {
      c = JSON.readTree(constraintsJson);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored constraints are not JSON: " + e.getOriginalMessage(), e);
    }
    List<String> models = new ArrayList<>();
    c.path("models").forEach(m -> models.add(m.asText()));
    return Requirements.of(c.path("gpu").asText(""), c.path("cuda").asText(""), c.path("min_vram_gb").asInt(0),
        models, c.path("region").asText(""), c.path("max_price").asDouble(0));
  }
}
