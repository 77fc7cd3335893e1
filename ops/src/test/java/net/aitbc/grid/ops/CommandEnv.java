package net.aitbc.grid.ops;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** The environment variables a {@code grid} subcommand reads, for checking deployment files against. */
final class CommandEnv {
  private static final Pattern ENV_DEFAULT = Pattern.compile("\\$\\{env:([A-Z0-9_]+)");

  private CommandEnv() {}

  /** The variables {@code grid <command>} reads: its options' {@code ${env:NAME}} defaults, and the signing seed. */
  static Set<String> read(String command) {
    // Uninterpolated, the defaults still say ${env:NAME:-...}.
    CommandLine sub = GridMain.commandLine().setInterpolateVariables(false).getSubcommands().get(command);
    if (sub == null) {
      throw new IllegalArgumentException("no command grid " + command);
    }
    Set<String> names = new TreeSet<>();
    for (OptionSpec option : sub.getCommandSpec().options()) {
      if (option.defaultValue() != null) {
        Matcher m = ENV_DEFAULT.matcher(option.defaultValue());
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    if (command.equals("coordinator")) {
      names.add(SigningKeyOptions.SEED_ENV);
    }
    return names;
  }
}
