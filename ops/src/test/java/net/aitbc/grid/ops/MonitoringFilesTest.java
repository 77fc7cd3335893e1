package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert rules, their promtool tests and the Grafana dashboard name only metrics the
 * coordinator exports, every alert has a promtool case where it fires and one where it does not,
 * and the dashboard's queries parse. (promtool itself checks and runs the rules in .ci/run.)
 */
class MonitoringFilesTest {
  private static final Path RULES = Path.of("prometheus", "grid-rules.yml");
  private static final Path RULE_TESTS = Path.of("prometheus", "grid-rules.test.yml");
  private static final Path DASHBOARD = Path.of("grafana", "grid-dashboard.json");
  private static final Pattern METRIC = Pattern.compile("\\b(?:grid|jvm|process|system)_[a-z0-9_]+");

  /** Reads YAML (and JSON, which is YAML) into maps and lists. */
  private final KubernetesSerialization yaml = new KubernetesSerialization();

  @Test
  void everyMetricNamedIsOneTheCoordinatorExports() throws IOException {
    Set<String> exported = exported();
    assertThat(exported).contains("grid_workers_connected", "grid_queue_depth", "grid_dispatch_latency_seconds_bucket",
        "jvm_memory_used_bytes");
    for (Path file : List.of(RULES, RULE_TESTS, DASHBOARD)) {
      Set<String> named = new TreeSet<>();
      Matcher m = METRIC.matcher(Files.readString(file));
      while (m.find()) {
        named.add(m.group());
      }
      assertThat(named).as("metrics named in %s", file).isNotEmpty();
      assertThat(exported).as("metrics named in %s", file).containsAll(named);
    }
  }

  @Test
  void everyAlertHasACaseWhereItFiresAndOneWhereItDoesNot() throws IOException {
    Set<String> alerts = new TreeSet<>();
    for (Object group : list(map(yaml.unmarshal(Files.readString(RULES), Map.class)).get("groups"))) {
      for (Object rule : list(map(group).get("rules"))) {
        alerts.add((String) map(rule).get("alert"));
      }
    }
    assertThat(alerts).hasSizeGreaterThanOrEqualTo(6);
    Set<String> fires = new TreeSet<>();
    Set<String> quiet = new TreeSet<>();
    for (Object test : list(map(yaml.unmarshal(Files.readString(RULE_TESTS), Map.class)).get("tests"))) {
      for (Object check : list(map(test).get("alert_rule_test"))) {
        String name = (String) map(check).get("alertname");
        (list(map(check).get("exp_alerts")).isEmpty() ? quiet : fires).add(name);
      }
    }
    assertThat(fires).as("alerts tested firing").isEqualTo(alerts);
    assertThat(quiet).as("alerts tested quiet").isEqualTo(alerts);
  }

  @Test
  void dashboardPanelsHaveUniqueIdsAndQueriesOnTheDataSourceVariable() throws IOException {
    Map<?, ?> dashboard = map(yaml.unmarshal(Files.readString(DASHBOARD), Map.class));
    assertThat(dashboard.get("uid")).isEqualTo("aitbc-grid");
    Set<Object> ids = new TreeSet<>();
    int queries = 0;
    for (Object p : list(dashboard.get("panels"))) {
      Map<?, ?> panel = map(p);
      assertThat(ids.add(panel.get("id"))).as("panel id %s is unique", panel.get("id")).isTrue();
      if (!"row".equals(panel.get("type"))) {
        assertThat(map(panel.get("datasource")).get("uid")).isEqualTo("${datasource}");
        for (Object t : list(panel.get("targets"))) {
          assertThat((String) map(t).get("expr")).as("panel %s", panel.get("title")).isNotBlank();
          queries++;
        }
      }
    }
    assertThat(queries).isGreaterThan(10);
  }

  @Test
  void dashboardQueriesParseAsPromQl(@TempDir Path tmp) throws Exception {
    // promtool is what .ci/run installs before the Maven run; without it (a developer's machine
    // that never ran .ci/run) this check is skipped.
    Path promtool = Path.of("..", ".ci", ".tools", "bin", "promtool");
    assumeTrue(Files.isExecutable(promtool), "no " + promtool + " (.ci/run installs it)");
    // Each query as a recording rule, Grafana's variables replaced, so that promtool parses it.
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int n = 0;
    for (Object p : list(map(yaml.unmarshal(Files.readString(DASHBOARD), Map.class)).get("panels"))) {
      for (Object t : map(p).containsKey("targets") ? list(map(p).get("targets")) : List.of()) {
        String expr = ((String) map(t).get("expr")).replace("$__rate_interval", "5m").replace("$instance", ".*");
        rules.append("      - record: dashboard:query").append(n++).append("\n        expr: '")
            .append(expr.replace("'", "''")).append("'\n");
      }
    }
    Path file = Files.writeString(tmp.resolve("dashboard-rules.yml"), rules);
    Process check = new ProcessBuilder(promtool.toString(), "check", "rules", file.toString())
        .redirectErrorStream(true).start();
    String out = new String(check.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(check.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(check.exitValue()).as(out).isZero();
    assertThat(out).contains("SUCCESS: " + n + " rules found");
  }

  /** The names in a scrape of the coordinator's meters, with the lazily registered ones made. */
  private static Set<String> exported() {
    String scrape;
    try (GridMetrics metrics = new GridMetrics(() -> 0, () -> 0)) {
      metrics.queueDepth(Map.of("embedding", 1));
      metrics.ran("embedding", 5);
      metrics.streamMessage(true, "HEARTBEAT");
      metrics.<String, Object>timed("submit", batch -> null).apply(List.of("job"));
      metrics.ledgerLag(() -> 0);
      // The GC pause timer appears with the first collection the JVM reports.
      System.gc();
      await().atMost(Duration.ofSeconds(10)).until(() -> metrics.scrape().contains("jvm_gc_pause_seconds_sum"));
      scrape = metrics.scrape();
    }
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  private static Map<?, ?> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<?, ?>) o;
  }

  private static List<?> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return new ArrayList<>((List<?>) o);
  }
}
