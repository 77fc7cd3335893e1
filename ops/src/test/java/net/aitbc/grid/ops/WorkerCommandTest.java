package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;

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
}
