package net.aitbc.grid.coordinator.store;

import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** What a worker reported for one attempt. */
public sealed interface Outcome {
  /** The job. */
  UUID jobId();

  /** The attempt the worker ran. */
  int attempt();

  /** The session that ran it: only that session may report it. */
  UUID sessionId();

  /**
   * The attempt produced a result.
   *
   * @param jobId the job
   * @param attempt the attempt
   * @param sessionId the reporting session
   * @param resultJson a JSON object
   * @param metricsJson a JSON object
   * @param countersigned the worker's verified signature and price, when the coordinator issues receipts
   */
  record Completed(UUID jobId, int attempt, UUID sessionId, String resultJson, String metricsJson,
      @Nullable Countersigned countersigned) implements Outcome {
    /** A completion without a countersignature (the coordinator issues no receipts). */
    public Completed(UUID jobId, int attempt, UUID sessionId, String resultJson, String metricsJson) {
      this(jobId, attempt, sessionId, resultJson, metricsJson, null);
    }

    /** The same completion with other metrics. */
    public Completed withMetrics(String metrics) {
      return new Completed(jobId, attempt, sessionId, resultJson, metrics, countersigned);
    }
  }

  /**
   * The attempt failed.
   *
   * @param jobId the job
   * @param attempt the attempt
   * @param sessionId the reporting session
   * @param error why
   * @param retryable whether another attempt may succeed
   * @param workerId the worker, for the attempt history
   */
  record Failed(UUID jobId, int attempt, UUID sessionId, String error, boolean retryable, String workerId)
      implements Outcome {}
}
