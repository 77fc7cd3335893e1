package net.aitbc.grid.ops.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.IOException;
import net.aitbc.grid.ledger.Hex;
import org.jspecify.annotations.Nullable;

/** Lenient reads of the fields of a server's answer: null when a field is missing or malformed. */
final class Json {
  private Json() {}

  /** The {@code items} array of a page; IOException when the answer has none. */
  static ArrayNode items(JsonNode page, String route) throws IOException {
    if (!(page.get("items") instanceof ArrayNode items)) {
      throw new IOException(route + ": the answer has no \"items\" list");
    }
    return items;
  }

  /** An integer field, or null. */
  static @Nullable Long integer(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v != null && v.isIntegralNumber() && v.canConvertToLong() ? v.longValue() : null;
  }

  /** A string field, or null. */
  static @Nullable String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v != null && v.isTextual() ? v.textValue() : null;
  }

  /** A 32-byte hash given as 64 hex characters (with or without {@code 0x}), or null. */
  static byte @Nullable [] hash(@Nullable String hex) {
    if (hex == null) {
      return null;
    }
    try {
      byte[] bytes = Hex.decode(hex);
      return bytes.length == 32 ? bytes : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** A hash field, or null. */
  static byte @Nullable [] hash(JsonNode node, String field) {
    return hash(text(node, field));
  }

  /** Lowercase hex without {@code 0x}, for comparing what servers list. */
  static @Nullable String plainHex(@Nullable String hex) {
    if (hex == null) {
      return null;
    }
    String h = hex.startsWith("0x") || hex.startsWith("0X") ? hex.substring(2) : hex;
    return h.toLowerCase(java.util.Locale.ROOT);
  }

  /** The first characters of a hash or id, for messages. */
  static String brief(@Nullable String value) {
    if (value == null) {
      return "?";
    }
    return value.length() > 16 ? value.substring(0, 16) + "…" : value;
  }
}
