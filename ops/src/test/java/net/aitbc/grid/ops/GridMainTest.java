package net.aitbc.grid.ops;

import static net.aitbc.grid.ops.CliRun.grid;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code grid} refuses what it does not know, at every level, also next to {@code --help}. */
class GridMainTest {
  /** Every command path: [], [dev], [keys], [keys, create], … [bench, scale], … */
  private static List<List<String>> commandPaths() {
    List<List<String>> paths = new ArrayList<>();
    collect(GridMain.commandLine(), new ArrayList<>(), paths);
    return paths;
  }

  private static void collect(CommandLine cli, List<String> path, List<List<String>> paths) {
    paths.add(List.copyOf(path));
    cli.getSubcommands().forEach((name, sub) -> {
      if (!name.equals("help")) {
        List<String> next = new ArrayList<>(path);
        next.add(name);
        collect(sub, next, paths);
      }
    });
  }

  private static String[] args(List<String> path, String... more) {
    return Stream.concat(path.stream(), Stream.of(more)).toArray(String[]::new);
  }

  @Test
  void unknownSubcommandIsRefusedAlsoWithHelp() {
    for (String[] args : List.of(new String[] {"audit"}, new String[] {"audit", "--help"},
        new String[] {"--help", "audit"}, new String[] {"-h", "audit"}, new String[] {"keys", "--help", "bogus"},
        new String[] {"bench", "--help", "bogus"})) {
      CliRun run = grid(args);
      assertThat(run.status()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(run.err()).as(String.join(" ", args)).contains("Unmatched argument").containsPattern("'(audit|bogus)'");
      assertThat(run.out()).as(String.join(" ", args)).isEmpty();
    }
    CliRun help = grid("help", "audit");
    assertThat(help.status()).isNotZero();
    assertThat(help.err()).contains("Unknown subcommand 'audit'");
  }

  @Test
  void unknownOptionIsRefusedAtEveryLevelAlsoWithHelp() {
    List<List<String>> paths = commandPaths();
    assertThat(paths).contains(List.of(), List.of("dev"), List.of("worker"), List.of("coordinator"), List.of("bridge"),
        List.of("keys", "create"), List.of("keys", "list"), List.of("keys", "revoke"), List.of("keys", "signing-key"),
        List.of("verify", "receipt"), List.of("verify", "ledger"), List.of("bench", "scale"), List.of("bench", "compare"));
    for (List<String> path : paths) {
      for (String[] args : List.of(args(path, "--bogus"), args(path, "--bogus", "--help"), args(path, "--help", "--bogus"))) {
        CliRun run = grid(args);
        assertThat(run.status()).as(String.join(" ", args)).isEqualTo(2);
        assertThat(run.err()).as(String.join(" ", args)).contains("Unknown option: '--bogus'");
        assertThat(run.out()).as(String.join(" ", args)).isEmpty();
      }
    }
  }

  @Test
  void unknownWordAfterALeafCommandIsRefusedAlsoWithHelp() {
    for (String[] args : List.of(new String[] {"keys", "list", "extra"}, new String[] {"keys", "list", "--help", "extra"},
        new String[] {"dev", "--help", "extra"}, new String[] {"bench", "compare", "--help", "extra"})) {
      CliRun run = grid(args);
      assertThat(run.status()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(run.err()).as(String.join(" ", args)).contains("Unmatched argument").contains("'extra'");
    }
  }

  @Test
  void helpAloneStillPrintsUsageAndSucceeds() {
    for (List<String> path : commandPaths()) {
      CliRun run = grid(args(path, "--help"));
      assertThat(run.status()).as(String.join(" ", path)).isZero();
      assertThat(run.out()).as(String.join(" ", path)).startsWith("Usage: grid");
      assertThat(run.err()).as(String.join(" ", path)).isEmpty();
    }
    assertThat(grid("help", "keys").out()).startsWith("Usage: grid keys");
    assertThat(grid("--version").out()).contains("AITBC Grid");
  }
}
