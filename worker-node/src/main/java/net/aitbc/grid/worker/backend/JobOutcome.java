package net.aitbc.grid.worker.backend;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A successful run: the result and metrics JSON objects reported in {@code JobCompleted}.
 *
 * @param result the job's result, e.g. {@code {"output": "..."}}
 * @param metrics run metrics, e.g. {@code {"duration_ms": 12, "backend": "embedded"}}
 */
public record JobOutcome(ObjectNode result, ObjectNode metrics) {

  /** Checks that both objects are present. */
  public JobOutcome {
    requireNonNull(result, "result");
    requireNonNull(metrics, "metrics");
  }
}
