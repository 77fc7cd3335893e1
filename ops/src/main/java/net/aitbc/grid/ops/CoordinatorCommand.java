package net.aitbc.grid.ops;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.ledger.SigningKey;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code grid coordinator}: the scheduler and its gRPC server. */
@Command(name = "coordinator", mixinStandardHelpOptions = true,
    description = "Runs the coordinator (gRPC JobService and WorkerService, health, reflection, metrics).")
final class CoordinatorCommand implements Callable<Integer> {
  private static final Logger logger = LoggerFactory.getLogger(CoordinatorCommand.class);

  @Mixin DbOptions db;
  @Mixin SigningKeyOptions signing;
  @Mixin LedgerOptions ledger;

  @Option(names = "--host", defaultValue = "${env:AITBC_COORDINATOR_HOST:-127.0.0.1}",
      description = "address to listen on (env AITBC_COORDINATOR_HOST; default ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", defaultValue = "${env:AITBC_COORDINATOR_PORT:-9090}",
      description = "gRPC port (env AITBC_COORDINATOR_PORT; default ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--metrics-port", defaultValue = "${env:AITBC_METRICS_PORT:-9091}",
      description = "Prometheus port, -1 for none; HTTPS with the gRPC certificate when --tls-cert is given "
          + "(env AITBC_METRICS_PORT; default ${DEFAULT-VALUE})")
  int metricsPort;

  @Option(names = "--lease", defaultValue = "30s", converter = DurationConverter.class,
      description = "how long a worker's jobs stay leased without a heartbeat (default ${DEFAULT-VALUE})")
  Duration lease;

  @Option(names = "--heartbeat", defaultValue = "10s", converter = DurationConverter.class,
      description = "how often workers heartbeat (default ${DEFAULT-VALUE})")
  Duration heartbeat;

  @Option(names = "--max-attempts", defaultValue = "3",
      description = "runs per job when the client names none (default ${DEFAULT-VALUE})")
  int maxAttempts;

  @Option(names = "--rate-limit", defaultValue = "1000",
      description = "submissions per second per key, for keys that set none; 0 is unlimited (default ${DEFAULT-VALUE})")
  double rateLimit;

  @Option(names = "--burst", defaultValue = "2000",
      description = "token bucket size per key, for keys that set none (default ${DEFAULT-VALUE})")
  int burst;

  @Option(names = "--max-queued", defaultValue = "100000",
      description = "queued jobs per client, for keys that set none (default ${DEFAULT-VALUE})")
  int maxQueued;

  @Option(names = "--max-prefetch", defaultValue = "16",
      description = "jobs a worker may hold beyond its concurrency (default ${DEFAULT-VALUE})")
  int maxPrefetch;

  @Option(names = "--run-timeout", defaultValue = "10m", converter = DurationConverter.class,
      description = "how long one attempt may run when neither the job nor its type says (default ${DEFAULT-VALUE})")
  Duration runTimeout;

  @Option(names = "--type-run-timeout", paramLabel = "TYPE=DURATION",
      description = "the run timeout of one job type, e.g. inference=30m (repeatable; embedding=2m unless given)")
  java.util.Map<String, String> typeRunTimeouts = new java.util.LinkedHashMap<>();

  @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${env:AITBC_COORDINATOR_TLS_CERT}",
      description = "serve gRPC (and metrics) over TLS with this certificate chain; needs --tls-key "
          + "(env AITBC_COORDINATOR_TLS_CERT; default: plaintext)")
  @Nullable Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${env:AITBC_COORDINATOR_TLS_KEY}",
      description = "the certificate's PKCS#8 private key (env AITBC_COORDINATOR_TLS_KEY)")
  @Nullable Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "PEM", defaultValue = "${env:AITBC_COORDINATOR_TLS_CLIENT_CA}",
      description = "ask callers for a client certificate (optional) and accept those this CA signed: a worker whose "
          + "certificate's CN is its owner's client id needs no API key (env AITBC_COORDINATOR_TLS_CLIENT_CA)")
  @Nullable Path tlsClientCa;

  @Option(names = "--payment-fee-bps", defaultValue = "${env:AITBC_PAYMENT_FEE_BPS:-250}",
      description = "the platform's fee on each released payment, in basis points, 0 to 9999 "
          + "(env AITBC_PAYMENT_FEE_BPS; default ${DEFAULT-VALUE}, i.e. 2.5 %%)")
  int paymentFeeBps;


  @Override
  public Integer call() {
    CoordinatorConfig.Builder builder = CoordinatorConfig.builder(db.requireUrl())
        .dbCredentials(db.user, db.password)
        .listen(host, port, metricsPort)
        .timing(lease, heartbeat, Duration.ofSeconds(1))
        .retries(maxAttempts, Duration.ofSeconds(1), Duration.ofMinutes(1))
        .admission(rateLimit, burst, maxQueued)
        .maxPrefetch(maxPrefetch)
        .defaultRunTimeout(runTimeout)
        .paymentFee(paymentFeeBps)
        .tls(TlsOptions.server(tlsCert, tlsKey, tlsClientCa, "--tls-cert", "--tls-key"));
    SigningKey key = signing.load();
    ledger.applyTo(builder).signingKey(key);
    DurationConverter durations = new DurationConverter();
    typeRunTimeouts.forEach((type, d) -> builder.runTimeout(type, durations.convert(d)));
    CoordinatorConfig config = builder.build();
    announce(key);
    if (Startup.run("the coordinator", stop -> Coordinator.start(config)) != null) {
      GridMain.awaitShutdown();
    }
    return 0;
  }

  /** Says at start whether receipts are issued, and with which key: its absence is otherwise silent. */
  private void announce(@Nullable SigningKey key) {
    if (key == null) {
      logger.warn("no signing key (--signing-key-file, AITBC_SIGNING_KEY_FILE or AITBC_SIGNING_KEY): "
          + "completed jobs get no receipts and no blocks are sealed");
    } else {
      logger.info("signing receipts and blocks with key {} (a block every {} receipts or {} ms)", key.keyId(),
          ledger.blocksEvery, ledger.blockInterval.toMillis());
    }
  }
}
