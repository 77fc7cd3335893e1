package net.aitbc.grid.coordinator.rpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import java.math.BigDecimal;
import net.aitbc.grid.coordinator.miner.Assigned;
import net.aitbc.grid.coordinator.miner.MinerSpec;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.v1.Gpu;
import net.aitbc.grid.v1.MinerJob;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.jspecify.annotations.Nullable;

/**
 * The one mapping between MinerService messages and the miners' domain: a miner's capabilities
 * checked as a stream worker's Register is (with a miner's defaults: {@code inference} jobs, one at
 * a time), and the job a poll hands out.
 */
final class MinerProtos {
  /** The job type of a miner that names none: the CLI's {@code client submit} default. */
  static final String DEFAULT_JOB_TYPE = "inference";
  static final int MAX_CONCURRENCY = 64;
  static final int MAX_ID_CHARS = 200;
  static final int MAX_DESCRIBED_CHARS = 64 << 10;
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

  private MinerProtos() {}

  /** A miner id as given, or INVALID_ARGUMENT naming {@code miner_id}. */
  static String minerId(String id) {
    if (id.isBlank()) {
      throw GrpcErrors.invalid("miner_id must not be empty (the REST bridge takes it from X-Miner-ID)");
    }
    try {
      JsonChecks.checkText(id, "miner_id", MAX_ID_CHARS);
    } catch (JsonChecks.Invalid e) {
      throw GrpcErrors.invalid(e.getMessage());
    }
    if (id.chars().anyMatch(Character::isISOControl)) {
      throw GrpcErrors.invalid("miner_id must not contain control characters");
    }
    return id;
  }

  /**
   * What a miner registers with, checked as a stream worker's Register is; INVALID_ARGUMENT naming
   * the field. {@code describedJson} (a JSON object, or empty for the capabilities as printed) is kept
   * for operators.
   */
  static MinerSpec spec(String minerId, WorkerCapabilities given, String describedJson) {
    WorkerCapabilities.Builder b = given.toBuilder();
    if (b.getJobTypesCount() == 0) {
      b.addJobTypes(DEFAULT_JOB_TYPE);
    }
    if (b.getConcurrency() == 0) {
      b.setConcurrency(1);
    }
    WorkerCapabilities c = b.build();
    if (c.getConcurrency() < 1 || c.getConcurrency() > MAX_CONCURRENCY) {
      throw GrpcErrors.invalid("capabilities.concurrency must be between 1 and " + MAX_CONCURRENCY + ", not "
          + c.getConcurrency());
    }
    for (Gpu g : c.getGpusList()) {
      if (g.getMemoryMb() < 0) {
        throw GrpcErrors.invalid("capabilities.gpus.memory_mb must not be negative, not " + g.getMemoryMb());
      }
    }
    String problem = WorkerMessages.registerProblem(Register.newBuilder().setWorkerId(minerId).setCapabilities(c)
        .build());
    if (problem != null) {
      throw GrpcErrors.invalid(problem);
    }
    String printed = print(c);
    String described = printed;
    if (!describedJson.isBlank()) {
      try {
        described = JsonChecks.object(describedJson, "capabilities_json", MAX_DESCRIBED_CHARS).toString();
      } catch (JsonChecks.Invalid e) {
        throw GrpcErrors.invalid(e.getMessage());
      }
    }
    return new MinerSpec(JobProtos.offer(c), c.getConcurrency(), printed, described);
  }

  /** A registered miner's spec, from what was stored when it registered. */
  static MinerSpec revive(String capabilitiesJson, String describedJson) {
    WorkerCapabilities.Builder b = WorkerCapabilities.newBuilder();
    try {
      PARSER.merge(capabilitiesJson, b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored miner's capabilities cannot be read: " + e.getMessage(), e);
    }
    WorkerCapabilities c = b.build();
    return new MinerSpec(JobProtos.offer(c), Math.max(1, c.getConcurrency()), capabilitiesJson, describedJson);
  }

  /** The unit price of a miner's receipts: what it advertised, else the coordinator's default. */
  static BigDecimal unitPrice(double advertised, BigDecimal byDefault) {
    return advertised > 0 ? BigDecimal.valueOf(advertised) : byDefault;
  }

  /** The job a poll hands out. */
  static MinerJob job(Assigned a) {
    ClaimedJob j = a.job();
    MinerJob.Builder b = MinerJob.newBuilder()
        .setJobId(JobIds.format(j.jobId()))
        .setAttempt(j.attempt())
        .setType(j.type())
        .setPayloadJson(j.payloadJson())
        .setConstraints(JobProtos.constraints(a.requirements()))
        .setLeaseExpireTime(JobProtos.timestamp(a.leaseExpiresAt()))
        .setExpireTime(JobProtos.timestamp(j.expiresAt()))
        .setDeadlineTime(JobProtos.timestamp(j.deadline()));
    if (j.model() != null) {
      b.setModel(j.model());
    }
    return b.build();
  }

  static String print(WorkerCapabilities c) {
    try {
      return PRINTER.print(c);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("capabilities always print", e);
    }
  }

  /** A decimal amount, or null when empty; INVALID_ARGUMENT naming {@code field} otherwise. */
  static @Nullable BigDecimal amount(String text, String field) {
    if (text.isBlank()) {
      return null;
    }
    try {
      BigDecimal d = new BigDecimal(text.strip());
      if (d.signum() < 0 || d.precision() - d.scale() > 20) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw GrpcErrors.invalid(field + " must be a decimal amount of at least 0, such as 0.5, not '"
          + GrpcErrors.abbreviate(text) + "'");
    }
  }
}
