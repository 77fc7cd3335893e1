package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
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
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListJobsRequest;
import org.jspecify.annotations.Nullable;

/**
 * Reads the CLI's requests into gRPC requests, or says what is wrong with them: 400 when the
 * request cannot be read, 422 when a field has the wrong type. Values the coordinator checks anyway
 * (priority range, TTL limit, type names) are left to it, so that the rules live in one place.
 */
final class JobRequests {
  static final int DEFAULT_LIMIT = 20;
  static final int MAX_LIMIT = 1000;

  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999999Z");
  private static final Pattern JOB_ID = Pattern.compile("[0-9a-fA-F]{32}");
  private static final Map<String, Integer> PRIORITY_NAMES = Map.of("low", 2, "normal", 5, "high", 8);
  private static final Map<String, JobState> STATES = states();

  private JobRequests() {}

  /** A list query, with the limit and offset to echo back. */
  record ListQuery(ListJobsRequest request, int limit, int offset) {}

  /** The job id of a path, lower-cased; anything but 32 hex characters is a job that does not exist. */
  static String jobId(String text) {
    if (!JOB_ID.matcher(text).matches()) {
      throw HttpErrors.jobNotFound();
    }
    return text.toLowerCase(Locale.ROOT);
  }

  /** The body of {@code POST /v1/jobs}, with the {@code Idempotency-Key} header if any. */
  static CreateJobRequest create(HttpData body, @Nullable String idempotencyKey) {
    JsonNode root = parse(body);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as {\"payload\": {\"type\": \"inference\"}}, not "
          + kind(root));
    }
    JsonNode payload = root.get("payload");
    if (payload == null || payload.isNull()) {
      throw unprocessable("payload is required: a JSON object such as {\"type\": \"inference\", \"prompt\": \"hi\"}");
    }
    if (!payload.isObject()) {
      throw unprocessable("payload must be a JSON object, not " + kind(payload));
    }
    CreateJobRequest.Builder b = CreateJobRequest.newBuilder().setPayloadJson(Json.text(payload));
    if (idempotencyKey != null && !idempotencyKey.isBlank()) {
      b.setRequestId(idempotencyKey.trim());
    }
    JsonNode ttl = present(root, "ttl_seconds");
    if (ttl != null) {
      if (!ttl.canConvertToExactIntegral() || !ttl.canConvertToLong()) {
        throw unprocessable("ttl_seconds must be a whole number of seconds, not " + kind(ttl));
      }
      b.setTtl(Duration.newBuilder().setSeconds(ttl.longValue()));
    }
    JsonNode priority = present(root, "priority");
    if (priority != null) {
      b.setPriority(priority(priority));
    }
    JsonNode constraints = present(root, "constraints");
    if (constraints != null) {
      b.setConstraints(constraints(constraints));
    }
    JsonNode amount = present(root, "payment_amount");
    if (amount != null) {
      if (!amount.isNumber()) {
        throw unprocessable("payment_amount must be a number, not " + kind(amount));
      }
      if (amount.decimalValue().signum() > 0) {
        throw unprocessable("payments are not available yet: leave payment_amount out or set it to 0");
      }
    }
    text(root, "payment_currency", "payment_currency");
    return b.build();
  }

  /** The query of {@code GET /v1/jobs}. */
  static ListQuery list(QueryParams q) {
    int limit = intParam(q, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT);
    int offset = intParam(q, "offset", 0, 0, Integer.MAX_VALUE);
    ListJobsRequest.Builder b = ListJobsRequest.newBuilder().setPageSize(limit).setSkip(offset);
    Set<JobState> states = new LinkedHashSet<>();
    for (String value : q.getAll("status")) {
      for (String part : value.split(",", -1)) {
        String name = part.trim().toLowerCase(Locale.ROOT);
        if (name.isEmpty()) {
          continue;
        }
        JobState state = STATES.get(name);
        if (state == null) {
          throw badRequest("status '" + abbreviate(part.trim()) + "' is not one of: " + String.join(", ", STATES.keySet()));
        }
        states.add(state);
      }
    }
    b.addAllStates(states);
    String type = q.get("type");
    if (type == null || type.isBlank()) {
      // The CLI sends `type`; the CLI's server reads `job_type`: take both.
      type = q.get("job_type");
    }
    if (type != null && !type.isBlank()) {
      b.setType(type.trim());
    }
    String from = q.get("from_time");
    if (from != null) {
      b.setCreateTimeFrom(time("from_time", from));
    }
    String to = q.get("to_time");
    if (to != null) {
      b.setCreateTimeTo(time("to_time", to));
    }
    return new ListQuery(b.build(), limit, offset);
  }

  private static JsonNode parse(HttpData body) {
    String empty = "the request body is empty: send a JSON object such as {\"payload\": {\"type\": \"inference\"}}";
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
  private static String jacksonMessage(JsonProcessingException e) {
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

  private static int priority(JsonNode p) {
    if (p.isIntegralNumber() && p.canConvertToInt()) {
      return p.intValue();
    }
    if (p.isTextual()) {
      Integer named = PRIORITY_NAMES.get(p.textValue().trim().toLowerCase(Locale.ROOT));
      if (named != null) {
        return named;
      }
    }
    throw unprocessable("priority must be a whole number from 0 to 9, or low, normal or high, not "
        + (p.isTextual() ? "'" + abbreviate(p.textValue()) + "'" : kind(p)));
  }

  private static Constraints constraints(JsonNode c) {
    if (!c.isObject()) {
      throw unprocessable("constraints must be a JSON object, not " + kind(c));
    }
    Constraints.Builder b = Constraints.newBuilder();
    String gpu = text(c, "gpu", "constraints.gpu");
    if (gpu != null) {
      b.setGpu(gpu);
    }
    String cuda = text(c, "cuda", "constraints.cuda");
    if (cuda != null) {
      b.setCuda(cuda);
    }
    String region = text(c, "region", "constraints.region");
    if (region != null) {
      b.setRegion(region);
    }
    JsonNode vram = present(c, "min_vram_gb");
    if (vram != null) {
      if (!vram.canConvertToExactIntegral() || !vram.canConvertToInt()) {
        throw unprocessable("constraints.min_vram_gb must be a whole number, not " + kind(vram));
      }
      b.setMinVramGb(vram.intValue());
    }
    JsonNode models = present(c, "models");
    if (models != null) {
      if (!models.isArray()) {
        throw unprocessable("constraints.models must be a list of model names, not " + kind(models));
      }
      for (JsonNode m : models) {
        if (!m.isTextual()) {
          throw unprocessable("constraints.models must hold strings, not " + kind(m));
        }
        b.addModels(m.textValue());
      }
    }
    JsonNode price = present(c, "max_price");
    if (price != null) {
      if (!price.isNumber()) {
        throw unprocessable("constraints.max_price must be a number, not " + kind(price));
      }
      b.setMaxPrice(price.doubleValue());
    }
    return b.build();
  }

  /** A string field, null when absent or null. */
  private static @Nullable String text(JsonNode object, String field, String path) {
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
  private static @Nullable JsonNode present(JsonNode object, String field) {
    JsonNode n = object.get(field);
    return n == null || n.isNull() ? null : n;
  }

  private static int intParam(QueryParams q, String name, int defaultValue, int min, int max) {
    String text = q.get(name);
    if (text == null) {
      return defaultValue;
    }
    String range = max == Integer.MAX_VALUE ? min + " or more" : "from " + min + " to " + max;
    try {
      int value = Integer.parseInt(text.trim());
      if (value >= min && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Falls through to the error below.
    }
    throw badRequest(name + " must be a whole number " + range + ", not '" + abbreviate(text) + "'");
  }

  /** ISO-8601; a time without a zone is UTC, as the CLI's server writes them; a bare date is its midnight UTC. */
  private static Timestamp time(String name, String text) {
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
    // PostgreSQL and protobuf Timestamps stop at these years; beyond them a query would fail, not match nothing.
    if (instant.isBefore(EARLIEST) || instant.isAfter(LATEST)) {
      throw badRequest(name + " must be between the years 1 and 9999, not '" + abbreviate(text) + "'");
    }
    return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
  }

  private static String kind(JsonNode n) {
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

  private static String abbreviate(String s) {
    return s.length() <= 64 ? s : s.substring(0, 64) + "…";
  }

  private static Map<String, JobState> states() {
    Map<String, JobState> m = new LinkedHashMap<>();
    m.put("queued", JobState.JOB_STATE_QUEUED);
    // The CLI's help offers `pending`, which the CLI's server silently ignored.
    m.put("pending", JobState.JOB_STATE_QUEUED);
    m.put("running", JobState.JOB_STATE_RUNNING);
    m.put("completed", JobState.JOB_STATE_COMPLETED);
    m.put("failed", JobState.JOB_STATE_FAILED);
    m.put("canceled", JobState.JOB_STATE_CANCELED);
    m.put("cancelled", JobState.JOB_STATE_CANCELED);
    m.put("expired", JobState.JOB_STATE_EXPIRED);
    return Collections.unmodifiableMap(m);
  }
}
