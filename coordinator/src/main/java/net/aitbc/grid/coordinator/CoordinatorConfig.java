package net.aitbc.grid.coordinator;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/**
 * Everything a coordinator needs to start. {@link #defaults(String)} gives production defaults;
 * tests shorten the lease and sweep periods.
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
 * @param sweepInterval how often leases, TTLs and sessions are checked
 * @param defaultMaxAttempts runs allowed per job when the client names none
 * @param retryBackoff the delay before a job's second attempt; it doubles for each later one
 * @param maxRetryBackoff the longest delay between attempts
 * @param shutdownGrace how long a graceful shutdown waits for calls and workers
 * @param defaultRatePerSec submissions per second per key when the key sets none; 0 is unlimited
 * @param defaultBurst the token bucket's size when the key sets none
 * @param defaultMaxQueued queued jobs per client when its key sets none
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
    int defaultMaxQueued) {

  /** The default gRPC port. */
  public static final int DEFAULT_GRPC_PORT = 9090;
  /** The default Prometheus port. */
  public static final int DEFAULT_METRICS_PORT = 9091;

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
  }

  /** Production defaults for the database at {@code dbUrl}. */
  public static CoordinatorConfig defaults(String dbUrl) {
    return new CoordinatorConfig("127.0.0.1", DEFAULT_GRPC_PORT, DEFAULT_METRICS_PORT, dbUrl, null, null, 16,
        Duration.ofSeconds(30), Duration.ofSeconds(10), Duration.ofSeconds(1), 3,
        Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(10), 1000, 2000, 100_000);
  }

  /** A copy listening on {@code host:grpcPort} with metrics on {@code metricsPort}. */
  public CoordinatorConfig withListen(String host, int grpcPort, int metricsPort) {
    return new CoordinatorConfig(host, grpcPort, metricsPort, dbUrl, dbUser, dbPassword, dbPoolSize,
        leaseDuration, heartbeatInterval, sweepInterval, defaultMaxAttempts, retryBackoff, maxRetryBackoff,
        shutdownGrace, defaultRatePerSec, defaultBurst, defaultMaxQueued);
  }

  /** A copy with these database credentials. */
  public CoordinatorConfig withDbCredentials(@Nullable String user, @Nullable String password) {
    return new CoordinatorConfig(host, grpcPort, metricsPort, dbUrl, user, password, dbPoolSize,
        leaseDuration, heartbeatInterval, sweepInterval, defaultMaxAttempts, retryBackoff, maxRetryBackoff,
        shutdownGrace, defaultRatePerSec, defaultBurst, defaultMaxQueued);
  }

  /** A copy with these lease, heartbeat and sweep periods. */
  public CoordinatorConfig withTiming(Duration lease, Duration heartbeat, Duration sweep) {
    return new CoordinatorConfig(host, grpcPort, metricsPort, dbUrl, dbUser, dbPassword, dbPoolSize,
        lease, heartbeat, sweep, defaultMaxAttempts, retryBackoff, maxRetryBackoff, shutdownGrace, defaultRatePerSec, defaultBurst, defaultMaxQueued);
  }

  /** A copy with these admission defaults for keys that set none (a rate of 0 is unlimited). */
  public CoordinatorConfig withAdmission(double ratePerSec, int burst, int maxQueued) {
    return new CoordinatorConfig(host, grpcPort, metricsPort, dbUrl, dbUser, dbPassword, dbPoolSize,
        leaseDuration, heartbeatInterval, sweepInterval, defaultMaxAttempts, retryBackoff, maxRetryBackoff,
        shutdownGrace, ratePerSec, burst, maxQueued);
  }

  /** A copy with this retry policy. */
  public CoordinatorConfig withRetries(int maxAttempts, Duration backoff, Duration maxBackoff) {
    return new CoordinatorConfig(host, grpcPort, metricsPort, dbUrl, dbUser, dbPassword, dbPoolSize,
        leaseDuration, heartbeatInterval, sweepInterval, maxAttempts, backoff, maxBackoff, shutdownGrace, defaultRatePerSec, defaultBurst, defaultMaxQueued);
  }
}
