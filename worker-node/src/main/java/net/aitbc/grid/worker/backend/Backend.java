package net.aitbc.grid.worker.backend;

import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * An execution backend: runs jobs of some types on some models. Implementations are thread-safe.
 */
public interface Backend extends AutoCloseable {

  /**
   * The short name advertised in the worker's capabilities, e.g. {@code embedded} or {@code
   * ollama}.
   */
  String name();

  /** The job types this backend runs, e.g. {@code inference} and {@code embedding}. */
  Set<String> jobTypes();

  /** The models this backend advertises, as the coordinator should match them against jobs. */
  List<String> models();

  /**
   * Whether this backend can run a job of {@code type} on {@code model} (null: its default model).
   */
  boolean supports(String type, @Nullable String model);

  /**
   * Runs one job to its end, forwarding streamed output to the run's progress sink; blocks the
   * caller.
   */
  JobOutcome run(JobRun run) throws BackendException;

  /** Releases what the backend holds (HTTP clients, native sessions). */
  @Override
  default void close() {}
}
