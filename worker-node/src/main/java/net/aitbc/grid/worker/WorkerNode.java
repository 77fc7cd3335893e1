package net.aitbc.grid.worker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.worker.backend.Backend;
import net.aitbc.grid.worker.backend.BackendException;
import net.aitbc.grid.worker.backend.BackendRouter;
import net.aitbc.grid.worker.backend.EmbeddedBackend;
import net.aitbc.grid.worker.backend.NoopBackend;
import net.aitbc.grid.worker.backend.OllamaBackend;
import net.aitbc.grid.worker.backend.OpenAiBackend;
import net.aitbc.grid.worker.session.CoordinatorSession;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker daemon: loads its backends, advertises what the machine can run, and keeps a stream to
 * the coordinator that runs the jobs it is assigned. The lifecycle follows {@code ExecutorService}:
 * {@link #shutdown()} drains, {@link #shutdownNow()} aborts, {@link #awaitTermination(Duration)}
 * waits; all are idempotent.
 */
public final class WorkerNode implements AutoCloseable {

  private static final Logger logger = LoggerFactory.getLogger(WorkerNode.class);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
  // Past the drain: waiting for the coordinator to close the stream, then for the channel and job
  // threads.
  private static final Duration CLOSE_MARGIN = Duration.ofSeconds(20);

  private final WorkerConfig config;
  private final WorkerCapabilities capabilities;
  private final CoordinatorSession session;
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();

  private WorkerNode(
      WorkerConfig config, WorkerCapabilities capabilities, CoordinatorSession session) {
    this.config = config;
    this.capabilities = capabilities;
    this.session = session;
  }

  /**
   * Loads the configured backends (the embedded model before anything else, so the first job is
   * fast; an Ollama or OpenAI-compatible server that does not answer is left out with a warning),
   * loads or makes its key, detects GPUs, and connects to the coordinator in the background.
   */
  public static WorkerNode start(WorkerConfig config) {
    return start(config, loadBackends(config));
  }

  /**
   * Like {@link #start(WorkerConfig)}, with these backends instead of the configured ones; the node
   * closes them.
   */
  public static WorkerNode start(WorkerConfig config, List<? extends Backend> backends) {
    Objects.requireNonNull(config, "config");
    BackendRouter router = new BackendRouter(backends);
    SigningKey key;
    try {
      key = loadKey(config);
    } catch (RuntimeException e) {
      router.close();
      throw e;
    }
    GpuDetector.Result gpus =
        config.gpuDetection() ? GpuDetector.detect() : GpuDetector.Result.NONE;
    WorkerCapabilities capabilities =
        WorkerCapabilities.newBuilder()
            .addAllJobTypes(router.jobTypes())
            .addAllModels(router.models())
            .addAllGpus(gpus.gpus())
            .addAllBackends(router.names())
            .setConcurrency(config.concurrency())
            .setRegion(config.region())
            .setPrice(config.price())
            .setCuda(gpus.cuda())
            .build();
    if (router.backends().isEmpty()) {
      logger.warn(
          "[worker={}] no backends: the coordinator will assign this worker nothing",
          config.workerId());
    }
    String version = version();
    logger.info(
        "[worker={}] starting {} for {}: backends={} types={} models={} gpus={} concurrency={}"
            + " swarms={}",
        config.workerId(),
        version,
        config.coordinator(),
        router.names(),
        router.jobTypes(),
        router.models(),
        gpus.gpus().size(),
        config.concurrency(),
        config.swarms());
    CoordinatorSession session;
    try {
      session = new CoordinatorSession(config, version, capabilities, router, key);
    } catch (RuntimeException e) {
      router.close();
      throw e;
    }
    WorkerNode node = new WorkerNode(config, capabilities, session);
    session
        .termination()
        .whenComplete(
            (ignored, error) -> {
              router.close();
              node.terminated.complete(null);
            });
    session.start();
    return node;
  }

  /**
   * Drains: asks for no more work, lets running jobs finish within the drain timeout, then closes.
   */
  public void shutdown() {
    session.shutdown();
  }

  /** Aborts running jobs and closes the stream at once. */
  public void shutdownNow() {
    session.shutdownNow();
  }

  /** Waits up to {@code timeout} for the node to stop; true if it has. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    try {
      terminated.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException("termination never fails", e);
    }
  }

  /** Whether the node has stopped: stream closed, jobs stopped, backends closed. */
  public boolean isTerminated() {
    return terminated.isDone();
  }

  /**
   * {@link #shutdown()}, then waits for the drain; falls back to {@link #shutdownNow()} if it takes
   * too long.
   */
  @Override
  public void close() {
    shutdown();
    try {
      if (!awaitTermination(config.drainTimeout().plus(CLOSE_MARGIN))) {
        shutdownNow();
        awaitTermination(CLOSE_MARGIN);
      }
    } catch (InterruptedException e) {
      shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** The id this worker registers under. */
  public String workerId() {
    return config.workerId();
  }

  /** The coordinator's id for the current stream, or null while not registered. */
  public @Nullable String sessionId() {
    return session.sessionId();
  }

  /** Whether a stream is open and registered. */
  public boolean isRegistered() {
    return session.isRegistered();
  }

  /** How many jobs run now. */
  public int runningJobs() {
    return session.runningJobs();
  }

  /** What this worker advertises in Register. */
  public WorkerCapabilities capabilities() {
    return capabilities;
  }

  /** The configuration it runs with. */
  public WorkerConfig config() {
    return config;
  }

  /**
   * Loads the configured backends, as {@link #start(WorkerConfig)} does: the embedded model first
   * (seconds, in native code that cannot be interrupted), then probes Ollama and the
   * OpenAI-compatible server; one that cannot load is left out with a warning. The caller owns
   * what it returns (pass it to {@link #start(WorkerConfig, List)}, or close it).
   */
  public static List<Backend> loadBackends(WorkerConfig config) {
    List<Backend> backends = new ArrayList<>();
    if (config.embeddedBackend()) {
      long start = System.nanoTime();
      logger.info("[backend=embedded] loading {}", EmbeddedBackend.MODEL);
      try {
        backends.add(new EmbeddedBackend(config.embeddingBatching()));
        logger.info(
            "[backend=embedded] {} loaded in {} ms",
            EmbeddedBackend.MODEL,
            (System.nanoTime() - start) / 1_000_000);
      } catch (RuntimeException | LinkageError e) {
        // ONNX Runtime ships native code; a platform without it should still run the HTTP backends.
        logger.warn("[backend=embedded] left out: cannot load the model: {}", e.toString());
      }
    }
    if (config.ollamaUrl() != null) {
      try {
        OllamaBackend ollama =
            OllamaBackend.connect(config.ollamaUrl(), config.defaultModel(), PROBE_TIMEOUT);
        backends.add(ollama);
        logger.info("[backend=ollama] {} with models {}", config.ollamaUrl(), ollama.models());
      } catch (BackendException e) {
        logger.warn("[backend=ollama] left out: {}", e.getMessage());
      }
    }
    if (config.openAiUrl() != null) {
      try {
        OpenAiBackend openAi =
            OpenAiBackend.connect(
                config.openAiUrl(), config.openAiApiKey(), config.defaultModel(), PROBE_TIMEOUT);
        backends.add(openAi);
        logger.info("[backend=openai] {} with models {}", config.openAiUrl(), openAi.models());
      } catch (BackendException e) {
        logger.warn("[backend=openai] left out: {}", e.getMessage());
      }
    }
    if (config.noopBackend()) {
      backends.add(new NoopBackend(config.workerId()));
    }
    return backends;
  }

  /**
   * The worker's Ed25519 key from its state directory, made there on first start (owner-only). The
   * coordinator pins its public key to the worker id at the first registration.
   */
  private static SigningKey loadKey(WorkerConfig config) {
    boolean existed = Files.exists(config.keyFile());
    try {
      if (!existed && FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
        // What the worker keeps there is its own: a new state directory is owner-only too.
        Files.createDirectories(
            config.stateDir(),
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      SigningKey key = SigningKey.loadOrCreate(config.keyFile());
      logger.info(
          "[worker={}] {} key {} ({})",
          config.workerId(),
          existed ? "signing with" : "made a new",
          key.keyId(),
          config.keyFile());
      return key;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read or create the worker key " + config.keyFile() + ": " + e.getMessage(), e);
    }
  }

  private static String version() {
    String version = WorkerNode.class.getPackage().getImplementationVersion();
    return version == null ? "dev" : version;
  }
}
