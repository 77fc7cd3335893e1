package net.aitbc.grid.coordinator.rpc;

import java.util.UUID;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.jspecify.annotations.Nullable;

/**
 * What a worker sends, checked like what a client sends: a Register that could not be stored is
 * refused; a result or metrics that are not storable JSON objects within their size turn the
 * attempt into a retryable failure (another worker may do better), and a failure's message is made
 * storable. Nothing a worker sends can fail a batch it shares with others.
 */
final class WorkerMessages {
  /** The largest result accepted, in characters of JSON. */
  static final int MAX_RESULT_CHARS = 8 << 20;
  /** The largest metrics object accepted, in characters of JSON. */
  static final int MAX_METRICS_CHARS = 64 << 10;
  static final int MAX_ERROR_CHARS = 4000;

  private WorkerMessages() {}

  /** What is wrong with a Register message, or null; checked before anything is stored. */
  static @Nullable String registerProblem(Register r) {
    WorkerCapabilities c = r.getCapabilities();
    if (r.getWorkerId().isBlank()) {
      return "worker_id must not be empty";
    }
    if (c.getJobTypesCount() == 0 || c.getJobTypesCount() > 100) {
      return "capabilities.job_types must name 1 to 100 job types";
    }
    if (c.getModelsCount() > 10_000 || c.getGpusCount() > 256 || c.getBackendsCount() > 100) {
      return "capabilities name too many models, GPUs or backends";
    }
    try {
      JsonChecks.checkText(r.getWorkerId(), "worker_id", 200);
      JsonChecks.checkText(r.getVersion(), "version", 100);
      JsonChecks.checkText(c.getRegion(), "capabilities.region", 100);
      JsonChecks.checkText(c.getCuda(), "capabilities.cuda", 20);
      for (String t : c.getJobTypesList()) {
        JsonChecks.checkText(t, "capabilities.job_types", 64);
      }
      for (String m : c.getModelsList()) {
        JsonChecks.checkText(m, "capabilities.models", 200);
      }
      for (String b : c.getBackendsList()) {
        JsonChecks.checkText(b, "capabilities.backends", 64);
      }
      for (var g : c.getGpusList()) {
        JsonChecks.checkText(g.getModel(), "capabilities.gpus.model", 200);
      }
    } catch (JsonChecks.Invalid e) {
      return e.getMessage();
    }
    if (c.getConcurrency() < 0 || !Double.isFinite(c.getPrice()) || c.getPrice() < 0) {
      return "capabilities.concurrency and price must not be negative";
    }
    return null;
  }

  /** A completion as an outcome to record; a result or metrics that cannot be stored fail the attempt. */
  static Outcome completed(UUID jobId, UUID sessionId, String workerId, JobCompleted c) {
    String metrics = c.getMetricsJson().isBlank() ? "{}" : c.getMetricsJson();
    try {
      JsonChecks.object(c.getResultJson(), "result_json", MAX_RESULT_CHARS);
      if (!metrics.equals("{}")) {
        JsonChecks.object(metrics, "metrics_json", MAX_METRICS_CHARS);
      }
    } catch (JsonChecks.Invalid e) {
      return new Outcome.Failed(jobId, c.getAttempt(), sessionId,
          "worker " + workerId + " sent an invalid completion: " + e.getMessage(), true, workerId);
    }
    return new Outcome.Completed(jobId, c.getAttempt(), sessionId, c.getResultJson(), metrics);
  }

  /** A failure as an outcome to record, its message made storable. */
  static Outcome failed(UUID jobId, UUID sessionId, String workerId, JobFailed f) {
    String error = f.getError().isBlank() ? "failed without a message" : storable(f.getError());
    return new Outcome.Failed(jobId, f.getAttempt(), sessionId, error, f.getRetryable(), workerId);
  }

  /** Text PostgreSQL can store, at most {@link #MAX_ERROR_CHARS} long: NULs and lone surrogates replaced. */
  static String storable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), MAX_ERROR_CHARS + 1));
    for (int i = 0; i < s.length() && b.length() < MAX_ERROR_CHARS; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        b.append(c).append(s.charAt(++i));
      } else if (c == '\0' || Character.isSurrogate(c)) {
        b.append('\uFFFD');
      } else {
        b.append(c);
      }
    }
    return b.length() < s.length() ? b.append('…').toString() : b.toString();
  }
}
