package net.aitbc.grid.coordinator.rpc;

import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.swarm.Parts;
import net.aitbc.grid.coordinator.swarm.Probes;
import net.aitbc.grid.db.enums.SwarmStrategy;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.JoinRequest;
import net.aitbc.grid.v1.Register;
import org.jspecify.annotations.Nullable;

/**
 * SwarmService requests checked, or exactly what is wrong with them (INVALID_ARGUMENT naming the
 * field). The member jobs' payload is further held to every job rule when the task starts.
 */
final class SwarmRequests {
  /** The roles a client may join with. */
  static final List<String> ROLES = List.of("load-balancer", "resource-optimizer", "task-coordinator", "monitor");
  static final List<String> PRIORITIES = List.of("low", "normal", "high");
  static final int DEFAULT_COLLABORATORS = 3;
  static final int MAX_COLLABORATORS = 20;
  static final int DEFAULT_TIMEOUT_S = 3600;
  static final int MAX_TIMEOUT_S = 86_400;
  /** Two of three agree. */
  static final BigDecimal DEFAULT_THRESHOLD = new BigDecimal("0.66");
  static final int MAX_SWARMS_PER_WORKER = 20;

  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  private static final Pattern REGION = Pattern.compile("[a-z0-9][a-z0-9._-]{0,31}");
  private static final JsonFormat.Printer CONSTRAINTS =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

  private SwarmRequests() {}

  /**
   * A checked join.
   *
   * @param role its role
   * @param capability the swarm's capability (lower case)
   * @param region the swarm's region (lower case), or ""
   * @param priority low, normal or high
   */
  record Join(String role, String capability, String region, String priority) {}

  static Join join(JoinRequest r) {
    String role = r.getRole().strip().toLowerCase(Locale.ROOT);
    if (!ROLES.contains(role)) {
      throw invalid("role must be one of " + String.join(", ", ROLES) + ", not '" + GrpcErrors.abbreviate(r.getRole())
          + "'");
    }
    String capability = r.getCapability().strip().toLowerCase(Locale.ROOT);
    if (!NAME.matcher(capability).matches()) {
      throw invalid("capability must be 1 to 64 letters, digits, '.', '_' or '-' (a job type such as embedding), not '"
          + GrpcErrors.abbreviate(r.getCapability()) + "'");
    }
    String region = r.getRegion().strip().toLowerCase(Locale.ROOT);
    if (!region.isEmpty() && !REGION.matcher(region).matches()) {
      throw invalid("region must be empty or 1 to 32 letters, digits, '.', '_' or '-', not '"
          + GrpcErrors.abbreviate(r.getRegion()) + "'");
    }
    if (capability.length() + (region.isEmpty() ? 0 : region.length() + 1) > 64) {
      throw invalid("capability and region make a swarm name longer than 64 characters");
    }
    String priority = r.getPriority().isBlank() ? "normal" : r.getPriority().strip().toLowerCase(Locale.ROOT);
    if (!PRIORITIES.contains(priority)) {
      throw invalid("priority must be low, normal or high, not '" + GrpcErrors.abbreviate(r.getPriority()) + "'");
    }
    return new Join(role, capability, region, priority);
  }

