package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;
import static net.aitbc.grid.bridge.Requests.abbreviate;
import static net.aitbc.grid.bridge.Requests.kind;
import static net.aitbc.grid.bridge.Requests.parse;
import static net.aitbc.grid.bridge.Requests.present;
import static net.aitbc.grid.bridge.Requests.text;
import static net.aitbc.grid.bridge.Requests.time;
import static net.aitbc.grid.bridge.Requests.whole;

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
import java.util.function.Consumer;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListJobsRequest;
import org.jspecify.annotations.Nullable;

/**
 * Reads the CLI's requests into gRPC requests, or says why they cannot be read: 400 when the request
 * is not JSON, or a query value is not a number, a time or a state; 422 when a body field has a JSON
 * type its gRPC field cannot hold. Ranges, names, limits and id shapes are the coordinator's to check
 * (its INVALID_ARGUMENT comes back through {@link HttpErrors}), so that each rule lives in one place.
 */
final class JobRequests {
  private static final Map<String, JobState> STATES = states();
  /**
   * The gRPC fields whose REST names differ, as the coordinator's descriptions begin with them
   * ("page_size must be …"): the bridge renamed them, so it names them back.
   */
  private static final Map<String, String> SUBMIT_FIELDS =
      Map.of("payload_json", "payload", "ttl", "ttl_seconds", "timeout", "timeout_seconds", "amount", "payment_amount",
      "currency", "payment_currency");
  private static final Map<String, String> LIST_FIELDS = Map.of("page_size", "limit", "skip", "offset",
      "create_time_from", "from_time", "create_time_to", "to_time");

