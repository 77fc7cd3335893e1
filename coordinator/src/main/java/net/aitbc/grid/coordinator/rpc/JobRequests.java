package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.Money;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.swarm.SwarmKeys;
import net.aitbc.grid.coordinator.workflow.StepKeys;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.CreateJobRequest;
import org.jspecify.annotations.Nullable;

/**
 * Turns a CreateJobRequest into a job to store, or says exactly what is wrong with it. Everything
 * that could make PostgreSQL refuse the row is checked here, so that a bad job never fails a batch.
 */
final class JobRequests {
  /** The largest payload accepted, in characters of JSON. */
  static final int MAX_PAYLOAD_CHARS = 1 << 20;
  static final Duration DEFAULT_TTL = Duration.ofSeconds(900);
  static final Duration MAX_TTL = Duration.ofDays(30);
  static final int MAX_ATTEMPTS = 100;
  static final int NORMAL_PRIORITY = 5;
  static final int MAX_VRAM_GB = 1_000_000;

  private static final Pattern TYPE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Map<String, Integer> PRIORITY_NAMES = Map.of("low", 2, "normal", NORMAL_PRIORITY, "high", 8);

  private JobRequests() {}

  static NewJob toNewJob(CreateJobRequest r, Principal principal, UUID jobId, CoordinatorConfig config) {
    return toNewJob(r, principal, jobId, config, null);
  }

  /**
   * A workflow's step job, made by the engine: held to every rule a client's job is, and stored with
   * its execution and its request id, which only step jobs may use ({@link StepKeys#PREFIX}).
   */
  static NewJob toStepJob(CreateJobRequest r, Principal principal, UUID jobId, CoordinatorConfig config,
      UUID executionId) {
    return toNewJob(r, principal, jobId, config, executionId);
  }

  /**
   * A swarm task's member job, made by the swarm engine: held to every rule a client's job is, and
   * stored pinned to its worker with its request id, which only member jobs may use
   * ({@link SwarmKeys#PREFIX}).
   */
  static NewJob toMemberJob(CreateJobRequest r, Principal principal, UUID jobId, CoordinatorConfig config,
      NewJob.Pin pin) {
    return toNewJob(r, principal, jobId, config, null, pin);
  }

  private static NewJob toNewJob(CreateJobRequest r, Principal principal, UUID jobId, CoordinatorConfig config,
      @Nullable UUID executionId) {
    return toNewJob(r, principal, jobId, config, executionId, null);
  }