  /** The swarm names of a Register, lower case; IllegalArgumentException naming the bad one. */
  static List<String> swarmNames(Register r) {
    if (r.getSwarmsCount() > MAX_SWARMS_PER_WORKER) {
      throw new IllegalArgumentException("swarms may name at most " + MAX_SWARMS_PER_WORKER + " swarms, not "
          + r.getSwarmsCount());
    }
    return r.getSwarmsList().stream().map(n -> {
      String name = n.strip().toLowerCase(Locale.ROOT);
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("swarms: '" + GrpcErrors.abbreviate(n) + "' is not a swarm name (1 to 64 "
            + "letters, digits, '.', '_' or '-')");
      }
      return name;
    }).distinct().toList();
  }

  /**
   * A checked Coordinate, before its workers are chosen.
   *
   * @param jobType the member jobs' type
   * @param payload their payload
   * @param probe whether it is a bare type's probe
   * @param strategy how it runs
   * @param collaborators members asked for
   * @param parts its slots
   * @param threshold the consensus share
   * @param similarity the similarity bound given, or null
   * @param timeoutSeconds how long it may run
   * @param requirements what the workers must offer
   * @param constraintsJson the same as a Constraints JSON object
   * @param model the model the payload names, or null
   * @param requestId its idempotency key, or null
   */
  record Coordinate(String jobType, ObjectNode payload, boolean probe, SwarmStrategy strategy, int collaborators,
      int parts, BigDecimal threshold, @Nullable Double similarity, int timeoutSeconds, Requirements requirements,
      String constraintsJson, @Nullable String model, @Nullable String requestId) {}

  static Coordinate coordinate(CoordinateRequest r) {
    String text = r.getTask().strip();
    if (text.isEmpty()) {
      throw invalid("task is required: a job payload as a JSON object, or a job type with a verification probe ("
          + String.join(", ", Probes.types()) + ")");
    }
    boolean probe = !text.startsWith("{");
    ObjectNode payload;
    if (probe) {
      String type = text.toLowerCase(Locale.ROOT);
      payload = object(Probes.payload(type).orElseThrow(() -> invalid("task must be a job payload as a JSON object, "
          + "or a job type with a verification probe (" + String.join(", ", Probes.types()) + "), not '"
          + GrpcErrors.abbreviate(text) + "'")));
    } else {
      payload = object(text);
    }
    JsonNode t = payload.get("type");
    if (t != null && !t.isNull() && !t.isTextual()) {
      throw invalid("task.type must be a string such as \"embedding\"");
    }
    String jobType = t == null || t.isNull() ? "inference" : t.textValue().strip().toLowerCase(Locale.ROOT);
    if (!NAME.matcher(jobType).matches()) {
      throw invalid("task.type '" + GrpcErrors.abbreviate(t.textValue()) + "' is not a job type: use 1-64 letters, "
          + "digits, '.', '_' or '-'");
    }
    int collaborators = r.getCollaborators() == 0 ? DEFAULT_COLLABORATORS : r.getCollaborators();
    if (collaborators < 1 || collaborators > MAX_COLLABORATORS) {
      throw invalid("collaborators must be between 1 and " + MAX_COLLABORATORS + ", not " + r.getCollaborators());
    }
    SwarmStrategy strategy = strategy(r.getStrategy());
    int parts = strategy == SwarmStrategy.leader_election ? 1 : collaborators;
    if (strategy == SwarmStrategy.distributed) {
      String field = Parts.listField(payload);
      if (field == null) {
        throw invalid("task: the distributed strategy splits a list, and the payload has none (an array in one of "
            + String.join(", ", Parts.LIST_FIELDS) + ")");
      }
      if (payload.get(field).isEmpty()) {
        throw invalid("task." + field + " must not be empty: the distributed strategy splits it");
      }
      parts = Math.min(collaborators, payload.get(field).size());
    }
    BigDecimal threshold = r.hasConsensusThreshold()
        ? BigDecimal.valueOf(share(r.getConsensusThreshold(), "consensus_threshold")).setScale(4, RoundingMode.HALF_EVEN)
        : DEFAULT_THRESHOLD;
    if (threshold.signum() == 0) {
      throw invalid("consensus_threshold must be above 0, not " + r.getConsensusThreshold());
    }
    Double similarity = r.hasSimilarity() ? share(r.getSimilarity(), "similarity") : null;
    String requestId = r.getRequestId().isEmpty() ? null : r.getRequestId();
    if (requestId != null && (requestId.length() > 200 || requestId.indexOf('\0') >= 0)) {
      throw invalid("request_id must be at most 200 characters and contain no NUL");
    }
    Requirements requirements = JobRequests.requirements(r.getConstraints());
    String constraintsJson;
    try {
      constraintsJson = CONSTRAINTS.print(r.getConstraints());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("constraints always print", e);
    }
    return new Coordinate(jobType, payload, probe, strategy, collaborators, parts, threshold, similarity,
        timeout(r), requirements, constraintsJson, model(payload), requestId);
  }

  /** A strategy's name as the CLI spells it. */
  static String strategyName(SwarmStrategy s) {
    return s == SwarmStrategy.leader_election ? "leader-election" : s.getLiteral();
  }

  private static SwarmStrategy strategy(String text) {
    return switch (text.strip().toLowerCase(Locale.ROOT)) {
      case "", "consensus" -> SwarmStrategy.consensus;
      case "leader-election", "leader_election" -> SwarmStrategy.leader_election;
      case "distributed" -> SwarmStrategy.distributed;
      default -> throw invalid("strategy must be consensus, leader-election or distributed, not '"
          + GrpcErrors.abbreviate(text) + "'");
    };
  }

  /** A share checked to be above 0 and at most 1. */
  static double share(double value, String field) {
    if (!(value > 0 && value <= 1)) {
      throw invalid(field + " must be above 0 and at most 1, not " + value);
    }
    return value;
  }

  private static int timeout(CoordinateRequest r) {
    if (!r.hasTimeout()) {
      return DEFAULT_TIMEOUT_S;
    }
    long seconds = r.getTimeout().getSeconds();
    if (r.getTimeout().getNanos() != 0 || seconds < 1 || seconds > MAX_TIMEOUT_S) {
      throw invalid("timeout must be a whole number of seconds from 1 to " + MAX_TIMEOUT_S + ", not " + seconds + " s"
          + (r.getTimeout().getNanos() != 0 ? " and " + r.getTimeout().getNanos() + " ns" : ""));
    }
    return (int) seconds;
  }

  private static ObjectNode object(String text) {
    try {
      return JsonChecks.object(text, "task", JobRequests.MAX_PAYLOAD_CHARS);
    } catch (JsonChecks.Invalid e) {
      throw invalid(e.getMessage());
    }
  }

  private static @Nullable String model(ObjectNode payload) {
    JsonNode m = payload.get("model");
    if (m == null || m.isNull()) {
      return null;
    }
    if (!m.isTextual()) {
      throw invalid("task.model must be a string");
    }
    String model = m.textValue().strip().toLowerCase(Locale.ROOT);
    return model.isEmpty() ? null : model;
  }
}
