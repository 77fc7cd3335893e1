package net.aitbc.grid.coordinator;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import net.aitbc.grid.coordinator.store.ResultCache;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.transport.ServerTls;
import org.jspecify.annotations.Nullable;

/**
 * Everything a coordinator needs to start. {@link #builder(String)} starts from production
 * defaults; tests shorten the lease and sweep periods.
 *
 * @param host the address the gRPC server binds to
 * @param grpcPort the gRPC port; 0 picks a free one
 * @param metricsPort the Prometheus port; 0 picks a free one, -1 turns it off
 * @param dbUrl the JDBC URL of the PostgreSQL database
 * @param dbUser the database user, or null to take it from the URL
 * @param dbPassword the database password, or null
 * @param dbPoolSize the most database connections held at once
 * @param leaseDuration how long a worker session's leases last after its last heartbeat
 * @param heartbeatInterval how often workers are told to send a heartbeat
 * @param sweepInterval how often leases, TTLs, run timeouts and sessions are checked
 * @param defaultMaxAttempts runs allowed per job when the client names none
 * @param retryBackoff the delay before a job's second attempt; it doubles for each later one
 * @param maxRetryBackoff the longest delay between attempts
 * @param shutdownGrace how long a graceful shutdown waits for calls and workers
 * @param defaultRatePerSec calls per second per key when the key sets none; 0 is unlimited
 * @param defaultBurst the token bucket's size when the key sets none
 * @param defaultMaxQueued queued jobs per client when its key sets none
 * @param maxPrefetch jobs a worker may hold beyond its concurrency (waiting for a slot)
 * @param defaultRunTimeout how long one attempt may run when neither the job nor its type sets it
 * @param runTimeouts the default run timeout per job type
 * @param revocationDelay how long a revoked key may still be honoured, on new calls and open streams
 * @param staleKeyGrace how long a key checked before the database went down is still trusted
 * @param ledger receipts and the ledger: the signing key (none: no receipts) and how blocks are sealed
 * @param paymentFeeBps the platform's fee on each released payment, in basis points (0 to 9,999)
 * @param resultCache how long the results of deterministic jobs are kept, and how many bytes of them
 *     (a TTL of zero: none)
 * @param tls the certificate gRPC and metrics are served with, and the CA of worker client
 *     certificates; null serves plaintext
 * @param retention how long finished jobs are kept, and how often older ones are retired
 */
