package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import net.aitbc.grid.worker.backend.EmbeddingBatching;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class WorkerCommandTest {
  private static WorkerCommand parse(String... args) {
    WorkerCommand command = new WorkerCommand();
    new CommandLine(command).parseArgs(args);
    return command;
  }

  @Test
  void embeddedBackendIsOnUnlessTurnedOff() {
    assertThat(parse().embedded).isTrue();
    assertThat(parse("--embedded").embedded).isTrue();
    assertThat(parse("--no-embedded").embedded).isFalse();
    assertThat(parse().noop).isFalse();
    assertThat(parse("--noop").noop).isTrue();
  }

  @Test
  void swarmsAreRepeatableOrCommaSeparatedAndReachTheConfig() {
    assertThat(parse("--api-key", "k").config().swarms()).isEmpty();
    assertThat(parse("--api-key", "k", "--swarm", "embedding-eu", "--swarm", "gpu.v2_a").config().swarms())
        .containsExactly("embedding-eu", "gpu.v2_a");
    assertThat(parse("--api-key", "k", "--swarm", "a,b", "--swarm", "a").config().swarms()).containsExactly("a", "b");
  }

  @Test
  void aBadSwarmNameIsRefusedNamingTheOption() {
    assertThatThrownBy(() -> parse("--api-key", "k", "--swarm", "no spaces").config())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--swarm: swarm name must be 1 to 64 letters, digits, '-', '_' or '.', got 'no spaces'");
    CliRun run = CliRun.grid("worker", "--api-key", "k", "--swarm", "x".repeat(65));
    assertThat(run.status()).isEqualTo(1);
    assertThat(run.err()).contains("grid: --swarm: swarm name must be 1 to 64", "got 'xxxx");
  }

  @Test
  void embeddingJobsAreBatchedOnlyWhenAWindowIsGiven() {
    assertThat(parse("--api-key", "k").config().embeddingBatching()).isEqualTo(EmbeddingBatching.OFF);
    assertThat(parse("--api-key", "k", "--embedding-batch-window", "5ms", "--embedding-max-batch", "8").config()
        .embeddingBatching()).isEqualTo(new EmbeddingBatching(Duration.ofMillis(5), 8));
    EmbeddingBatching off = parse("--api-key", "k", "--embedding-batch-window", "0").config().embeddingBatching();
    assertThat(off.enabled()).isFalse();
  }

  @Test
  void aBadBatchSettingIsRefusedNamingTheOption() {
    CliRun big = CliRun.grid("worker", "--api-key", "k", "--embedding-max-batch", "0");
    assertThat(big.status()).isEqualTo(1);
    assertThat(big.err()).contains("grid: --embedding-max-batch must be 1 to 1024, got 0");
    CliRun slow = CliRun.grid("worker", "--api-key", "k", "--embedding-batch-window", "2s");
    assertThat(slow.status()).isEqualTo(1);
    assertThat(slow.err()).contains("grid: --embedding-batch-window must be 0 to 1000ms, got 2000ms");
  }
}
