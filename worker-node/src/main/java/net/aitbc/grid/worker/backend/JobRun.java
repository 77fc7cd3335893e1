package net.aitbc.grid.worker.backend;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * One run of a job as a backend sees it.
 *
 * @param jobId the job's id, for logs
 * @param type the job type, e.g. {@code inference}
 * @param model the requested model, or null for the backend's default
 * @param payload the job's parsed payload
 * @param progress where streamed output goes
 * @param cancellation signalled when the run must stop
 */
public record JobRun(
    String jobId,
    String type,
    @Nullable String model,
    ObjectNode payload,
    ProgressSink progress,
    Cancellation cancellation) {

  /** Checks the required parts. */
  public JobRun {
    requireNonNull(jobId, "jobId");
    requireNonNull(type, "type");
    requireNonNull(payload, "payload");
    requireNonNull(progress, "progress");
    requireNonNull(cancellation, "cancellation");
  }

  /** A run nobody watches and nobody cancels, for tools and tests. */
  public static JobRun of(String type, @Nullable String model, ObjectNode payload) {
    return new JobRun("local", type, model, payload, ProgressSink.NONE, new Cancellation());
  }
}