public record CoordinatorConfig(
    String host,
    int grpcPort,
    int metricsPort,
    String dbUrl,
    @Nullable String dbUser,
    @Nullable String dbPassword,
    int dbPoolSize,
    Duration leaseDuration,
    Duration heartbeatInterval,
    Duration sweepInterval,
    int defaultMaxAttempts,
    Duration retryBackoff,
    Duration maxRetryBackoff,
    Duration shutdownGrace,
    double defaultRatePerSec,
    int defaultBurst,
    int defaultMaxQueued,
    int maxPrefetch,
    Duration defaultRunTimeout,
    Map<String, Duration> runTimeouts,
    Duration revocationDelay,
    Duration staleKeyGrace,
    Ledger ledger,
    int paymentFeeBps,
    ResultCache.Policy resultCache,
    @Nullable ServerTls tls,
    Retention retention) {

  /** The default gRPC port. */
  public static final int DEFAULT_GRPC_PORT = 9090;
  /** The default Prometheus port. */
  public static final int DEFAULT_METRICS_PORT = 9091;
  /** The platform's fee on released payments unless configured: 2.5 %. */
  public static final int DEFAULT_PAYMENT_FEE_BPS = 250;
  /** The longest run timeout a job or type may set. */
  public static final Duration MAX_RUN_TIMEOUT = Duration.ofDays(30);

  /** Checks the values. */
  public CoordinatorConfig {
    requireNonNull(host, "host");
    requireNonNull(dbUrl, "dbUrl");
    requireNonNull(leaseDuration, "leaseDuration");
    requireNonNull(heartbeatInterval, "heartbeatInterval");
    requireNonNull(sweepInterval, "sweepInterval");
    requireNonNull(retryBackoff, "retryBackoff");
    requireNonNull(maxRetryBackoff, "maxRetryBackoff");
    requireNonNull(shutdownGrace, "shutdownGrace");
    requireNonNull(defaultRunTimeout, "defaultRunTimeout");
    requireNonNull(revocationDelay, "revocationDelay");
    requireNonNull(staleKeyGrace, "staleKeyGrace");
    requireNonNull(ledger, "ledger");
    requireNonNull(retention, "retention");
    requireNonNull(resultCache, "resultCache");
    runTimeouts = Map.copyOf(runTimeouts);
    if (heartbeatInterval.compareTo(leaseDuration) >= 0) {
      throw new IllegalArgumentException(
          "heartbeat interval (" + heartbeatInterval + ") must be shorter than the lease (" + leaseDuration + ")");
    }
    if (defaultMaxAttempts < 1) {
      throw new IllegalArgumentException("default max attempts must be at least 1");
    }
    if (dbPoolSize < 2) {
      throw new IllegalArgumentException("the database pool needs at least 2 connections");
    }
    if (maxPrefetch < 0) {
      throw new IllegalArgumentException("max prefetch must not be negative");
    }
    checkRunTimeout("the default run timeout", defaultRunTimeout);
    runTimeouts.forEach((type, t) -> checkRunTimeout("the run timeout of " + type, t));
    if (!revocationDelay.isPositive() || staleKeyGrace.isNegative()) {
      throw new IllegalArgumentException("the revocation delay must be positive and the stale key grace not negative");
    }
    if (paymentFeeBps < 0 || paymentFeeBps > 9_999) {
      throw new IllegalArgumentException("the payment fee must be 0 to 9999 basis points, not " + paymentFeeBps);
    }
  }

  private static void checkRunTimeout(String what, Duration t) {
    if (t.compareTo(Duration.ofSeconds(1)) < 0 || t.compareTo(MAX_RUN_TIMEOUT) > 0) {
      throw new IllegalArgumentException(what + " must be between 1 s and " + MAX_RUN_TIMEOUT.toDays() + " days, not "
          + t);
    }
  }

  /** Production defaults for the database at {@code dbUrl}. */
  public static CoordinatorConfig defaults(String dbUrl) {
    return builder(dbUrl).build();
  }

  /** A builder that starts from production defaults for the database at {@code dbUrl}. */
  public static Builder builder(String dbUrl) {
    return new Builder(dbUrl);
  }

  /** A builder that starts from these values. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** How long one attempt of a job of this type may run when the job does not say. */
  public Duration runTimeout(String type) {
    return runTimeouts.getOrDefault(type, defaultRunTimeout);
  }

  /** Whether completed jobs get signed receipts (a signing key is configured). */
  public boolean issuesReceipts() {
    return ledger.signingKey() != null;
  }

  /**
   * Retention of finished jobs: a job that ended (completed, failed, canceled, expired) more than
   * {@code jobs} ago is deleted with its attempts, and its idempotency key with it; its receipts and
   * payments stay. A job that a live payment, workflow execution or swarm task still needs is kept
   * until that ends.
   *
   * @param jobs how long a finished job is kept; zero keeps every job forever
   * @param every how often the coordinator looks for jobs to retire
   */
  public record Retention(Duration jobs, Duration every) {
    /** Finished jobs are kept a week unless configured. */
    public static final Duration DEFAULT_JOBS = Duration.ofDays(7);

    /** Checks the values. */
    public Retention {
      requireNonNull(jobs, "jobs");
      requireNonNull(every, "every");
      if (jobs.isNegative()) {
        throw new IllegalArgumentException("the job retention must not be negative (0 keeps jobs forever), not " + jobs);
      }
      if (every.compareTo(Duration.ofMillis(10)) < 0) {
        throw new IllegalArgumentException("the retention interval must be at least 10 ms, not " + every);
      }
    }

    /** Whether finished jobs are ever retired. */
    public boolean retires() {
      return jobs.isPositive();
    }
  }

  /**
   * Receipts and the ledger.
   *
   * @param signingKey the coordinator's Ed25519 key; null issues no receipts and seals nothing
   * @param blockReceipts the most receipts one block seals; a block is sealed as soon as this many wait
   * @param blockInterval how long a receipt may wait before a block seals it
   * @param defaultUnitPrice the price per unit when the worker advertised none
   */
  public record Ledger(@Nullable SigningKey signingKey, int blockReceipts, Duration blockInterval,
      BigDecimal defaultUnitPrice) {
    /** Checks the values. */
    public Ledger {
      requireNonNull(blockInterval, "blockInterval");
      requireNonNull(defaultUnitPrice, "defaultUnitPrice");
      if (blockReceipts < 1 || blockReceipts > 100_000) {
        throw new IllegalArgumentException("receipts per block must be between 1 and 100000, not " + blockReceipts);
      }
      if (blockInterval.compareTo(Duration.ofMillis(10)) < 0) {
        throw new IllegalArgumentException("the block interval must be at least 10 ms, not " + blockInterval);
      }
      if (defaultUnitPrice.signum() < 0) {
        throw new IllegalArgumentException("the unit price must not be negative");
      }
    }
  }

  /** Builds a {@link CoordinatorConfig}; every setter has the production default until called. */
  public static final class Builder {
    private String host = "127.0.0.1";
    private int grpcPort = DEFAULT_GRPC_PORT;
    private int metricsPort = DEFAULT_METRICS_PORT;
    private final String dbUrl;
    private @Nullable String dbUser;
    private @Nullable String dbPassword;
    private int dbPoolSize = 16;
    private Duration leaseDuration = Duration.ofSeconds(30);
    private Duration heartbeatInterval = Duration.ofSeconds(10);
    private Duration sweepInterval = Duration.ofSeconds(1);
    private int defaultMaxAttempts = 3;
    private Duration retryBackoff = Duration.ofSeconds(1);
    private Duration maxRetryBackoff = Duration.ofMinutes(1);
    private Duration shutdownGrace = Duration.ofSeconds(10);
    private double defaultRatePerSec = 1000;
    private int defaultBurst = 2000;
    private int defaultMaxQueued = 100_000;
    private int maxPrefetch = 16;
    private Duration defaultRunTimeout = Duration.ofMinutes(10);
    private final Map<String, Duration> runTimeouts = new TreeMap<>(Map.of("embedding", Duration.ofMinutes(2)));
    private Duration revocationDelay = Duration.ofSeconds(5);
    private Duration staleKeyGrace = Duration.ofMinutes(1);
    private Ledger ledger = new Ledger(null, 1000, Duration.ofSeconds(1), new BigDecimal("0.02"));
    private int paymentFeeBps = DEFAULT_PAYMENT_FEE_BPS;
    // Off unless asked for: noop jobs with one payload are what the load generator and the fault
    // tests submit, and each must run on a worker.
    private ResultCache.Policy resultCache = ResultCache.Policy.OFF;
    private @Nullable ServerTls tls;
    private Retention retention = new Retention(Retention.DEFAULT_JOBS, Duration.ofMinutes(1));

    private Builder(String dbUrl) {
      this.dbUrl = requireNonNull(dbUrl, "dbUrl");
    }

    private Builder(CoordinatorConfig c) {
      this(c.dbUrl);
      host = c.host;
      grpcPort = c.grpcPort;
      metricsPort = c.metricsPort;
      dbUser = c.dbUser;
      dbPassword = c.dbPassword;
      dbPoolSize = c.dbPoolSize;
      leaseDuration = c.leaseDuration;
      heartbeatInterval = c.heartbeatInterval;
      sweepInterval = c.sweepInterval;
      defaultMaxAttempts = c.defaultMaxAttempts;
      retryBackoff = c.retryBackoff;
      maxRetryBackoff = c.maxRetryBackoff;
      shutdownGrace = c.shutdownGrace;
      defaultRatePerSec = c.defaultRatePerSec;
      defaultBurst = c.defaultBurst;
      defaultMaxQueued = c.defaultMaxQueued;
      maxPrefetch = c.maxPrefetch;
      defaultRunTimeout = c.defaultRunTimeout;
      runTimeouts.clear();
      runTimeouts.putAll(c.runTimeouts);
      revocationDelay = c.revocationDelay;
      staleKeyGrace = c.staleKeyGrace;
      ledger = c.ledger;
      paymentFeeBps = c.paymentFeeBps;
      resultCache = c.resultCache;
      tls = c.tls;
      retention = c.retention;
    }

    /** Listens on {@code host:grpcPort}, with metrics on {@code metricsPort} (-1: none). */
    public Builder listen(String host, int grpcPort, int metricsPort) {
      this.host = host;
      this.grpcPort = grpcPort;
      this.metricsPort = metricsPort;
      return this;
    }

    /** Holds at most {@code size} database connections at once (at least 2). */
    public Builder dbPoolSize(int size) {
      this.dbPoolSize = size;
      return this;
    }

    /** Connects to the database as this user (null: from the URL). */
    public Builder dbCredentials(@Nullable String user, @Nullable String password) {
      this.dbUser = user;
      this.dbPassword = password;
      return this;
    }

    /** The lease, heartbeat and sweep periods. */
    public Builder timing(Duration lease, Duration heartbeat, Duration sweep) {
      this.leaseDuration = lease;
      this.heartbeatInterval = heartbeat;
      this.sweepInterval = sweep;
      return this;
    }

    /** The retry policy for jobs that name none. */
    public Builder retries(int maxAttempts, Duration backoff, Duration maxBackoff) {
      this.defaultMaxAttempts = maxAttempts;
      this.retryBackoff = backoff;
      this.maxRetryBackoff = maxBackoff;
      return this;
    }

    /** Admission defaults for keys that set none (a rate of 0 is unlimited). */
    public Builder admission(double ratePerSec, int burst, int maxQueued) {
      this.defaultRatePerSec = ratePerSec;
      this.defaultBurst = burst;
      this.defaultMaxQueued = maxQueued;
      return this;
    }

    /** Jobs a worker may hold beyond its concurrency. */
    public Builder maxPrefetch(int jobs) {
      this.maxPrefetch = jobs;
      return this;
    }

    /** The run timeout of job types that have none of their own. */
    public Builder defaultRunTimeout(Duration timeout) {
      this.defaultRunTimeout = timeout;
      return this;
    }

    /** The run timeout of one job type. */
    public Builder runTimeout(String type, Duration timeout) {
      runTimeouts.put(type.trim().toLowerCase(Locale.ROOT), timeout);
      return this;
    }

    /** How long revoked keys may still be honoured, and cached keys trusted while the database is down. */
    public Builder keyChecks(Duration revocationDelay, Duration staleKeyGrace) {
      this.revocationDelay = revocationDelay;
      this.staleKeyGrace = staleKeyGrace;
      return this;
    }

    /** Signs receipts with this key (null: no receipts). */
    public Builder signingKey(@Nullable SigningKey key) {
      this.ledger = new Ledger(key, ledger.blockReceipts(), ledger.blockInterval(), ledger.defaultUnitPrice());
      return this;
    }

    /** Seals a block when {@code receipts} wait, or when the oldest has waited {@code interval}. */
    public Builder blocks(int receipts, Duration interval) {
      this.ledger = new Ledger(ledger.signingKey(), receipts, interval, ledger.defaultUnitPrice());
      return this;
    }

    /** The price per unit of workers that advertise none. */
    public Builder defaultUnitPrice(BigDecimal price) {
      this.ledger = new Ledger(ledger.signingKey(), ledger.blockReceipts(), ledger.blockInterval(), price);
      return this;
    }

    /** How long a graceful shutdown waits. */
    public Builder shutdownGrace(Duration grace) {
      this.shutdownGrace = grace;
      return this;
    }

    /** The platform's fee on each released payment, in basis points (0 to 9,999). */
    public Builder paymentFee(int basisPoints) {
      this.paymentFeeBps = basisPoints;
      return this;
    }

    /** Keeps the results of deterministic jobs for {@code ttl} (zero: not at all), at most {@code maxBytes} of them. */
    public Builder resultCache(Duration ttl, long maxBytes) {
      this.resultCache = new ResultCache.Policy(ttl, maxBytes);
      return this;
    }

    /** Serves gRPC and metrics over TLS with these files (null: plaintext). */
    public Builder tls(@Nullable ServerTls tls) {
      this.tls = tls;
      return this;
    }

    /** Retires jobs that finished more than {@code jobs} ago (zero: never), looking every {@code every}. */
    public Builder retention(Duration jobs, Duration every) {
      this.retention = new Retention(jobs, every);
      return this;
    }

    /** The configuration; throws IllegalArgumentException naming a bad value. */
    public CoordinatorConfig build() {
      return new CoordinatorConfig(host, grpcPort, metricsPort, dbUrl, dbUser, dbPassword, dbPoolSize, leaseDuration,
          heartbeatInterval, sweepInterval, defaultMaxAttempts, retryBackoff, maxRetryBackoff, shutdownGrace,
          defaultRatePerSec, defaultBurst, defaultMaxQueued, maxPrefetch, defaultRunTimeout, runTimeouts,
          revocationDelay, staleKeyGrace, ledger, paymentFeeBps, resultCache, tls, retention);
    }
  }
}
