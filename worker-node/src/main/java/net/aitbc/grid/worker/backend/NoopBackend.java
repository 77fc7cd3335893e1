package net.aitbc.grid.worker.backend;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Runs {@code noop} jobs: it does no work (or waits {@code sleep_ms} milliseconds, cancellably)
 * and answers {@code {"ok":true,"worker_id":…}}, plus the payload's {@code echo} value when it has
 * one. It measures the grid itself — benchmarks, health probes, fault tests — with nothing else in
 * the way, and shows data passing between workflow steps.
 */
public final class NoopBackend implements Backend {
  /** The job type it runs. */
  public static final String TYPE = "noop";
  /** The longest {@code sleep_ms} accepted. */
  public static final long MAX_SLEEP_MS = 600_000;

  private final String workerId;
  private final ObjectMapper mapper = new ObjectMapper();

  /** A backend that names {@code workerId} in its results, so tests can tell who ran a job. */
  public NoopBackend(String workerId) {
    this.workerId = requireNonNull(workerId, "workerId");
  }

  @Override
  public String name() {
    return "noop";
  }

  @Override
  public Set<String> jobTypes() {
    return Set.of(TYPE);
  }

  @Override
  public List<String> models() {
    return List.of();
  }

  @Override
  public boolean supports(String type, @Nullable String model) {
    return TYPE.equals(type) && model == null;
  }

  @Override
  public JobOutcome run(JobRun run) throws BackendException {
    JsonNode sleep = run.payload().path("sleep_ms");
    long millis = 0;
    if (!sleep.isMissingNode() && !sleep.isNull()) {
      if (!sleep.canConvertToLong() || sleep.asLong() < 0 || sleep.asLong() > MAX_SLEEP_MS) {
        throw BackendException.invalid("sleep_ms must be a whole number from 0 to " + MAX_SLEEP_MS);
      }
      millis = sleep.asLong();
    }
    if (millis > 0) {
      CountDownLatch canceled = new CountDownLatch(1);
      run.cancellation().onCancel(canceled::countDown);
      try {
        canceled.await(millis, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw BackendException.canceled();
      }
      run.cancellation().throwIfCancelled();
    }
    ObjectNode result = mapper.createObjectNode().put("ok", true).put("worker_id", workerId);
    JsonNode echo = run.payload().get("echo");
    if (echo != null) {
      result.set("echo", echo);
    }
    ObjectNode metrics = mapper.createObjectNode().put("duration_ms", millis).put("backend", "noop");
    return new JobOutcome(result, metrics);
  }
}
