package net.aitbc.grid.ops;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/**
 * A command line run in this JVM, with what it printed on its own out and err writers.
 *
 * @param status its exit status
 * @param out what it printed on stdout
 * @param err what it printed on stderr
 */
public record CliRun(int status, String out, String err) {
  /** Runs {@code grid <args>} as GridMain sets it up. */
  public static CliRun grid(String... args) {
    return run(GridMain.commandLine(), args);
  }

  /** Runs {@code cli} with {@code args}. */
  public static CliRun run(CommandLine cli, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int status = cli.execute(args);
    return new CliRun(status, out.toString(), err.toString());
  }
}
