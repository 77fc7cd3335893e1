package net.aitbc.grid.ops;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code grid worker}: the daemon a GPU owner runs. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Runs a worker: connects to a coordinator, advertises its backends and GPUs, runs jobs. "
        + "SIGTERM drains it: no new jobs, running ones finish (or are handed back), then it exits.")
final class WorkerCommand implements Callable<Integer> {
  @Option(names = "--coordinator", defaultValue = "${env:AITBC_COORDINATOR:-127.0.0.1:9090}",
      description = "the coordinator's gRPC address: host:port, replicas as host1:port,host2:port (the worker moves "
          + "to a live one by itself), or dns:///name:port (env AITBC_COORDINATOR; default ${DEFAULT-VALUE})")
  String coordinator;

  @Option(names = "--api-key", defaultValue = "${env:AITBC_WORKER_KEY}",
      description = "a worker-role API key (env AITBC_WORKER_KEY); make one with `grid keys create --role worker`; "
          + "not needed with a client certificate (--tls-cert)")
  @Nullable String apiKey;

  @Mixin TlsOptions.Client tls = new TlsOptions.Client();

  @Mixin EmbeddingBatchingOptions batching = new EmbeddingBatchingOptions();

  @Option(names = "--worker-id", defaultValue = "${env:AITBC_WORKER_ID}",
      description = "stable worker id (env AITBC_WORKER_ID; default: the host name)")
  @Nullable String workerId;

  @Option(names = "--state-dir", defaultValue = "${env:AITBC_WORKER_STATE_DIR}",
      description = "where the worker keeps its Ed25519 key, " + WorkerConfig.KEY_FILE + ", made on first start; "
          + "the coordinator pins its public key to the worker id at the first registration "
          + "(env AITBC_WORKER_STATE_DIR; default $XDG_STATE_HOME/aitbc-worker, else ~/.local/state/aitbc-worker)")
  @Nullable Path stateDir;

  @Option(names = "--concurrency", defaultValue = "${env:AITBC_WORKER_CONCURRENCY:-2}",
      description = "jobs run at once (env AITBC_WORKER_CONCURRENCY; default ${DEFAULT-VALUE})")
  int concurrency;

  @Option(names = "--prefetch", defaultValue = "${env:AITBC_WORKER_PREFETCH:-0}",
      description = "jobs accepted ahead of a free slot, so that short jobs never wait for a dispatch round trip "
          + "(env AITBC_WORKER_PREFETCH; default ${DEFAULT-VALUE})")
  int prefetch;

  @Option(names = "--region", defaultValue = "${env:AITBC_WORKER_REGION:-}", description = "region to advertise")
  String region;

  @Option(names = "--price", defaultValue = "0", description = "price per GPU second to advertise")
  double price;

  @Option(names = "--embedded", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "run embedding jobs on the embedded all-MiniLM-L6-v2 model (default on; --no-embedded turns it off)")
  boolean embedded;

  @Option(names = "--noop", description = "also run `noop` jobs (no work, or `sleep_ms`), for benchmarks and tests")
  boolean noop;

  @Option(names = "--ollama-url", defaultValue = "${env:AITBC_OLLAMA_URL}",
      description = "an Ollama server for inference and embedding, e.g. http://localhost:11434 (env AITBC_OLLAMA_URL)")
  @Nullable String ollamaUrl;

  @Option(names = "--openai-url", defaultValue = "${env:AITBC_OPENAI_URL}",
      description = "an OpenAI-compatible server up to /v1, e.g. http://localhost:8001/v1 (env AITBC_OPENAI_URL)")
  @Nullable String openAiUrl;

  @Option(names = "--openai-key", defaultValue = "${env:AITBC_OPENAI_API_KEY}",
      description = "bearer token for the OpenAI-compatible server (env AITBC_OPENAI_API_KEY)")
  @Nullable String openAiKey;

  @Option(names = "--default-model", defaultValue = "${env:AITBC_DEFAULT_MODEL}",
      description = "inference model for jobs that name none (env AITBC_DEFAULT_MODEL)")
  @Nullable String defaultModel;

  @Option(names = "--swarm", paramLabel = "NAME", split = ",", defaultValue = "${env:AITBC_WORKER_SWARMS}",
      description = "a swarm to join by name when the worker registers: 1 to " + WorkerConfig.MAX_SWARM_NAME
          + " letters, digits, '-', '_' or '.' (repeatable, or comma-separated; env AITBC_WORKER_SWARMS)")
  List<String> swarms = new ArrayList<>();

  @Option(names = "--drain-timeout", defaultValue = "30s", converter = DurationConverter.class,
      description = "how long SIGTERM lets running jobs finish (default ${DEFAULT-VALUE})")
  Duration drainTimeout;

  @Override
  public Integer call() throws InterruptedException {
    WorkerConfig built = config();
    WorkerNode node = Startup.run("the worker", stop -> Startup.startWorker(built, stop));
    if (node != null) {
      node.awaitTermination(Duration.ofDays(36_500));
    }
    return 0;
  }

  /** The worker's configuration from the options; throws {@link IllegalArgumentException} naming a bad one. */
  WorkerConfig config() {
    ClientTls clientTls = tls.clientTls();
    boolean hasKey = apiKey != null && !apiKey.isBlank();
    if (!hasKey && (clientTls == null || !clientTls.presentsCertificate())) {
      throw new IllegalArgumentException("no API key: pass --api-key or set AITBC_WORKER_KEY (or authenticate with a "
          + "client certificate: --tls-cert and --tls-key)");
    }
    for (String swarm : swarms) {
      try {
        WorkerConfig.checkSwarmName(swarm);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--swarm: " + e.getMessage(), e);
      }
    }
    WorkerConfig.Builder config = WorkerConfig.builder()
        .coordinator(coordinator)
        .apiKey(hasKey ? apiKey : null)
        .tls(clientTls)
        .concurrency(concurrency)
        .prefetch(prefetch)
        .region(region)
        .price(price)
        .embeddedBackend(embedded)
        .embeddingBatching(batching.batching())
        .noopBackend(noop)
        .ollamaUrl(ollamaUrl)
        .openAiUrl(openAiUrl)
        .openAiApiKey(openAiKey)
        .defaultModel(defaultModel)
        .swarms(swarms)
        .drainTimeout(drainTimeout);
    if (workerId != null && !workerId.isBlank()) {
      config.workerId(workerId);
    }
    if (stateDir != null) {
      config.stateDir(stateDir);
    }
    return config.build();
  }
}
