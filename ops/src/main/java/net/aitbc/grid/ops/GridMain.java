package net.aitbc.grid.ops;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code grid} command: {@code dev}, {@code coordinator}, {@code bridge}, {@code worker}, {@code keys}, {@code bench}. */
@Command(
    name = "grid",
    mixinStandardHelpOptions = true,
    version = "AITBC Grid 0.1.0",
    description = "AITBC Grid: a gRPC-first compute grid for AI work.",
    subcommands = {
      DevCommand.class,
      CoordinatorCommand.class,
      BridgeCommand.class,
      WorkerCommand.class,
      KeysCommand.class,
      net.aitbc.grid.ops.bench.BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class GridMain {
  private GridMain() {}

  /** Runs a subcommand and exits with its status. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line, with errors reported as one line instead of a stack trace. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new GridMain());
    cli.setExecutionExceptionHandler((e, line, parsed) -> {
      line.getErr().println(line.getColorScheme().errorText("grid: " + e.getMessage()));
      return 1;
    });
    return cli;
  }

  /** Blocks until the JVM is asked to stop; shutdown hooks do the closing. */
  static void awaitShutdown() {
    try {
      Thread.currentThread().join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
