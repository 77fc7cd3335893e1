package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Timestamp;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import org.jspecify.annotations.Nullable;

/**
 * What every route's reader shares: the body as JSON, its fields by JSON type, query numbers, pages
 * and times, each refused with a message that names the field and what it holds.
 */
final class Requests {
  private Requests() {}

  /** The body as JSON, or a 400 saying why not, with the job submission as the example. */
  static JsonNode parse(HttpData body) {
    return parse(body, "{\"payload\": {\"type\": \"inference\"}}");
  }

  /** The body as JSON, or a 400 saying why not; {@code example} shows what to send. */
  static JsonNode parse(HttpData body, String example) {
    String empty = "the request body is empty: send a JSON object such as " + example;
    if (body.isEmpty()) {
      throw badRequest(empty);
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body.array());
    } catch (StreamConstraintsException e) {
      throw badRequest("the request body is too deeply nested or too large to read: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? ""
          : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
      throw badRequest("the request body is not valid JSON: " + jacksonMessage(e) + where);
    } catch (IOException e) {
      throw badRequest("the request body cannot be read: " + e.getMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw badRequest(empty);
    }
    return root;
  }

  /** Jackson's message without its source excerpt (square brackets are markup to the CLI's printer). */
  static String jacksonMessage(JsonProcessingException e) {
    String m = String.valueOf(e.getOriginalMessage());
    int cut = m.indexOf('\n');
    m = cut < 0 ? m : m.substring(0, cut);
    for (String marker : new String[] {" (start marker", " at [Source", "[Source"}) {
      int i = m.indexOf(marker);
      if (i >= 0) {
        m = m.substring(0, i);
      }
    }
    m = m.strip();
    return m.length() <= 200 ? m : m.substring(0, 200) + "…";
  }

  /**
   * A whole-number field (5.0 counts), null when absent or null. 422 for another JSON type, or for
   * a number beyond what its gRPC field can hold ({@code max}: 32 or 64 bits); its range is the
   * coordinator's to check.
   */
  static @Nullable Long whole(JsonNode object, String field, String path, long max) {
    JsonNode n = present(object, field);
    if (n == null) {
      return null;
    }
    if (!n.isNumber() || !n.canConvertToExactIntegral()) {
      throw unprocessable(path + " must be a whole number, not " + kind(n));
    }
    if (!n.canConvertToLong() || n.longValue() > max || n.longValue() < -max - 1) {
      throw unprocessable(path + " is out of range: " + abbreviate(n.asText()));
    }
    return n.longValue();
  }

  /** A string field, null when absent or null. */
  static @Nullable String text(JsonNode object, String field, String path) {
    JsonNode n = present(object, field);
    if (n == null) {
      return null;
    }
    if (!n.isTextual()) {
      throw unprocessable(path + " must be a string, not " + kind(n));
    }
    return n.textValue();
  }

  /** A field's value; absent and JSON null are the same (the field takes its default). */
  static @Nullable JsonNode present(JsonNode object, String field) {
    JsonNode n = object.get(field);
    return n == null || n.isNull() ? null : n;
  }

  /** {@code limit}: a page size within 1 and {@code max}, {@code byDefault} when absent. */
  static int limit(QueryParams q, int byDefault, int max) {
    Long limit = whole(q, "limit", 1, max);
    return limit == null ? byDefault : limit.intValue();
  }

  /** {@code offset}, 0 when absent. */
  static int offset(QueryParams q) {
    Long offset = whole(q, "offset", 0, Integer.MAX_VALUE);
    return offset == null ? 0 : offset.intValue();
  }

  /** A whole-number query value within [min, max], null when absent; 422 otherwise. */
  static @Nullable Long whole(QueryParams q, String name, long min, long max) {
    String text = q.get(name);
    if (text == null) {
      return null;
    }
    long value;
    try {
      value = Long.parseLong(text.strip());
    } catch (NumberFormatException e) {
      throw unprocessable(name + " must be a whole number" + range(min, max) + ", not '" + abbreviate(text) + "'");
    }
    if (value < min || value > max) {
      throw unprocessable(name + " must be" + range(min, max) + ", not " + value);
    }
    return value;
  }

  private static String range(long min, long max) {
    return max == Long.MAX_VALUE || max == Integer.MAX_VALUE ? " of at least " + min
        : " between " + min + " and " + max;
  }

  /** ISO-8601; a time without a zone is UTC, as the CLI's server writes them; a bare date is its midnight UTC. */
  static Timestamp time(String name, String text) {
    String t = text.trim();
    // Python's str(datetime) puts a space where ISO-8601 has a T.
    if (t.length() > 10 && t.charAt(10) == ' ') {
      t = t.substring(0, 10) + 'T' + t.substring(11);
    }
    Instant instant;
    try {
      instant = OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException e) {
      try {
        instant = LocalDateTime.parse(t).toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e2) {
        try {
          instant = LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e3) {
          throw badRequest(name + " must be an ISO-8601 time such as 2026-03-01T00:00:00 (UTC unless it names a"
              + " zone), not '" + abbreviate(text) + "'");
        }
      }
    }
    // Which years a query may name is the coordinator's check.
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }

  static String kind(JsonNode n) {
    return switch (n.getNodeType()) {
      case STRING -> "a string";
      case NUMBER -> n.isIntegralNumber() ? "an integer" : "a number with a fraction";
      case BOOLEAN -> "a boolean";
      case ARRAY -> "a list";
      case OBJECT -> "an object";
      case NULL, MISSING -> "null";
      case BINARY, POJO -> "a value of another kind";
    };
  }

  /** {@code s}, cut at 64 characters. */
  static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }
}
