package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.JOB;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobAttemptRecord;
import net.aitbc.grid.db.tables.records.JobRecord;
import org.jooq.JSONB;
import org.jooq.Record;
import org.jspecify.annotations.Nullable;

/** Maps job rows to {@link StoredJob}s. */
final class JobMapper {
  private JobMapper() {}

  /** A row as read; payload, metrics and result only when {@code full}. */
  static StoredJob toJob(JobRecord r, boolean full) {
    return new StoredJob(r.getJobId(), r.getClientId(), r.getRequestId(), r.getType(), r.getModel(),
        full ? text(r.getPayload()) : null, requirements(r), r.getPriority(), r.getState(), r.getAttempt(),
        r.getMaxAttempts(), r.getWorkerId(), r.getCreatedAt(), r.getStartedAt(), r.getFinishedAt(), r.getExpiresAt(),
        r.getError(), full ? text(r.getMetrics()) : null, r.getPaymentId(), Duration.ofMillis(r.getTimeoutMs()),
        full ? text(r.getResult()) : null, List.of(), Boolean.TRUE.equals(r.getCacheHit()));
  }

  /** A job just inserted (queued, or running on its placement), built without reading it back. */
  static StoredJob toJob(NewJob j, OffsetDateTime now, boolean placed, @Nullable UUID paymentId) {
    NewJob.Placement p = placed ? j.placement() : null;
    return new StoredJob(j.jobId(), j.clientId(), j.requestId(), j.type(), j.model(), j.payloadJson(), j.requirements(),
        j.priority(), p != null ? JobState.RUNNING : JobState.QUEUED, p != null ? 1 : 0, j.maxAttempts(),
        p != null ? p.workerId() : null, now, p != null ? now : null, null, now.plus(j.ttl()), null, null, paymentId,
        j.timeout(), null, List.of(), false);
  }

  /** A job just inserted completed, answered from the result cache with {@code hit}. */
  static StoredJob toHit(NewJob j, OffsetDateTime now, ResultCache.Hit hit) {
    return new StoredJob(j.jobId(), j.clientId(), j.requestId(), j.type(), j.model(), j.payloadJson(), j.requirements(),
        j.priority(), JobState.COMPLETED, 0, j.maxAttempts(), null, now, null, now, now.plus(j.ttl()), null,
        JobRows.hitMetrics(hit), null, j.timeout(), hit.resultJson(), List.of(), true);
  }

  /** The requirements in a row of the job table (a record holding the {@code req_} columns). */
  static Requirements requirements(Record r) {
    String[] models = r.get(JOB.REQ_MODELS);
    return new Requirements(r.get(JOB.REQ_GPU), r.get(JOB.REQ_CUDA), r.get(JOB.REQ_MIN_VRAM_MB),
        models == null ? List.of() : Arrays.asList(models), r.get(JOB.REQ_REGION), r.get(JOB.REQ_MAX_PRICE));
  }

  static StoredJob.FailedAttempt toAttempt(JobAttemptRecord a) {
    return new StoredJob.FailedAttempt(a.getAttempt(), a.getWorkerId(), a.getStartedAt(), a.getEndedAt(), a.getError());
  }

  static @Nullable String text(@Nullable JSONB json) {
    return json == null ? null : json.data();
  }
}
