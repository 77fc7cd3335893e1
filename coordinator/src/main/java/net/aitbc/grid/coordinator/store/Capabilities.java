package net.aitbc.grid.coordinator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * A session's capabilities as stored (WorkerCapabilities in proto JSON with its field names), read
 * back into the {@link Offer} the session was matched with.
 */
final class Capabilities {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Capabilities() {}

  /** The offer that {@code json} describes; what it lacks offers nothing. */
  static Offer offer(String json) {
    JsonNode c;
    try {
      c = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("stored capabilities are not JSON: " + e.getOriginalMessage(), e);
    }
    List<String> gpus = new ArrayList<>();
    long maxVram = 0;
    for (JsonNode g : c.path("gpus")) {
      gpus.add(g.path("model").asText(""));
      // int64 fields are strings in proto JSON.
      maxVram = Math.max(maxVram, g.path("memory_mb").asLong(0));
    }
    return Offer.of(texts(c.path("job_types")), texts(c.path("models")), gpus, maxVram, c.path("region").asText(""),
        c.path("price").asDouble(0), c.path("cuda").asText(""));
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
