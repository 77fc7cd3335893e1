package net.aitbc.grid.coordinator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.jooq.JSONB;
import org.jspecify.annotations.Nullable;

/** Steps snapshots as the execution row keeps them: a JSON list, written and read only here. */
final class Snapshots {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Snapshots() {}

  static JSONB write(List<StepSnapshot> steps) {
    ArrayNode out = NODES.arrayNode(steps.size());
    for (StepSnapshot s : steps) {
      ObjectNode o = out.addObject();
      o.put("name", s.name());
      o.put("status", s.status().name());
      ArrayNode jobs = o.putArray("job_ids");
      s.jobIds().forEach(id -> jobs.add(id.toString()));
      o.put("items", s.items());
      o.put("items_completed", s.itemsCompleted());
      o.put("cost", s.cost().toPlainString());
      o.put("error", s.error());
      o.put("start_time", s.startTime() == null ? null : s.startTime().toString());
      o.put("end_time", s.endTime() == null ? null : s.endTime().toString());
      ArrayNode deps = o.putArray("depends_on");
      s.dependsOn().forEach(deps::add);
    }
    return JSONB.valueOf(out.toString());
  }

  static List<StepSnapshot> read(JSONB json) {
    JsonNode list;
    try {
      list = JSON.readTree(json.data());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("an execution's steps are not JSON: " + e.getOriginalMessage(), e);
    }
    List<StepSnapshot> out = new ArrayList<>(list.size());
    for (JsonNode o : list) {
      List<UUID> jobs = new ArrayList<>();
      o.path("job_ids").forEach(j -> jobs.add(UUID.fromString(j.asText())));
      List<String> deps = new ArrayList<>();
      o.path("depends_on").forEach(d -> deps.add(d.asText()));
      out.add(new StepSnapshot(o.get("name").asText(), StepSnapshot.Status.valueOf(o.get("status").asText()), jobs,
          o.get("items").asInt(), o.get("items_completed").asInt(), new BigDecimal(o.get("cost").asText()),
          text(o, "error"), time(text(o, "start_time")), time(text(o, "end_time")), deps));
    }
    return out;
  }

  private static @Nullable String text(JsonNode o, String field) {
    JsonNode n = o.get(field);
    return n == null || n.isNull() ? null : n.asText();
  }

  private static @Nullable OffsetDateTime time(@Nullable String text) {
    return text == null ? null : OffsetDateTime.parse(text);
  }
}