  private static NewJob toNewJob(CreateJobRequest r, Principal principal, UUID jobId, CoordinatorConfig config,
      @Nullable UUID executionId, NewJob.@Nullable Pin pin) {
    ObjectNode payload = payload(r.getPayloadJson());
    String type = type(r, payload);
    String model = model(payload);
    int priority = priority(r, payload);
    Duration ttl = ttl(r);
    Duration timeout = timeout(r, type, config);
    int maxAttempts = r.getMaxAttempts() == 0 ? config.defaultMaxAttempts() : r.getMaxAttempts();
    if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
      throw invalid("max_attempts must be between 1 and " + MAX_ATTEMPTS + " (0 for the default), not " + maxAttempts);
    }
    String requestId = r.getRequestId().isEmpty() ? null : r.getRequestId();
    if (requestId != null && (requestId.length() > 200 || requestId.indexOf('\0') >= 0)) {
      throw invalid("request_id must be at most 200 characters and contain no NUL");
    }
    if (requestId != null && executionId == null && requestId.startsWith(StepKeys.PREFIX)) {
      throw invalid("request_id must not start with '" + StepKeys.PREFIX + "': that prefix is reserved for the jobs "
          + "of workflow steps");
    }
    if (requestId != null && pin == null && requestId.startsWith(SwarmKeys.PREFIX)) {
      throw invalid("request_id must not start with '" + SwarmKeys.PREFIX + "': that prefix is reserved for the "
          + "member jobs of swarm tasks");
    }
    // The text as the client wrote it (it parsed, and jsonb normalises it anyway): no second pass.
    return new NewJob(jobId, principal.clientId(), requestId, type, model, r.getPayloadJson(),
        requirements(r.getConstraints()), priority, 0, maxAttempts, ttl, timeout, null, payment(r, ttl), executionId,
        pin);
  }

  /**
   * The payment made with the job, or null when {@code payment_amount} is empty. Its escrow is held
   * at least as long as the job may wait (its ttl), within the escrow timeout's range.
   */
  private static NewJob.@Nullable JobPayment payment(CreateJobRequest r, Duration ttl) {
    if (r.getPaymentAmount().isBlank()) {
      return null;
    }
    BigDecimal amount = Money.paymentAmount(Money.parse(r.getPaymentAmount(), "payment_amount"));
    long hold = Math.clamp(ttl.toSeconds(), Money.DEFAULT_ESCROW_TIMEOUT_S, Money.MAX_ESCROW_TIMEOUT_S);
    return new NewJob.JobPayment(amount, Money.currency(r.getPaymentCurrency()), (int) hold);
  }

  private static ObjectNode payload(String text) {
    if (text.isBlank()) {
      throw invalid("payload_json is required: a JSON object such as {\"type\":\"embedding\",\"prompt\":\"hi\"}");
    }
    try {
      return JsonChecks.object(text, "payload_json", MAX_PAYLOAD_CHARS);
    } catch (JsonChecks.Invalid e) {
      throw invalid(e.getMessage());
    }
  }

  private static String type(CreateJobRequest r, ObjectNode payload) {
    String type;
    if (!r.getType().isEmpty()) {
      type = r.getType();
    } else {
      JsonNode t = payload.get("type");
      if (t == null || t.isNull()) {
        type = "inference";
      } else if (t.isTextual()) {
        type = t.textValue();
      } else {
        throw invalid("payload.type must be a string such as \"embedding\", not " + t.getNodeType().name()
            .toLowerCase(Locale.ROOT));
      }
    }
    String normalized = type.trim().toLowerCase(Locale.ROOT);
    if (!TYPE.matcher(normalized).matches()) {
      throw invalid("job type '" + GrpcErrors.abbreviate(type) + "' is not valid: use 1-64 letters, digits, '.', '_' "
          + "or '-'");
    }
    return normalized;
  }

  private static @Nullable String model(ObjectNode payload) {
    JsonNode m = payload.get("model");
    if (m == null || m.isNull()) {
      return null;
    }
    if (!m.isTextual()) {
      throw invalid("payload.model must be a string, not " + m.getNodeType().name().toLowerCase(Locale.ROOT));
    }
    String model = m.textValue().trim().toLowerCase(Locale.ROOT);
    if (model.isEmpty()) {
      return null;
    }
    if (model.length() > 200) {
      throw invalid("payload.model is longer than 200 characters");
    }
    return model;
  }

  private static int priority(CreateJobRequest r, ObjectNode payload) {
    if (r.hasPriority()) {
      return checkPriority(r.getPriority());
    }
    if (!r.getPriorityName().isEmpty()) {
      Integer p = priorityName(r.getPriorityName());
      if (p == null) {
        throw invalid("priority must be low, normal, high or a whole number from 0 to 9, not '"
            + GrpcErrors.abbreviate(r.getPriorityName()) + "'");
      }
      return p;
    }
    JsonNode p = payload.get("priority");
    if (p == null || p.isNull()) {
      return NORMAL_PRIORITY;
    }
    if (p.isIntegralNumber() && p.canConvertToInt()) {
      return checkPriority(p.asInt());
    }
    Integer named = p.isTextual() ? priorityName(p.textValue()) : null;
    if (named != null) {
      return named;
    }
    throw invalid("payload.priority must be low, normal, high or a whole number from 0 to 9, not "
        + GrpcErrors.abbreviate(p.toString()));
  }

  /** A priority written as a name; null when it is not one. */
  private static @Nullable Integer priorityName(String text) {
    return PRIORITY_NAMES.get(text.trim().toLowerCase(Locale.ROOT));
  }

  private static int checkPriority(int priority) {
    if (priority < 0 || priority > 9) {
      throw invalid("priority must be between 0 and 9, not " + priority);
    }
    return priority;
  }

  private static Duration ttl(CreateJobRequest r) {
    if (!r.hasTtl()) {
      return DEFAULT_TTL;
    }
    long seconds = r.getTtl().getSeconds();
    int nanos = r.getTtl().getNanos();
    if (nanos <= -1_000_000_000 || nanos >= 1_000_000_000) {
      throw invalid("ttl.nanos must be between -999999999 and 999999999");
    }
    if (seconds > MAX_TTL.toSeconds() || (seconds == MAX_TTL.toSeconds() && nanos > 0)) {
      throw invalid("ttl must be at most " + MAX_TTL.toDays() + " days, not " + seconds + " s");
    }
    // As the CLI's server does: a TTL below one second becomes one second.
    return seconds < 1 ? Duration.ofSeconds(1) : Duration.ofSeconds(seconds, nanos);
  }

  private static Duration timeout(CreateJobRequest r, String type, CoordinatorConfig config) {
    if (!r.hasTimeout()) {
      return config.runTimeout(type);
    }
    long seconds = r.getTimeout().getSeconds();
    int nanos = r.getTimeout().getNanos();
    Duration max = CoordinatorConfig.MAX_RUN_TIMEOUT;
    if (nanos < 0 || nanos >= 1_000_000_000 || seconds < 1 || seconds > max.toSeconds()
        || (seconds == max.toSeconds() && nanos > 0)) {
      throw invalid("timeout must be between 1 s and " + max.toDays() + " days, not " + seconds + " s");
    }
    return Duration.ofSeconds(seconds, nanos);
  }

  static Requirements requirements(Constraints c) {
    try {
      JsonChecks.checkText(c.getGpu(), "constraints.gpu", 200);
      JsonChecks.checkText(c.getCuda(), "constraints.cuda", 20);
      JsonChecks.checkText(c.getRegion(), "constraints.region", 100);
      if (c.getModelsCount() > 100) {
        throw invalid("constraints.models may name at most 100 models, not " + c.getModelsCount());
      }
      for (String m : c.getModelsList()) {
        JsonChecks.checkText(m, "constraints.models", 200);
      }
      if (c.getMinVramGb() > MAX_VRAM_GB) {
        throw invalid("constraints.min_vram_gb must be at most " + MAX_VRAM_GB + ", not " + c.getMinVramGb());
      }
      return JobProtos.requirements(c);
    } catch (JsonChecks.Invalid | IllegalArgumentException e) {
      throw invalid(e.getMessage());
    }
  }
}
