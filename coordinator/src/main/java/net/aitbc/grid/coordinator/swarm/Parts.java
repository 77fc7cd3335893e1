package net.aitbc.grid.coordinator.swarm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The distributed strategy's split and join: the payload's list (the first of {@link #LIST_FIELDS}
 * that is an array) is cut into contiguous parts whose sizes differ by at most one, each member gets
 * the payload with its part in place of the list, and the results are joined in part order: a field
 * that is an array in every part's result is concatenated, a field equal in every part is kept, any
 * other is left out (the members' own results stay on their jobs).
 */
public final class Parts {
  /** The fields a list to split may be in, in the order they are looked for. */
  public static final List<String> LIST_FIELDS = List.of("input", "items", "texts", "prompts");

  private Parts() {}

  /**
   * A part's items.
   *
   * @param from the first item
   * @param to the item after the last
   */
  public record Range(int from, int to) {}

  /** The field holding the list to split, or null when the payload has none. */
  public static @Nullable String listField(JsonNode payload) {
    for (String f : LIST_FIELDS) {
      if (payload.path(f).isArray()) {
        return f;
      }
    }
    return null;
  }

  /** {@code items} cut into {@code parts} contiguous ranges, the earlier ones one longer when they differ. */
  public static List<Range> split(int items, int parts) {
    if (parts < 1 || parts > items) {
      throw new IllegalArgumentException("cannot cut " + items + " items into " + parts + " parts");
    }
    List<Range> out = new ArrayList<>(parts);
    int base = items / parts;
    int longer = items % parts;
    int from = 0;
    for (int i = 0; i < parts; i++) {
      int to = from + base + (i < longer ? 1 : 0);
      out.add(new Range(from, to));
      from = to;
    }
    return out;
  }

  /** The payload with its list field holding only the items of {@code range}. */
  public static ObjectNode part(ObjectNode payload, String field, Range range) {
    ObjectNode copy = payload.deepCopy();
    ArrayNode all = (ArrayNode) payload.get(field);
    ArrayNode mine = copy.putArray(field);
    for (int i = range.from(); i < range.to(); i++) {
      mine.add(all.get(i));
    }
    return copy;
  }

  /** The parts' results (JSON objects), joined in order. */
  public static ObjectNode join(List<JsonNode> results) {
    ObjectNode out = JsonNodeFactory.instance.objectNode();
    if (results.isEmpty()) {
      return out;
    }
    Iterator<Map.Entry<String, JsonNode>> fields = results.getFirst().fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String name = f.getKey();
      if (results.stream().allMatch(r -> r.path(name).isArray())) {
        ArrayNode joined = out.putArray(name);
        results.forEach(r -> joined.addAll((ArrayNode) r.get(name)));
      } else if (results.stream().allMatch(r -> f.getValue().equals(r.get(name)))) {
        out.set(name, f.getValue());
      }
    }
    return out;
  }
}
