package net.aitbc.grid.coordinator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.jooq.JSONB;
import org.jspecify.annotations.Nullable;

/**
 * A worker as ranked for a swarm task, with what ranked it.
 *
 * @param workerId the worker
 * @param ownerId its owner (the client id of its worker key)
 * @param tier 0: a member of the swarm named (or of one of the capability the client joined); 1: a
 *     member of another swarm of the capability; 2: neither
 * @param reputation 0 to 1
 * @param latencyMs the moving average of its member jobs' run times, or null before one completed
 * @param price what it asks per unit
 */
public record SwarmCandidate(String workerId, String ownerId, int tier, double reputation, @Nullable Long latencyMs,
    double price) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Candidates as the task row keeps them: a JSON list. */
  static JSONB write(List<SwarmCandidate> candidates) {
    ArrayNode out = JsonNodeFactory.instance.arrayNode(candidates.size());
    for (SwarmCandidate c : candidates) {
      ObjectNode o = out.addObject();
      o.put("worker_id", c.workerId());
      o.put("owner_id", c.ownerId());
      o.put("tier", c.tier());
      o.put("reputation", c.reputation());
      if (c.latencyMs() != null) {
        o.put("latency_ms", c.latencyMs());
      }
      o.put("price", c.price());
    }
    return JSONB.valueOf(out.toString());
  }

  static List<SwarmCandidate> read(JSONB json) {
    JsonNode list;
    try {
      list = JSON.readTree(json.data());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a swarm task's candidates are not JSON: " + e.getOriginalMessage(), e);
    }
    List<SwarmCandidate> out = new ArrayList<>(list.size());
    for (JsonNode o : list) {
      JsonNode latency = o.get("latency_ms");
      out.add(new SwarmCandidate(o.get("worker_id").asText(), o.get("owner_id").asText(), o.get("tier").asInt(),
          o.get("reputation").asDouble(), latency == null || latency.isNull() ? null : latency.asLong(),
          o.get("price").asDouble()));
    }
    return out;
  }
}
