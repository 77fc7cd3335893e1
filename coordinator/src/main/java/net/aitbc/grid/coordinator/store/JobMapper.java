package net.aitbc.grid.coordinator.store;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import net.aitbc.grid.db.tables.records.JobAttemptRecord;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.v1.JobAttempt;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobState;
import org.jooq.JSONB;
import org.jspecify.annotations.Nullable;

/** Maps job rows to their proto form. */
final class JobMapper {
  private JobMapper() {}

  /** The proto form of a row; payload and metrics are left out when {@code full} is false. */
  static Job toProto(JobRecord r, boolean full) {
    Job.Builder b = Job.newBuilder()
        .setJobId(JobIds.format(r.getJobId()))
        .setClientId(r.getClientId())
        .setType(r.getType())
        .setPriority(r.getPriority())
        .setState(toProto(r.getState()))
        .setAttempt(r.getAttempt())
        .setMaxAttempts(r.getMaxAttempts())
        .setCreateTime(timestamp(r.getCreatedAt()))
        .setExpireTime(timestamp(r.getExpiresAt()))
        .setTimeout(Durations.fromMillis(r.getTimeoutMs()));
    if (r.getModel() != null) {
      b.setModel(r.getModel());
    }
    if (r.getRequestId() != null) {
      b.setRequestId(r.getRequestId());
    }
    if (r.getWorkerId() != null) {
      b.setWorkerId(r.getWorkerId());
    }
    if (r.getStartedAt() != null) {
      b.setStartTime(timestamp(r.getStartedAt()));
    }
    if (r.getFinishedAt() != null) {
      b.setEndTime(timestamp(r.getFinishedAt()));
    }
    if (r.getError() != null) {
      b.setError(r.getError());
    }
    if (r.getPaymentId() != null) {
      b.setPaymentId(JobIds.format(r.getPaymentId()));
    }
    if (full) {
      b.setPayloadJson(text(r.getPayload()));
      b.setConstraints(requirements(r).toProto());
      if (r.getMetrics() != null) {
        b.setMetricsJson(text(r.getMetrics()));
      }
    }
    return b.build();
  }

  /** The proto form of a job just inserted (queued, or running when placed), built without reading it back. */
  static Job toProto(NewJob j, OffsetDateTime now, boolean placed) {
    Job.Builder b = Job.newBuilder()
        .setJobId(JobIds.format(j.jobId()))
        .setClientId(j.clientId())
        .setType(j.type())
        .setPriority(j.priority())
        .setState(placed ? JobState.JOB_STATE_RUNNING : JobState.JOB_STATE_QUEUED)
        .setMaxAttempts(j.maxAttempts())
        .setCreateTime(timestamp(now))
        .setExpireTime(timestamp(now.plus(j.ttl())))
        .setTimeout(Durations.fromMillis(j.timeout().toMillis()))
        .setPayloadJson(j.payloadJson())
        .setConstraints(j.requirements().toProto());
    if (j.model() != null) {
      b.setModel(j.model());
    }
    if (j.requestId() != null) {
      b.setRequestId(j.requestId());
    }
    if (placed && j.placement() != null) {
      b.setAttempt(1).setWorkerId(j.placement().workerId()).setStartTime(timestamp(now));
    }
    return b.build();
  }

  static Requirements requirements(JobRecord r) {
    return new Requirements(r.getReqGpu(), r.getReqCuda(), r.getReqMinVramMb(),
        r.getReqModels() == null ? List.of() : Arrays.asList(r.getReqModels()), r.getReqRegion(), r.getReqMaxPrice());
  }

  static JobAttempt toProto(JobAttemptRecord a) {
    JobAttempt.Builder b = JobAttempt.newBuilder()
        .setAttempt(a.getAttempt())
        .setEndTime(timestamp(a.getEndedAt()))
        .setError(a.getError());
    if (a.getWorkerId() != null) {
      b.setWorkerId(a.getWorkerId());
    }
    if (a.getStartedAt() != null) {
      b.setStartTime(timestamp(a.getStartedAt()));
    }
    return b.build();
  }

  static JobState toProto(net.aitbc.grid.db.enums.JobState state) {
    return switch (state) {
      case QUEUED -> JobState.JOB_STATE_QUEUED;
      case RUNNING -> JobState.JOB_STATE_RUNNING;
      case COMPLETED -> JobState.JOB_STATE_COMPLETED;
      case FAILED -> JobState.JOB_STATE_FAILED;
      case CANCELED -> JobState.JOB_STATE_CANCELED;
      case EXPIRED -> JobState.JOB_STATE_EXPIRED;
    };
  }

  static net.aitbc.grid.db.enums.JobState fromProto(JobState state) {
    return switch (state) {
      case JOB_STATE_QUEUED -> net.aitbc.grid.db.enums.JobState.QUEUED;
      case JOB_STATE_RUNNING -> net.aitbc.grid.db.enums.JobState.RUNNING;
      case JOB_STATE_COMPLETED -> net.aitbc.grid.db.enums.JobState.COMPLETED;
      case JOB_STATE_FAILED -> net.aitbc.grid.db.enums.JobState.FAILED;
      case JOB_STATE_CANCELED -> net.aitbc.grid.db.enums.JobState.CANCELED;
      case JOB_STATE_EXPIRED -> net.aitbc.grid.db.enums.JobState.EXPIRED;
      case JOB_STATE_UNSPECIFIED, UNRECOGNIZED ->
          throw new IllegalArgumentException("not a job state: " + state);
    };
  }

  static Timestamp timestamp(OffsetDateTime t) {
    return Timestamp.newBuilder().setSeconds(t.toEpochSecond()).setNanos(t.getNano()).build();
  }

  static String text(@Nullable JSONB json) {
    return json == null ? "" : json.data();
  }
}