  private JobRequests() {}

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
    Long ttl = whole(root, "ttl_seconds", "ttl_seconds", Long.MAX_VALUE);
    if (ttl != null) {
      b.setTtl(Duration.newBuilder().setSeconds(ttl));
    }
    Long timeout = whole(root, "timeout_seconds", "timeout_seconds", Long.MAX_VALUE);
    if (timeout != null) {
      b.setTimeout(Duration.newBuilder().setSeconds(timeout));
    }
    priority(root, b);
    JsonNode constraints = present(root, "constraints");
    if (constraints != null) {
      b.setConstraints(constraints(constraints));
    }
    JsonNode amount = present(root, "payment_amount");
    String currency = text(root, "payment_currency", "payment_currency");
    if (amount != null) {
      if (!amount.isNumber()) {
        throw unprocessable("payment_amount must be a number, not " + kind(amount));
      }
      // 0 is "unpaid", as the CLI's server reads it; any other amount is the coordinator's to check
      // (a negative one is refused there, not quietly dropped).
      if (amount.decimalValue().signum() != 0) {
        b.setPaymentAmount(amount.decimalValue().toString());
        if (currency != null) {
          b.setPaymentCurrency(currency);
        }
      }
    }
    return b.build();
  }

  /**
   * The query of {@code GET /v1/jobs} and {@code GET /v1/jobs/history}. Without {@code limit} the
   * coordinator picks the page size, which the page echoes.
   */
  static ListJobsRequest list(QueryParams q) {
    ListJobsRequest.Builder b = ListJobsRequest.newBuilder();
    Integer limit = intParam(q, "limit");
    if (limit != null) {
      if (limit == 0) {
        // Proto3 cannot carry an explicit 0: it would reach the coordinator as "no limit given" and
        // answer a full default page to a client that asked for none.
        throw badRequest("limit=0 cannot be passed on (to the coordinator 0 means the default page size): leave"
            + " limit out for the default, or ask for 1 or more");
      }
      b.setPageSize(limit);
    }
    Integer offset = intParam(q, "offset");
    if (offset != null) {
      b.setSkip(offset);
    }
    b.addAllStates(states(q));
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
    return b.setIncludeResults(flag(q, "include_results")).build();
  }

  /** The states {@code status} names (repeated, or comma-separated; any case); 400 for an unknown one. */
  static Set<JobState> states(QueryParams q) {
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
    return states;
  }

  /**
   * A coordinator's INVALID_ARGUMENT description in the REST request's terms: a gRPC field name that
   * the bridge renamed, where it leads the description ({@code skip must …}, {@code payload_json.prompt
   * contains …}), becomes the name the client wrote. Nothing else is touched: the rest may quote the client.
   */
  static String inRestTerms(HttpErrors.Call call, String description) {
    Map<String, String> names = switch (call) {
      case SUBMIT -> SUBMIT_FIELDS;
      case LIST -> LIST_FIELDS;
      case RECEIPTS, BLOCKS, PROOF, LEDGER -> LedgerRequests.FIELDS;
      case PAY, SETTLE, ACCOUNT -> PaymentRequests.FIELDS;
      case AGENT_CREATE, AGENT_EXECUTE, AGENT_LIST, WORKFLOW, EXECUTION -> AgentRequests.FIELDS;
      case NETWORK -> NetworkRequests.FIELDS;
      case SWARM, SWARM_TASK -> SwarmRequests.FIELDS;
      case MINER -> MinerRequests.FIELDS;
      case READ, RESULT, CANCEL, WATCH, JOB_RECEIPT, TRANSACTION, VERIFY, BLOCK, PAYMENT, JOB_PAYMENT -> Map.of();
    };
    int end = 0;
    while (end < description.length() && (Character.isLetterOrDigit(description.charAt(end))
        || description.charAt(end) == '_')) {
      end++;
    }
    String rest = names.get(description.substring(0, end));
    boolean leads = end < description.length() && " .[".indexOf(description.charAt(end)) >= 0;
    return rest == null || !leads ? description : rest + description.substring(end);
  }

  /** A number goes to {@code priority}, a name to {@code priority_name}; the coordinator reads both. */
  private static void priority(JsonNode root, CreateJobRequest.Builder b) {
    JsonNode p = present(root, "priority");
    if (p != null && p.isTextual()) {
      if (p.textValue().isEmpty()) {
        // An empty proto string is an unset one: the job would quietly take the default priority.
        throw unprocessable("priority is an empty string: leave it out for the default, or give a name or a number");
      }
      b.setPriorityName(p.textValue());
      return;
    }
    if (p != null && !p.isNumber()) {
      throw unprocessable("priority must be a whole number or a name such as \"high\", not " + kind(p));
    }
    Long value = whole(root, "priority", "priority", Integer.MAX_VALUE);
    if (value != null) {
      b.setPriority(value.intValue());
    }
  }

  /** A job's {@code constraints} object (also a swarm task's). */
  static Constraints constraints(JsonNode c) {
    if (!c.isObject()) {
      throw unprocessable("constraints must be a JSON object, not " + kind(c));
    }
    Constraints.Builder b = Constraints.newBuilder();
    ifText(c, "gpu", b::setGpu);
    ifText(c, "cuda", b::setCuda);
    ifText(c, "region", b::setRegion);
    Long vram = whole(c, "min_vram_gb", "constraints.min_vram_gb", Integer.MAX_VALUE);
    if (vram != null) {
      b.setMinVramGb(Math.toIntExact(vram));
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

  /** Passes a string field of {@code constraints} on, when it is there. */
  private static void ifText(JsonNode c, String field, Consumer<String> set) {
    String value = text(c, field, "constraints." + field);
    if (value != null) {
      set.accept(value);
    }
  }

  /** A whole-number query value, null when absent; its range is the coordinator's to check. */
  private static @Nullable Integer intParam(QueryParams q, String name) {
    String text = q.get(name);
    if (text == null) {
      return null;
    }
    try {
      return Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      String what = text.trim().matches("[+-]?\\d+") ? " is out of range: '" : " must be a whole number, not '";
      throw badRequest(name + what + abbreviate(text) + "'");
    }
  }

  /** A true/false query value (also 1/0), false when absent. */
  static boolean flag(QueryParams q, String name) {
    String text = q.get(name);
    if (text == null) {
      return false;
    }
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "true", "1" -> true;
      case "false", "0" -> false;
      default -> throw badRequest(name + " must be true or false, not '" + abbreviate(text) + "'");
    };
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
