package net.aitbc.grid.coordinator.rpc;

import com.google.protobuf.Timestamp;
import com.google.protobuf.util.Durations;
import java.time.OffsetDateTime;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Offer;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.store.StoredJob;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.Gpu;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobAttempt;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.coordinator.scheduler.Progress;

/** The one mapping between the domain's jobs, offers and requirements and their protocol messages. */
final class JobProtos {
  private JobProtos() {}

  /** The protocol form of a stored job; payload, metrics and result only when they were read. */
  static Job job(StoredJob j) {
    Job.Builder b = Job.newBuilder()
        .setJobId(JobIds.format(j.jobId()))
        .setClientId(j.clientId())
        .setType(j.type())
        .setPriority(j.priority())
        .setState(state(j.state()))
        .setAttempt(j.attempt())
        .setMaxAttempts(j.maxAttempts())
        .setCreateTime(timestamp(j.createdAt()))
        .setExpireTime(timestamp(j.expiresAt()))
        .setTimeout(Durations.fromMillis(j.timeout().toMillis()))
        .setConstraints(constraints(j.requirements()));
    if (j.model() != null) {
      b.setModel(j.model());
    }
    if (j.requestId() != null) {
      b.setRequestId(j.requestId());
    }
    if (j.workerId() != null) {
      b.setWorkerId(j.workerId());
    }
    if (j.startedAt() != null) {
      b.setStartTime(timestamp(j.startedAt()));
    }
    if (j.finishedAt() != null) {
      b.setEndTime(timestamp(j.finishedAt()));
    }
    if (j.error() != null) {
      b.setError(j.error());
    }
    if (j.paymentId() != null) {
      b.setPaymentId(JobIds.format(j.paymentId()));
    }
    b.setCacheHit(j.cacheHit());
    if (j.payloadJson() != null) {
      b.setPayloadJson(j.payloadJson());
    }
    if (j.metricsJson() != null) {
      b.setMetricsJson(j.metricsJson());
    }
    for (StoredJob.FailedAttempt a : j.attempts()) {
      JobAttempt.Builder at = b.addAttemptsBuilder()
          .setAttempt(a.attempt())
          .setEndTime(timestamp(a.endedAt()))
          .setError(a.error());
      if (a.workerId() != null) {
        at.setWorkerId(a.workerId());
      }
      if (a.startedAt() != null) {
        at.setStartTime(timestamp(a.startedAt()));
      }
    }
    return b.build();
  }

  /** The protocol form of requirements. */
  static Constraints constraints(Requirements r) {
    Constraints.Builder b = Constraints.newBuilder().addAllModels(r.models());
    if (r.gpu() != null) {
      b.setGpu(r.gpu());
    }
    if (r.cuda() != null) {
      b.setCuda(r.cuda() / 100 + "." + r.cuda() % 100);
    }
    if (r.minVramMb() != null) {
      b.setMinVramGb(r.minVramMb() / 1000);
    }
    if (r.region() != null) {
      b.setRegion(r.region());
    }
    if (r.maxPrice() != null) {
      b.setMaxPrice(r.maxPrice());
    }
    return b.build();
  }

  /** A client's constraints, normalised; throws IllegalArgumentException naming a bad field. */
  static Requirements requirements(Constraints c) {
    return Requirements.of(c.getGpu(), c.getCuda(), c.getMinVramGb(), c.getModelsList(), c.getRegion(),
        c.getMaxPrice());
  }

  /** What a worker advertised, normalised for matching. */
  static Offer offer(WorkerCapabilities c) {
    return Offer.of(c.getJobTypesList(), c.getModelsList(), c.getGpusList().stream().map(Gpu::getModel).toList(),
        c.getGpusList().stream().mapToLong(Gpu::getMemoryMb).max().orElse(0), c.getRegion(), c.getPrice(),
        c.getCuda());
  }

  /** Progress as a watcher receives it. */
  static JobProgress progress(Progress p) {
    return JobProgress.newBuilder()
        .setJobId(JobIds.format(p.jobId()))
        .setAttempt(p.attempt())
        .setPercent(p.percent())
        .setOutput(p.output())
        .build();
  }

  static JobState state(net.aitbc.grid.db.enums.JobState state) {
    return switch (state) {
      case QUEUED -> JobState.JOB_STATE_QUEUED;
      case RUNNING -> JobState.JOB_STATE_RUNNING;
      case COMPLETED -> JobState.JOB_STATE_COMPLETED;
      case FAILED -> JobState.JOB_STATE_FAILED;
      case CANCELED -> JobState.JOB_STATE_CANCELED;
      case EXPIRED -> JobState.JOB_STATE_EXPIRED;
    };
  }

  /** The REST-style name of a state: QUEUED, RUNNING, … */
  static String stateName(JobState s) {
    return s.name().substring("JOB_STATE_".length());
  }

  static Timestamp timestamp(OffsetDateTime t) {
    return Timestamp.newBuilder().setSeconds(t.toEpochSecond()).setNanos(t.getNano()).build();
  }
}
