package net.aitbc.grid.ledger;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** Field checks of Receipts and Blocks: each adds a problem naming the field (after {@code prefix}) and returns the value, or null. */
final class Fields {
  private final String prefix;
  private final List<String> problems;

  Fields(String prefix, List<String> problems) {
    this.prefix = prefix;
    this.problems = problems;
  }

  @Nullable String string(JsonNode doc, String name) {
    JsonNode value = doc.get(name);
    if (value == null || !value.isTextual()) {
      problem(name, value == null ? "missing" : "must be a string");
      return null;
    }
    return value.textValue();
  }

  @Nullable String lowerHex(JsonNode doc, String name, int length) {
    String value = string(doc, name);
    if (value != null && !Hex.isLowerHex(value, length)) {
      problem(name, "must be " + length + " lowercase hex characters");
      return null;
    }
    return value;
  }

  @Nullable Long integer(JsonNode doc, String name, long min) {
    JsonNode value = doc.get(name);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToLong()) {
      problem(name, value == null ? "missing" : "must be an integer");
      return null;
    }
    if (value.longValue() < min) {
      problem(name, "must be at least " + min + ", got " + value.longValue());
      return null;
    }
    return value.longValue();
  }

  void number(JsonNode doc, String name) {
    JsonNode value = doc.get(name);
    if (value == null || !value.isNumber()) {
      problem(name, value == null ? "missing" : "must be a number");
    }
  }

  void equalTo(JsonNode doc, String name, String expected) {
    String value = string(doc, name);
    if (value != null && !value.equals(expected)) {
      problem(name, "must be \"" + expected + "\", got \"" + value + "\"");
    }
  }

  void problem(String name, String what) {
    problems.add(prefix + name + ": " + what);
  }
}
