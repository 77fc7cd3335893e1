package net.aitbc.grid.worker.backend;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Sends each job to the first backend that supports its type and model, in the order given. */
public final class BackendRouter implements AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(BackendRouter.class);

  private final List<Backend> backends;

  /** A router over {@code backends}; earlier ones win when several support a job. */
  public BackendRouter(List<? extends Backend> backends) {
    this.backends = List.copyOf(backends);
  }

  /** The backends, in routing order. */
  public List<Backend> backends() {
    return backends;
  }

  /** The first backend that supports {@code type} on {@code model}, if any. */
  public Optional<Backend> route(String type, @Nullable String model) {
    return backends.stream().filter(b -> b.supports(type, model)).findFirst();
  }

  /** Runs the job on its backend; no backend is a non-retryable failure. */
  public JobOutcome run(JobRun run) throws BackendException {
    Backend backend =
        route(run.type(), run.model())
            .orElseThrow(
                () ->
                    BackendException.invalid(
                        "no backend for type "
                            + run.type()
                            + " model "
                            + (run.model() == null ? "(default)" : run.model())));
    return backend.run(run);
  }

  /** The union of the backends' job types. */
  public Set<String> jobTypes() {
    Set<String> types = new LinkedHashSet<>();
    backends.forEach(b -> types.addAll(b.jobTypes()));
    return types;
  }

  /** The union of the backends' models. */
  public Set<String> models() {
    Set<String> models = new LinkedHashSet<>();
    backends.forEach(b -> models.addAll(b.models()));
    return models;
  }

  /** The backends' names. */
  public List<String> names() {
    return backends.stream().map(Backend::name).toList();
  }

  /** Closes every backend; one failing does not stop the others. */
  @Override
  public void close() {
    for (Backend backend : backends) {
      try {
        backend.close();
      } catch (RuntimeException e) {
        logger.warn("[backend={}] close failed", backend.name(), e);
      }
    }
  }
}
