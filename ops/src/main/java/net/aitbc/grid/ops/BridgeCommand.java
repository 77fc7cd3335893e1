package net.aitbc.grid.ops;

import java.util.concurrent.Callable;
import net.aitbc.grid.bridge.Bridge;
import net.aitbc.grid.bridge.BridgeConfig;
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
      description = "the coordinator's gRPC address (env AITBC_COORDINATOR; default ${DEFAULT-VALUE})")
  String coordinator;

  @Option(names = "--env", defaultValue = "${env:AITBC_ENV:-prod}",
      description = "environment label shown by /health (env AITBC_ENV; default ${DEFAULT-VALUE})")
  String env;

  @Override
  public Integer call() {
    BridgeConfig config = BridgeConfig.defaults().withListen(host, port).withCoordinator(coordinator).withEnv(env);
    if (Startup.run("the bridge", stop -> Bridge.start(config)) != null) {
      GridMain.awaitShutdown();
    }
    return 0;
  }
}
