package net.aitbc.grid.coordinator.rpc;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Parses the JSON objects clients and workers send, and refuses what PostgreSQL's jsonb would
 * refuse (NUL characters, unpaired surrogates), so that a bad value is an error for its sender and
 * never fails a batch it shares with others.
 */
final class JsonChecks {
  // Decimals stay as written (1.50 stays 1.50): payloads reach workers and receipts unchanged.
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();
  // PostgreSQL's numeric: up to 131072 digits before the decimal point and 16383 after.
  private static final int MAX_INTEGER_DIGITS = 131_072;
  private static final int MAX_FRACTION_DIGITS = 16_383;

  private JsonChecks() {}

  /** Thrown with a message that names the field and what is wrong with it. */
  static final class Invalid extends Exception {
    Invalid(String message) {
      super(message, null, false, false);
    }
  }

  /** Parses {@code text} as a storable JSON object; {@code field} names it in errors. */
  static ObjectNode object(String text, String field, int maxChars) throws Invalid {
    JsonNode node = parse(text, field, maxChars);
    if (node == null || !node.isObject()) {
      throw new Invalid(field + " must be a JSON object, not "
          + (node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT)));
    }
    checkStorable(node, field);
    return (ObjectNode) node;
  }

  /** Parses {@code text} as a storable JSON value of any kind; {@code field} names it in errors. */
  static JsonNode value(String text, String field, int maxChars) throws Invalid {
    JsonNode node = parse(text, field, maxChars);
    if (node == null) {
      throw new Invalid(field + " must be a JSON value, not nothing");
    }
    checkStorable(node, field);
    return node;
  }

  private static @Nullable JsonNode parse(String text, String field, int maxChars) throws Invalid {
    if (text.length() > maxChars) {
      throw new Invalid(field + " is " + text.length() + " characters; the limit is " + maxChars);
    }
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (JacksonException e) {
      throw new Invalid(field + " is not valid JSON: " + e.getOriginalMessage());
    }
    return node == null || node.isMissingNode() ? null : node;
  }

  private static void checkStorable(JsonNode node, String path) throws Invalid {
    if (node.isTextual()) {
      checkText(node.textValue(), path);
    } else if (node.isNumber()) {
      BigDecimal n = node.decimalValue();
      if (n.precision() - n.scale() > MAX_INTEGER_DIGITS || n.scale() > MAX_FRACTION_DIGITS) {
        throw new Invalid(path + " is a number PostgreSQL cannot store (more than " + MAX_INTEGER_DIGITS
            + " digits before the point or " + MAX_FRACTION_DIGITS + " after)");
      }
    } else if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        checkText(e.getKey(), path);
        checkStorable(e.getValue(), path + "." + e.getKey());
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        checkStorable(node.get(i), path + "[" + i + "]");
      }
    }
  }

  /** Refuses text that PostgreSQL cannot store, or longer than {@code max} characters. */
  static void checkText(String s, String path, int max) throws Invalid {
    if (s.length() > max) {
      throw new Invalid(path + " is " + s.length() + " characters; the limit is " + max);
    }
    checkText(s, path);
  }

  /** Refuses text that PostgreSQL cannot store. */
  static void checkText(String s, String path) throws Invalid {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\0') {
        throw new Invalid(path + " contains a NUL character (\\u0000), which cannot be stored");
      }
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new Invalid(path + " contains an unpaired UTF-16 surrogate");
      }
    }
  }
}
