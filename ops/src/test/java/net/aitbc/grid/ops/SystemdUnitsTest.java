package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The systemd units under {@code ops/systemd} run the right command as their own user, restart on
 * failure, wait for a graceful stop, and read settings that the command knows.
 */
class SystemdUnitsTest {
  private static final Path DIR = Path.of("systemd");
  private static final Pattern ENV_LINE = Pattern.compile("^#?([A-Z][A-Z0-9_]*)=", Pattern.MULTILINE);

  @Test
  void coordinatorUnitRunsTheCoordinatorAndStopsGracefully() throws IOException {
    Map<String, List<String>> unit = service("grid-coordinator");
    checkCommon(unit, "coordinator", "aitbc-grid");
    assertThat(unit.get("PrivateDevices")).containsExactly("yes");
    // The coordinator's shutdown waits up to 10 s for workers and calls.
    assertThat(seconds(unit, "TimeoutStopSec")).isGreaterThan(Duration.ofSeconds(10));
  }

  @Test
  void workerUnitRunsTheWorkerKeepsItsKeyAndOutwaitsItsDrain() throws IOException {
    Map<String, List<String>> unit = service("grid-worker");
    checkCommon(unit, "worker", "aitbc-worker");
    assertThat(unit.get("StateDirectory")).containsExactly("aitbc-worker");
    assertThat(unit.get("Environment")).contains("AITBC_WORKER_STATE_DIR=/var/lib/aitbc-worker");
    // The GPUs are devices: a private /dev would hide them.
    assertThat(unit).doesNotContainKey("PrivateDevices");
    WorkerCommand defaults = new WorkerCommand();
    new CommandLine(defaults).parseArgs();
    assertThat(seconds(unit, "TimeoutStopSec")).isGreaterThan(defaults.drainTimeout);
  }

  @Test
  void environmentFilesSetOnlyVariablesTheCommandsRead() throws IOException {
    // GRID_ARGS and GRID_JAVA_OPTS are the units' own: more flags, and JVM options.
    for (String command : List.of("coordinator", "worker")) {
      Matcher m = ENV_LINE.matcher(Files.readString(DIR.resolve(command + ".env.example")));
      List<String> named = new ArrayList<>();
      while (m.find()) {
        named.add(m.group(1));
      }
      assertThat(named).isNotEmpty();
      for (String name : named) {
        if (!name.startsWith("GRID_")) {
          assertThat(CommandEnv.read(command)).as("%s.env.example sets %s", command, name).contains(name);
        }
      }
    }
  }

  private static void checkCommon(Map<String, List<String>> unit, String command, String user) {
    assertThat(unit.get("ExecStart")).singleElement().asString()
        .endsWith("-jar /opt/aitbc-grid/grid.jar " + command + " $GRID_ARGS")
        .contains("--enable-native-access=ALL-UNNAMED");
    assertThat(unit.get("User")).containsExactly(user);
    assertThat(unit.get("EnvironmentFile")).containsExactly("/etc/aitbc-grid/" + command + ".env");
    assertThat(unit.get("Restart")).containsExactly("on-failure");
    assertThat(unit.get("SuccessExitStatus")).as("the JVM's exit after SIGTERM").containsExactly("143");
    for (String hardening : List.of("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp")) {
      assertThat(unit.get(hardening)).as(hardening).isNotNull().doesNotContain("no");
    }
  }

  /** The unit's settings, continuation lines joined; a key set twice keeps both values. */
  private static Map<String, List<String>> service(String name) throws IOException {
    Map<String, List<String>> settings = new TreeMap<>();
    String text = Files.readString(DIR.resolve(name + ".service")).replaceAll("\\\\\n\\s*", "");
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (!line.startsWith("#") && !line.startsWith("[") && eq > 0) {
        settings.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>())
            .add(line.substring(eq + 1).replaceAll("\\s+", " ").trim());
      }
    }
    return settings;
  }

  private static Duration seconds(Map<String, List<String>> unit, String key) {
    String value = unit.get(key).getFirst();
    assertThat(value).matches("\\d+s");
    return Duration.ofSeconds(Long.parseLong(value.substring(0, value.length() - 1)));
  }
}
