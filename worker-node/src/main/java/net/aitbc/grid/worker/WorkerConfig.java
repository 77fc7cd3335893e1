package net.aitbc.grid.worker;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.worker.backend.EmbeddingBatching;
import net.aitbc.grid.transport.CoordinatorChannels;
import org.jspecify.annotations.Nullable;

/**
 * How a worker node runs. Build one with {@link #builder()}; only the credentials (an API key, a
 * client certificate, or both) have no default.
 *
 * @param coordinator the coordinator's gRPC address: {@code host:port}, replicas as {@code
 *     host1:port,host2:port} (tried in order; the worker moves to a live one by itself), or a
 *     target such as {@code dns:///grid.example:9090} (default {@code 127.0.0.1:9090})
 * @param apiKey a worker-role API key, sent as the {@code x-api-key} metadata entry; null when a
 *     client certificate ({@code tls}) authenticates the worker
 * @param workerId the id the worker registers under, stable across restarts (default: the host
 *     name)
 * @param stateDir where the worker keeps what must outlive a restart: its Ed25519 key, {@value
 *     #KEY_FILE} (default {@code $XDG_STATE_HOME/aitbc-worker}, else {@code
 *     ~/.local/state/aitbc-worker})
 * @param concurrency how many jobs run at once (default 2)
 * @param prefetch how many jobs beyond {@code concurrency} the worker accepts ahead, waiting here
 *     for a free slot, so that a slot never idles for a dispatch round trip (default 0)
 * @param region the region advertised to placement (default empty)
 * @param price the price per unit (GPU second) the worker asks (default 0)
 * @param embeddedBackend whether the embedded all-MiniLM-L6-v2 backend runs embedding jobs (default
 *     true)
 * @param embeddingBatching how that backend batches the texts of jobs arriving together into one
 *     forward pass (default {@link EmbeddingBatching#OFF}; {@link EmbeddingBatching#DEFAULT} is a 2 ms window, at most 32 texts)
 * @param ollamaUrl an Ollama server, e.g. {@code http://localhost:11434} (default none)
 * @param openAiUrl an OpenAI-compatible server up to and including {@code /v1}, e.g. {@code
 *     http://localhost:8001/v1} (default none)
 * @param openAiApiKey the bearer token for {@code openAiUrl} (default none)
 * @param defaultModel the inference model for jobs that name none (default: each backend's first
 *     model)
 * @param reconnectMin the first reconnect delay cap (default 200 ms)
 * @param reconnectMax the largest reconnect delay (default 15 s)
 * @param drainTimeout how long {@code shutdown()} lets running jobs finish (default 30 s)
 * @param gpuDetection whether to look for GPUs with {@code nvidia-smi} (default true)
 * @param noopBackend whether to run {@code noop} jobs, for benchmarks and tests (default false)
 * @param swarms the swarms the worker joins by name when it registers ({@code Register.swarms}),
 *     each 1 to 64 letters, digits, {@code -}, {@code _} or {@code .}; repeats are dropped
 *     (default none)
 * @param tls TLS to the coordinator, with a client certificate for mutual TLS when it has one;
 *     null connects in plaintext (default)
 */
