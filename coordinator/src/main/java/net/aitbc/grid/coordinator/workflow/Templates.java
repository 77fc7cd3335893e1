package net.aitbc.grid.coordinator.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Templates are JSON values whose strings may hold {@code {{reference}}}s. A string that is exactly
 * one reference becomes the value referred to, whatever its JSON type (a list stays a list); a
 * reference inside longer text is written into it (strings as they are, anything else as compact
 * JSON).
 */
final class Templates {
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{(.*?)}}", Pattern.DOTALL);
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private Templates() {}

  /** What a reference refers to while rendering. */
  interface Scope {
    /** The value of {@code ref}, or {@link InvalidWorkflow} for {@code field} when there is none. */
    JsonNode resolve(Reference ref, String field);
  }

  /** Every reference in {@code template}, with the path of the field that holds it. */
  static void references(JsonNode template, String field, BiConsumer<String, Reference> out) {
    if (template.isTextual()) {
      Matcher m = PLACEHOLDER.matcher(template.textValue());
      while (m.find()) {
        out.accept(field, Reference.parse(m.group(1), field));
      }
    } else if (template.isObject()) {
      for (Map.Entry<String, JsonNode> e : template.properties()) {
        references(e.getValue(), field + "." + e.getKey(), out);
      }
    } else if (template.isArray()) {
      for (int i = 0; i < template.size(); i++) {
        references(template.get(i), field + "[" + i + "]", out);
      }
    }
  }

  /** {@code template} with every reference replaced by what {@code scope} gives for it. */
  static JsonNode render(JsonNode template, String field, Scope scope) {
    if (template.isTextual()) {
      return renderText(template.textValue(), field, scope);
    }
    if (template.isObject()) {
      ObjectNode out = NODES.objectNode();
      for (Map.Entry<String, JsonNode> e : template.properties()) {
        out.set(e.getKey(), render(e.getValue(), field + "." + e.getKey(), scope));
      }
      return out;
    }
    if (template.isArray()) {
      ArrayNode out = NODES.arrayNode(template.size());
      for (int i = 0; i < template.size(); i++) {
        out.add(render(template.get(i), field + "[" + i + "]", scope));
      }
      return out;
    }
    return template;
  }

  private static JsonNode renderText(String text, String field, Scope scope) {
    Matcher m = PLACEHOLDER.matcher(text);
    if (!m.find()) {
      return TextNode.valueOf(text);
    }
    if (m.start() == 0 && m.end() == text.length()) {
      return scope.resolve(Reference.parse(m.group(1), field), field);
    }
    StringBuilder out = new StringBuilder(text.length() + 64);
    int from = 0;
    do {
      out.append(text, from, m.start());
      JsonNode value = scope.resolve(Reference.parse(m.group(1), field), field);
      out.append(value.isTextual() ? value.textValue() : value.toString());
      from = m.end();
    } while (m.find());
    return TextNode.valueOf(out.append(text, from, text.length()).toString());
  }

  /** Walks {@code path} from {@code value}; {@code what} names the start in the error. */
  static JsonNode walk(JsonNode value, List<String> path, Reference ref, String what, String field) {
    JsonNode at = value;
    StringBuilder walked = new StringBuilder(what);
    for (String segment : path) {
      JsonNode next = null;
      if (at.isObject()) {
        next = at.get(segment);
      } else if (at.isArray() && segment.chars().allMatch(Character::isDigit) && segment.length() < 10) {
        next = at.get(Integer.parseInt(segment));
      }
      if (next == null) {
        String kind = at.isObject() ? "has no field '" + segment + "'"
            : at.isArray() ? "has no position " + segment + " (it holds " + at.size() + ")"
            : "is " + kindOf(at) + ", which has no '" + segment + "'";
        throw new InvalidWorkflow(field, "{{" + ref.text() + "}}: " + walked + " " + kind);
      }
      walked.append('.').append(segment);
      at = next;
    }
    return at;
  }

  static String kindOf(JsonNode n) {
    return switch (n.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "a list";
      case OBJECT -> "an object";
      default -> "null";
    };
  }
}
