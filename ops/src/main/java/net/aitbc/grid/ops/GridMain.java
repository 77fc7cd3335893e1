package net.aitbc.grid.ops;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code grid} command: {@code dev}, {@code coordinator}, {@code bridge}, {@code worker}, {@code keys}, {@code verify}, {@code bench}. */
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
      AccountsCommand.class,
      net.aitbc.grid.ops.verify.VerifyCommand.class,
      net.aitbc.grid.ops.bench.BenchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class GridMain {
  private GridMain() {}

  /** Runs a subcommand and exits with its status. */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The command line, with errors reported as one line instead of a stack trace, and unknown words
   * refused at every level even next to {@code --help}.
   */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new GridMain());
    cli.setExecutionExceptionHandler((e, line, parsed) -> {
      line.getErr().println(line.getColorScheme().errorText("grid: " + e.getMessage()));
      return 1;
    });
    cli.setExecutionStrategy(GridMain::refuseUnmatched);
    CommandLine.IParameterExceptionHandler usage = cli.getParameterExceptionHandler();
    cli.setParameterExceptionHandler((e, args) -> usage.handleParseException(unknownFirst(cli, e, args), args));
    return cli;
  }

  /**
   * Picocli reports missing required options before unknown ones, so {@code grid keys create
   * --bogus} would not name {@code --bogus}: look for unknown words the way {@code --help} parses
   * (required options unchecked) and report those instead.
   */
  private static CommandLine.ParameterException unknownFirst(CommandLine cli, CommandLine.ParameterException e,
      String[] args) {
    if (!(e instanceof CommandLine.MissingParameterException)) {
      return e;
    }
    String[] withHelp = java.util.Arrays.copyOf(args, args.length + 1);
    withHelp[args.length] = "--help";
    CommandLine.ParseResult level;
    try {
      level = new CommandLine(new GridMain()).parseArgs(withHelp);
    } catch (CommandLine.ParameterException other) {
      return e;
    }
    // Walk the original command line alongside, so that the report goes to its writers.
    CommandLine same = cli;
    while (level != null && level.unmatched().isEmpty()) {
      level = level.subcommand();
      if (level != null) {
        same = same.getSubcommands().get(level.commandSpec().name());
      }
    }
    return level == null || same == null ? e : new CommandLine.UnmatchedArgumentException(same, level.unmatched());
  }

  /**
   * Picocli stops checking arguments once it sees {@code --help}, so {@code grid verify --help}
   * would print the top-level help and exit 0; refuse what no command matched first, as picocli
   * does without {@code --help} (message and usage on stderr, exit status 2).
   */
  private static int refuseUnmatched(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult level = parsed; level != null; level = level.subcommand()) {
      if (!level.unmatched().isEmpty()) {
        throw new CommandLine.UnmatchedArgumentException(level.commandSpec().commandLine(), level.unmatched());
      }
    }
    return new CommandLine.RunLast().execute(parsed);
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