public record WorkerConfig(
    String coordinator,
    @Nullable String apiKey,
    String workerId,
    Path stateDir,
    int concurrency,
    int prefetch,
    String region,
    double price,
    boolean embeddedBackend,
    EmbeddingBatching embeddingBatching,
    @Nullable String ollamaUrl,
    @Nullable String openAiUrl,
    @Nullable String openAiApiKey,
    @Nullable String defaultModel,
    Duration reconnectMin,
    Duration reconnectMax,
    Duration drainTimeout,
    boolean gpuDetection,
    boolean noopBackend,
    List<String> swarms,
    @Nullable ClientTls tls) {

  /** The key file's name in {@link #stateDir()}. */
  public static final String KEY_FILE = "worker-ed25519.key";

  /** The longest swarm name, as worker_service.proto allows. */
  public static final int MAX_SWARM_NAME = 64;

  private static final Pattern SWARM_NAME = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_SWARM_NAME + "}");

  /** Checks every field, so a bad setting fails at start rather than on the first reconnect. */
  public WorkerConfig {
    requireNonNull(coordinator, "coordinator");
    requireNonNull(workerId, "workerId");
    requireNonNull(stateDir, "stateDir");
    requireNonNull(region, "region");
    requireNonNull(reconnectMin, "reconnectMin");
    requireNonNull(reconnectMax, "reconnectMax");
    requireNonNull(drainTimeout, "drainTimeout");
    requireNonNull(embeddingBatching, "embeddingBatching");
    CoordinatorChannels.checkTarget(coordinator);
    check(
        apiKey != null ? !apiKey.isBlank() : tls != null && tls.presentsCertificate(),
        "a worker needs an API key or a client certificate (TLS to the coordinator with"
            + " --tls-cert and --tls-key)");
    check(!workerId.isBlank(), "workerId must not be blank");
    check(concurrency >= 1, "concurrency must be at least 1, got " + concurrency);
    check(prefetch >= 0, "prefetch must be at least 0, got " + prefetch);
    check(price >= 0 && Double.isFinite(price), "price must be a finite number >= 0, got " + price);
    check(reconnectMin.isPositive(), "reconnectMin must be positive");
    check(reconnectMax.compareTo(reconnectMin) >= 0, "reconnectMax must be >= reconnectMin");
    check(!drainTimeout.isNegative(), "drainTimeout must not be negative");
    checkUrl(ollamaUrl, "ollamaUrl");
    checkUrl(openAiUrl, "openAiUrl");
    requireNonNull(swarms, "swarms");
    for (String swarm : swarms) {
      checkSwarmName(swarm);
    }
    swarms = List.copyOf(new LinkedHashSet<>(swarms));
  }

  /**
   * Throws {@link IllegalArgumentException} unless {@code name} is a swarm name: 1 to {@value
   * #MAX_SWARM_NAME} letters, digits, {@code -}, {@code _} or {@code .}.
   */
  public static void checkSwarmName(@Nullable String name) {
    check(
        name != null && SWARM_NAME.matcher(name).matches(),
        "swarm name must be 1 to "
            + MAX_SWARM_NAME
            + " letters, digits, '-', '_' or '.', got "
            + (name == null ? "none" : "'" + name + "'"));
  }

  /** The worker's signing key file: {@value #KEY_FILE} in the state directory. */
  public Path keyFile() {
    return stateDir.resolve(KEY_FILE);
  }

  /**
   * {@code $XDG_STATE_HOME/aitbc-worker}, or {@code ~/.local/state/aitbc-worker} when that is
   * unset or relative (the XDG spec says to ignore a relative one).
   */
  public static Path defaultStateDir() {
    String xdg = System.getenv("XDG_STATE_HOME");
    if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
      return Path.of(xdg, "aitbc-worker");
    }
    return Path.of(System.getProperty("user.home"), ".local", "state", "aitbc-worker");
  }

  /**
   * A builder with every default set; call {@link Builder#apiKey(String)} (or give {@link
   * Builder#tls(ClientTls)} a client certificate) before {@link Builder#build()}.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this config's values, to change a few. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Like the record's, but with the API keys masked: configs end up in logs. */
  @Override
  public String toString() {
    return "WorkerConfig[coordinator="
        + coordinator
        + ", apiKey="
        + (apiKey == null ? null : "***")
        + ", workerId="
        + workerId
        + ", stateDir="
        + stateDir
        + ", concurrency="
        + concurrency
        + ", prefetch="
        + prefetch
        + ", region="
        + region
        + ", price="
        + price
        + ", embeddedBackend="
        + embeddedBackend
        + ", embeddingBatching="
        + embeddingBatching
        + ", ollamaUrl="
        + ollamaUrl
        + ", openAiUrl="
        + openAiUrl
        + ", openAiApiKey="
        + (openAiApiKey == null ? null : "***")
        + ", defaultModel="
        + defaultModel
        + ", reconnectMin="
        + reconnectMin
        + ", reconnectMax="
        + reconnectMax
        + ", drainTimeout="
        + drainTimeout
        + ", gpuDetection="
        + gpuDetection
        + ", noopBackend="
        + noopBackend
        + ", swarms="
        + swarms
        + ", tls="
        + tls
        + "]";
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  private static void checkUrl(@Nullable String url, String name) {
    if (url == null) {
      return;
    }
    try {
      URI uri = URI.create(url);
      check(
          ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
              && uri.getHost() != null,
          name + " must be an http(s) URL, got " + url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + " must be an http(s) URL, got " + url, e);
    }
  }

  /** Builds a {@link WorkerConfig}; every setter returns the builder. */
  public static final class Builder {
    private String coordinator = "127.0.0.1:9090";
    private @Nullable String apiKey;
    private @Nullable String workerId;
    private @Nullable Path stateDir;
    private int concurrency = 2;
    private int prefetch;
    private String region = "";
    private double price;
    private boolean embeddedBackend = true;
    private EmbeddingBatching embeddingBatching = EmbeddingBatching.OFF;
    private @Nullable String ollamaUrl;
    private @Nullable String openAiUrl;
    private @Nullable String openAiApiKey;
    private @Nullable String defaultModel;
    private Duration reconnectMin = Duration.ofMillis(200);
    private Duration reconnectMax = Duration.ofSeconds(15);
    private Duration drainTimeout = Duration.ofSeconds(30);
    private boolean gpuDetection = true;
    private boolean noopBackend;
    private List<String> swarms = List.of();
    private @Nullable ClientTls tls;

    private Builder() {}

    private Builder(WorkerConfig c) {
      coordinator = c.coordinator;
      apiKey = c.apiKey;
      workerId = c.workerId;
      stateDir = c.stateDir;
      concurrency = c.concurrency;
      prefetch = c.prefetch;
      region = c.region;
      price = c.price;
      embeddedBackend = c.embeddedBackend;
      embeddingBatching = c.embeddingBatching;
      ollamaUrl = c.ollamaUrl;
      openAiUrl = c.openAiUrl;
      openAiApiKey = c.openAiApiKey;
      defaultModel = c.defaultModel;
      reconnectMin = c.reconnectMin;
      reconnectMax = c.reconnectMax;
      drainTimeout = c.drainTimeout;
      gpuDetection = c.gpuDetection;
      noopBackend = c.noopBackend;
      swarms = c.swarms;
      tls = c.tls;
    }

    /** The coordinator's gRPC address; see {@link WorkerConfig#coordinator()}. */
    public Builder coordinator(String coordinator) {
      this.coordinator = coordinator;
      return this;
    }

    /** The worker-role API key; null when a client certificate authenticates the worker. */
    public Builder apiKey(@Nullable String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /** The id to register under; defaults to the host name. */
    public Builder workerId(String workerId) {
      this.workerId = workerId;
      return this;
    }

    /** Where the worker keeps its key; defaults to {@link WorkerConfig#defaultStateDir()}. */
    public Builder stateDir(Path stateDir) {
      this.stateDir = stateDir;
      return this;
    }

    /** How many jobs run at once. */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /** Jobs accepted ahead of a free slot; see {@link WorkerConfig#prefetch()}. */
    public Builder prefetch(int prefetch) {
      this.prefetch = prefetch;
      return this;
    }

    /** The region to advertise. */
    public Builder region(String region) {
      this.region = region;
      return this;
    }

    /** The price per unit to advertise. */
    public Builder price(double price) {
      this.price = price;
      return this;
    }

    /** Whether the embedded embedding model runs. */
    public Builder embeddedBackend(boolean embeddedBackend) {
      this.embeddedBackend = embeddedBackend;
      return this;
    }

    /** How the embedded model batches jobs; see {@link WorkerConfig#embeddingBatching()}. */
    public Builder embeddingBatching(EmbeddingBatching embeddingBatching) {
      this.embeddingBatching = embeddingBatching;
      return this;
    }

    /** An Ollama server's base URL, or null for none. */
    public Builder ollamaUrl(@Nullable String ollamaUrl) {
      this.ollamaUrl = ollamaUrl;
      return this;
    }

    /** An OpenAI-compatible server's base URL ending in {@code /v1}, or null for none. */
    public Builder openAiUrl(@Nullable String openAiUrl) {
      this.openAiUrl = openAiUrl;
      return this;
    }

    /** The OpenAI-compatible server's API key, or null. */
    public Builder openAiApiKey(@Nullable String openAiApiKey) {
      this.openAiApiKey = openAiApiKey;
      return this;
    }

    /** The inference model for jobs that name none, or null for each backend's first. */
    public Builder defaultModel(@Nullable String defaultModel) {
      this.defaultModel = defaultModel;
      return this;
    }

    /** The reconnect backoff's first cap and its largest delay. */
    public Builder reconnectBackoff(Duration min, Duration max) {
      this.reconnectMin = min;
      this.reconnectMax = max;
      return this;
    }

    /** How long a graceful shutdown lets running jobs finish. */
    public Builder drainTimeout(Duration drainTimeout) {
      this.drainTimeout = drainTimeout;
      return this;
    }

    /** Sets {@link WorkerConfig#noopBackend()}. */
    public Builder noopBackend(boolean noopBackend) {
      this.noopBackend = noopBackend;
      return this;
    }

    /** The swarms to join by name when registering; see {@link WorkerConfig#swarms()}. */
    public Builder swarms(Collection<String> swarms) {
      this.swarms = new ArrayList<>(swarms);
      return this;
    }

    /** TLS to the coordinator (null: plaintext); see {@link WorkerConfig#tls()}. */
    public Builder tls(@Nullable ClientTls tls) {
      this.tls = tls;
      return this;
    }

    /** Whether to run {@code nvidia-smi}. */
    public Builder gpuDetection(boolean gpuDetection) {
      this.gpuDetection = gpuDetection;
      return this;
    }

    /**
     * The config; throws {@link IllegalArgumentException} naming the first bad field (or the
     * missing credentials).
     */
    public WorkerConfig build() {
      return new WorkerConfig(
          coordinator,
          apiKey,
          workerId == null ? hostName() : workerId,
          stateDir == null ? defaultStateDir() : stateDir,
          concurrency,
          prefetch,
          region,
          price,
          embeddedBackend,
          embeddingBatching,
          ollamaUrl,
          openAiUrl,
          openAiApiKey,
          defaultModel,
          reconnectMin,
          reconnectMax,
          drainTimeout,
          gpuDetection,
          noopBackend,
          swarms,
          tls);
    }

    private static String hostName() {
      try {
        return InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        String env = System.getenv("HOSTNAME");
        return env == null || env.isBlank() ? "worker" : env;
      }
    }
  }
}
