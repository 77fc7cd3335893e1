package net.aitbc.grid.worker.backend;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.concurrent.CompletableFuture;

/** Jobs for the HTTP backend tests, written as JSON payloads. */
final class Jobs {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Jobs() {}

  /** Job {@code job-1} of {@code type} on {@code model} (null: the default). */
  static JobRun run(String type, String model, String payload, ProgressSink progress)
      throws IOException {
    return run(type, model, payload, progress, new Cancellation());
  }

  /** Job {@code job-1} that {@code cancellation} can cancel. */
  static JobRun run(
      String type, String model, String payload, ProgressSink progress, Cancellation cancellation)
      throws IOException {
    return new JobRun(
        "job-1", type, model, (ObjectNode) MAPPER.readTree(payload), progress, cancellation);
  }

  /** Runs {@code run} on another thread, so the test can cancel it half-way. */
  static CompletableFuture<JobOutcome> runAsync(Backend backend, JobRun run) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return backend.run(run);
          } catch (BackendException e) {
            throw new IllegalStateException(e.getMessage(), e);
          }
        });
  }
}
