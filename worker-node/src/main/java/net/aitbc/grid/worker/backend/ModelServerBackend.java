package net.aitbc.grid.worker.backend;

import static net.aitbc.grid.worker.backend.HttpTransport.stripSlash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@code inference} and {@code embedding} jobs on a model server over HTTP: resolves the job's
 * model against the server's list, then hands the job to the subclass's wire format.
 */
abstract class ModelServerBackend implements Backend {

  // The subclass's logger, so a warning still names the backend class it came from.
  private final Logger logger = LoggerFactory.getLogger(getClass());
  private final String baseUrl;
  private final String server;
  private final String label;

  /** Reads and writes the server's JSON. */
  final ObjectMapper mapper = new ObjectMapper();

  /** The connection to the server. */
  final HttpTransport http;

  /**
   * Talks to {@code baseUrl}; errors name the peer {@code provider} (transport), {@code server}
   * (unknown model) and the backend {@code label} (unknown job type).
   */
  ModelServerBackend(
      String baseUrl, String provider, @Nullable String apiKey, String server, String label) {
    this.baseUrl = stripSlash(baseUrl);
    this.http = new HttpTransport(provider, apiKey, mapper);
    this.server = server;
    this.label = label;
  }

  @Override
  public final Set<String> jobTypes() {
    return Set.of("inference", "embedding");
  }

  @Override
  public final boolean supports(String type, @Nullable String model) {
    return jobTypes().contains(type) && resolve(model) != null;
  }

  @Override
  public final JobOutcome run(JobRun run) throws BackendException {
    String model = resolve(run.model());
    if (model == null) {
      throw BackendException.invalid(server + " has no model " + run.model());
    }
    return switch (run.type()) {
      case "inference" -> infer(run, model);
      case "embedding" -> embed(run, model);
      default -> throw BackendException.invalid(label + " backend cannot run type " + run.type());
    };
  }

  @Override
  public final void close() {
    http.close();
  }

  /** The listed name for {@code requested}, the default model if it is blank, else null. */
  abstract @Nullable String resolve(@Nullable String requested);

  /** Runs an {@code inference} job on {@code model}, a name the server listed. */
  abstract JobOutcome infer(JobRun run, String model) throws BackendException;

  /** Runs an {@code embedding} job on {@code model}, a name the server listed. */
  abstract JobOutcome embed(JobRun run, String model) throws BackendException;

  /** GETs the server's model list at {@code path}; closes the transport if that fails. */
  final JsonNode listModels(String path, Duration timeout) throws BackendException {
    try {
      return http.getJson(uri(path), timeout);
    } catch (BackendException e) {
      // The caller never gets a backend to close.
      http.close();
      throw e;
    }
  }

  /**
   * {@code configured} as the server lists it, else (with a warning) the first of {@code listed};
   * null when the server lists nothing.
   */
  final @Nullable String defaultModel(@Nullable String configured, List<String> listed) {
    if (configured != null && !configured.isBlank()) {
      String found = resolve(configured);
      if (found != null) {
        return found;
      }
      logger.warn(
          "[backend={}] default model {} is not among {}; using the first listed",
          name(),
          configured,
          listed);
    }
    return listed.isEmpty() ? null : listed.getFirst();
  }

  /** Takes a streamed response body one line at a time. */
  interface LineReader {
    /** Handles one line (without its end); true when the answer is complete. */
    boolean line(String line) throws BackendException;

    /** The body ended without a final line; true if what came before is a complete answer. */
    default boolean ended() throws BackendException {
      return false;
    }
  }

  /**
   * POSTs {@code body} to {@code path} and feeds the streamed answer to {@code reader} until it is
   * complete; a stream that breaks or ends early is a retryable failure, or the cancellation that
   * closed it.
   */
  final void streamLines(String path, ObjectNode body, JobRun run, LineReader reader)
      throws BackendException {
    InputStream in = http.postStream(uri(path), body, run.cancellation());
    boolean complete = false;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while (!complete && (line = lines.readLine()) != null) {
        complete = reader.line(line);
      }
      if (!complete) {
        complete = reader.ended();
      }
    } catch (IOException e) {
      throw http.streamBroken(e, run.cancellation());
    } finally {
      HttpTransport.closeQuietly(in);
    }
    if (!complete) {
      throw http.streamBroken(null, run.cancellation());
    }
    run.cancellation().throwIfCancelled();
  }

  /**
   * Checks that the server sent one non-empty vector per input; a wrong count is the server's
   * fault, so another attempt may do better.
   */
  final void checkVectors(List<ArrayNode> vectors, Embeddings.Input input)
      throws BackendException {
    if (vectors.size() != input.texts().size() || vectors.getFirst().isEmpty()) {
      throw new BackendException(
          server
              + " returned "
              + vectors.size()
              + " embeddings for "
              + input.texts().size()
              + " inputs",
          true);
    }
  }

  /** {@code path} under the server's base URL. */
  final URI uri(String path) {
    return URI.create(baseUrl + path);
  }
}
