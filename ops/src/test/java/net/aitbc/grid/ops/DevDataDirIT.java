package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.aitbc.grid.ops.process.GridProcess;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grid dev --data-dir D} as a user meets it, with real processes: its commits are durable;
 * killed with SIGKILL it leaves its PostgreSQL running on D, and the next {@code grid dev} on D stops
 * that server, starts, and still has the job submitted before; a clean stop leaves nothing running.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class DevDataDirIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String KEY = "dev-key-for-the-data-dir-test";
  private static final Duration UP_WITHIN = Duration.ofSeconds(120);
  private static final Pattern PG_PORT = Pattern.compile("embedded PostgreSQL on port (\\d+)");
  private static final Pattern BRIDGE = Pattern.compile("REST bridge +(http://127\\.0\\.0\\.1:\\d+)");
  private static final Pattern SIGNING_KEY = Pattern.compile("signing key +([A-Za-z0-9_-]{43}) +\\(kept in ");

  @TempDir Path tmp;

  private GridProcess dev(String name, Path data) {
    return GridProcess.builder(name, tmp.resolve(name + ".log")).directory(tmp).jvmOptions(StopCleanlyIT.JVM)
        .start("dev", "--data-dir", data.toString(), "--client-key", KEY, "--grpc-port", "0", "--http-port", "0",
            "--metrics-port", "-1", "--ollama-url", "http://127.0.0.1:1");
  }

  private static String find(GridProcess p, Pattern pattern) {
    for (String line : p.lines()) {
      Matcher m = pattern.matcher(line);
      if (m.find()) {
        return m.group(1);
      }
    }
    throw new AssertionError("no /" + pattern + "/ in\n" + p.tail(40));
  }

  private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder request) throws Exception {
    return http.send(request.header("X-Api-Key", KEY).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aKilledGridDevStartsAgainOnItsDataAndItsCommitsAreDurable() throws Exception {
    Path data = tmp.resolve("data");
    try (HttpClient http = HttpClient.newHttpClient()) {
      GridProcess first = dev("dev-1", data);
      String jobId;
      long leftPid;
      String signingKey;
      try {
        first.awaitLog("dev mode is up", UP_WITHIN);
        assertThat(first.lines()).anyMatch(l -> l.contains("data in " + data + " (durable: a commit is on disk"));
        signingKey = find(first, SIGNING_KEY);
        assertThat(first.lines()).anyMatch(l -> l.contains("(kept in " + data.resolve("signing.key") + ")"));
        assertThat(Files.readString(data.resolve("coordinator.pub")).trim()).isEqualTo(signingKey);
        try (Connection c = DriverManager.getConnection(
            "jdbc:postgresql://127.0.0.1:" + find(first, PG_PORT) + "/postgres?user=postgres")) {
          DSLContext db = DSL.using(c, SQLDialect.POSTGRES);
          for (String setting : List.of("synchronous_commit", "fsync", "full_page_writes")) {
            assertThat(DevGridIT.setting(db, setting)).as(setting).isEqualTo("on");
          }
        }
        String bridge = find(first, BRIDGE);
        HttpResponse<String> created = send(http, HttpRequest.newBuilder(URI.create(bridge + "/v1/jobs"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(
                "{\"payload\":{\"type\":\"embedding\",\"prompt\":\"kept across a crash\"},\"ttl_seconds\":600}")));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        jobId = JSON.readTree(created.body()).get("job_id").asText();
        await().atMost(60, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() ->
            send(http, HttpRequest.newBuilder(URI.create(bridge + "/v1/jobs/" + jobId + "/result"))).statusCode() == 200);

        first.kill();
        // SIGKILL gives grid dev no chance to stop its PostgreSQL: it is still running on the data.
        leftPid = Long.parseLong(Files.readAllLines(data.resolve("postmaster.pid")).getFirst().trim());
        assertThat(ProcessHandle.of(leftPid).map(ProcessHandle::isAlive)).contains(true);
      } finally {
        first.destroy();
      }

      GridProcess second = dev("dev-2", data);
      try {
        second.awaitLog("dev mode is up", UP_WITHIN);
        assertThat(second.lines()).anyMatch(l -> l.contains("PostgreSQL (pid " + leftPid + ") is still running on "
            + data + ", left by a grid dev that did not stop; stopping it"));
        assertThat(ProcessHandle.of(leftPid).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
        String bridge = find(second, BRIDGE);
        HttpResponse<String> result = send(http, HttpRequest.newBuilder(URI.create(bridge + "/v1/jobs/" + jobId + "/result")));
        assertThat(result.statusCode()).as(result.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(result.body());
        assertThat(body.get("state").asText()).isEqualTo("COMPLETED");
        assertThat(body.get("result").get("embedding")).hasSize(384);

        // The same signing key: the ledger sealed before the crash still verifies with coordinator.pub.
        assertThat(find(second, SIGNING_KEY)).isEqualTo(signingKey);
        await().atMost(30, TimeUnit.SECONDS).pollInterval(100, TimeUnit.MILLISECONDS).until(() -> JSON.readTree(
            send(http, HttpRequest.newBuilder(URI.create(bridge + "/v1/sync-status"))).body()).path("unsealed").asInt(-1) == 0);
        CliRun verify = CliRun.grid("verify", "ledger", "--url", bridge, "--api-key", KEY, "--public-key",
            data.resolve("coordinator.pub").toString());
        assertThat(verify.status()).as(verify.out() + verify.err()).isZero();
        assertThat(verify.out()).contains("1 leaf;");

        second.terminate();
        assertThat(second.awaitExit(Duration.ofSeconds(60))).isIn(0, 143);
        assertThat(data.resolve("postmaster.pid")).as("a clean stop leaves no PostgreSQL on the data").doesNotExist();
      } finally {
        second.destroy();
        if (Files.exists(data.resolve("postmaster.pid"))) {
          LeftoverPostmaster.stopIfLeft(data.toAbsolutePath().normalize());
        }
      }
    }
  }
}
