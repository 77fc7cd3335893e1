package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code grid dev}'s worker options: checked before anything starts. */
class DevCommandTest {
  private static DevCommand parse(String... args) {
    DevCommand command = new DevCommand();
    new CommandLine(command).parseArgs(args);
    return command;
  }

  @Test
  void oneWorkerInNoSwarmByDefault() {
    DevCommand dev = parse();
    assertThat(dev.workers).isEqualTo(1);
    assertThat(dev.workerSwarms).isEmpty();
    assertThat(new DevGrid.Workers(dev.workers, dev.workerSwarms, null)).isEqualTo(DevGrid.Workers.DEFAULTS);
    assertThat(new DevGrid.Workers(dev.workers, dev.workerSwarms, null, dev.batching.batching()))
        .isEqualTo(DevGrid.Workers.DEFAULTS);
    assertThat(parse("--embedding-batch-window", "0").batching.batching().enabled()).isFalse();
    assertThat(parse("--workers", "16", "--worker-swarm", "a", "--worker-swarm", "b").workerSwarms)
        .containsExactly("a", "b");
  }

  @Test
  void workerIdsKeepTheFirstOnesName() {
    assertThat(List.of(DevWorkers.workerId(1), DevWorkers.workerId(2), DevWorkers.workerId(16)))
        .containsExactly("dev-worker", "dev-worker-2", "dev-worker-16");
  }

  @Test
  void aBadCountOrSwarmFailsAtOnceNamingTheOption() {
    for (String count : List.of("0", "17", "-1")) {
      CliRun run = CliRun.grid("dev", "--workers", count);
      assertThat(run.status()).isEqualTo(1);
      assertThat(run.err()).contains("grid: --workers must be from 1 to 16, got " + count);
    }
    CliRun swarm = CliRun.grid("dev", "--worker-swarm", "a b");
    assertThat(swarm.status()).isEqualTo(1);
    assertThat(swarm.err()).contains("grid: --worker-swarm: swarm name must be 1 to 64 letters, digits, '-', '_' or"
        + " '.', got 'a b'");
  }

  @Test
  void theMinersWorkerKeyIsAnOptionOrAnEnvironmentVariableAndNotTheClientKey() {
    assertThat(parse("--worker-key", "wk").workerKey).isEqualTo("wk");
    CliRun same = CliRun.grid("dev", "--client-key", "k", "--worker-key", "k");
    assertThat(same.status()).isEqualTo(1);
    assertThat(same.err()).contains("--worker-key must differ from --client-key");
  }

  @Test
  void theResultCacheIsOffUnlessGivenATimeToLive() {
    assertThat(parse().ledger.resultCacheTtl).isZero();
    assertThat(parse("--result-cache-ttl", "24h").ledger.resultCacheTtl).isEqualTo(java.time.Duration.ofHours(24));
    assertThat(parse("--result-cache-max-bytes", "1024").ledger.resultCacheMaxBytes).isEqualTo(1024);
  }
}
