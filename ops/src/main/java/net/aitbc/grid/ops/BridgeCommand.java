package net.aitbc.grid.ops;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import net.aitbc.grid.bridge.Bridge;
import net.aitbc.grid.bridge.BridgeConfig;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code grid bridge}: the REST /v1 bridge the aitbc CLI talks to. */
@Command(name = "bridge", mixinStandardHelpOptions = true,
    description = "Runs the REST bridge (the aitbc CLI's /v1 API), forwarding every call to a coordinator.")
final class BridgeCommand implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "${env:AITBC_BRIDGE_HOST:-127.0.0.1}",
      description = "address to listen on (env AITBC_BRIDGE_HOST; default ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", defaultValue = "${env:AITBC_BRIDGE_PORT:-8000}",
      description = "HTTP port (env AITBC_BRIDGE_PORT; default ${DEFAULT-VALUE}, the CLI's default)")
  int port;

  @Option(names = "--coordinator", defaultValue = "${env:AITBC_COORDINATOR:-127.0.0.1:9090}",
      description = "the coordinator's gRPC address: host:port, replicas as host1:port,host2:port (the bridge moves "
          + "to a live one by itself), or dns:///name:port (env AITBC_COORDINATOR; default ${DEFAULT-VALUE})")
  String coordinator;

  @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${env:AITBC_BRIDGE_TLS_CERT}",
      description = "serve HTTPS with this certificate chain; needs --tls-key (env AITBC_BRIDGE_TLS_CERT; "
          + "default: plain HTTP)")
  @Nullable Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${env:AITBC_BRIDGE_TLS_KEY}",
      description = "the certificate's PKCS#8 private key (env AITBC_BRIDGE_TLS_KEY)")
  @Nullable Path tlsKey;

  @Option(names = "--coordinator-tls", defaultValue = "${env:AITBC_TLS:-false}",
      description = "reach the coordinator over TLS, trusting the JDK's CAs unless --coordinator-tls-ca names one; "
          + "implied by the other --coordinator-tls options (env AITBC_TLS)")
  boolean coordinatorTls;

  @Option(names = "--coordinator-tls-ca", paramLabel = "PEM", defaultValue = "${env:AITBC_TLS_CA}",
      description = "the CA certificate(s) that signed the coordinator's certificate (env AITBC_TLS_CA)")
  @Nullable Path coordinatorCa;

  @Option(names = "--coordinator-tls-cert", paramLabel = "PEM", defaultValue = "${env:AITBC_TLS_CERT}",
      description = "a client certificate to present to the coordinator (env AITBC_TLS_CERT)")
  @Nullable Path coordinatorCert;

  @Option(names = "--coordinator-tls-key", paramLabel = "PEM", defaultValue = "${env:AITBC_TLS_KEY}",
      description = "that certificate's PKCS#8 private key (env AITBC_TLS_KEY)")
  @Nullable Path coordinatorKey;

  @Option(names = "--env", defaultValue = "${env:AITBC_ENV:-prod}",
      description = "environment label shown by /health (env AITBC_ENV; default ${DEFAULT-VALUE})")
  String env;

  @Override
  public Integer call() {
    BridgeConfig config = BridgeConfig.defaults().withListen(host, port).withCoordinator(coordinator).withEnv(env)
        .withTls(TlsOptions.server(tlsCert, tlsKey, null, "--tls-cert", "--tls-key"))
        .withCoordinatorTls(TlsOptions.client(coordinatorTls, coordinatorCa, coordinatorCert, coordinatorKey));
    if (Startup.run("the bridge", stop -> Bridge.start(config)) != null) {
      GridMain.awaitShutdown();
    }
    return 0;
  }
}
