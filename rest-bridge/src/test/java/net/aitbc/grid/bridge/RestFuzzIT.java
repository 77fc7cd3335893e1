package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import net.aitbc.grid.bridge.FuzzRequests.Fuzzed;
import net.aitbc.grid.bridge.Grid.Reply;
import net.aitbc.grid.bridge.RawHttp.Answer;
import net.aitbc.grid.coordinator.auth.Role;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ten thousand seeded bad requests ({@code -Dfuzz.seed=S} replays a run) get a 4xx with a JSON
 * {@code detail} or a closed connection, never a 5xx or a hang, and the grid still serves afterwards.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(Grid.PerClass.class)
class RestFuzzIT {
  private static final long DEFAULT_SEED = 0x5EED_2026_0301L;
  private static final int THREADS = 8;
  /** Far above any honest answer's time (the slowest are 1 MiB bodies); below the bridge's 30 s request timeout. */
  private static final Duration HANG = Duration.ofSeconds(8);
  private static final int SHOWN = 40;

  /** Numbers beyond PostgreSQL's numeric range in a payload, which once reached the database. */
  private static final List<String> EXTREME_NUMBERS =
      List.of("1e200000", "-1e-20000", "{\"x\": 1E+131072}", "[1e-16384]");

  private final Grid grid;
  private String knownJobId;

  RestFuzzIT(Grid grid) {
    this.grid = grid;
  }

  @BeforeAll
  void endAKnownJob() {
    knownJobId = grid.submit(grid.clientKey, "fuzz");
    assertThat(grid.post("/v1/jobs/" + knownJobId + "/cancel", grid.clientKey).status()).isEqualTo(200);
  }

  @Test
  @Order(1)
  void tenThousandBadRequestsGetNo5xx() throws Exception {
    long seed = seed();
    int total = Integer.getInteger("fuzz.requests", 10_000);
    FuzzRequests requests = new FuzzRequests(grid.bridge.port(), grid.clientKey, grid.otherClientKey, grid.workerKey,
        knownJobId, EXTREME_NUMBERS);
    System.out.println("RestFuzzIT: seed " + seed + " (replay with -Dfuzz.seed=" + seed + "), " + total + " requests");

    Map<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
    Queue<String> failures = new ConcurrentLinkedQueue<>();
    // -Dfuzz.trace=true writes every request's status, time and label to RestFuzzIT-trace.txt.
    Queue<String> trace = Boolean.getBoolean("fuzz.trace") ? new ConcurrentLinkedQueue<>() : null;
    AtomicInteger next = new AtomicInteger();
    AtomicLong slowest = new AtomicLong();
    long start = System.nanoTime();
    try (RawHttp http = new RawHttp(grid.bridge.port(), HANG)) {
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      for (int t = 0; t < THREADS; t++) {
        pool.execute(() -> {
          for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
            Fuzzed f = requests.generate(seed, i);
            Answer a = http.exchange(f.bytes(), f.head());
            byStatus.computeIfAbsent(a.status(), s -> new LongAdder()).increment();
            slowest.accumulateAndGet(a.took().toMillis(), Math::max);
            if (trace != null) {
              trace.add(String.format(Locale.ROOT, "#%d %s %dms %s", f.index(), name(a.status()), a.took().toMillis(),
                  f.label()));
            }
            String problem = problem(a);
            if (problem != null) {
              failures.add("#" + f.index() + " " + f.label() + " -> " + problem);
            }
          }
        });
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(5, TimeUnit.MINUTES)).as("the fuzz run finished").isTrue();
    }
    Duration wall = Duration.ofNanos(System.nanoTime() - start);

    Map<String, Long> counts = new TreeMap<>();
    byStatus.forEach((status, n) -> counts.put(name(status), n.sum()));
    long served = byStatus.values().stream().mapToLong(LongAdder::sum).sum();
    long fiveXx = byStatus.entrySet().stream().filter(e -> e.getKey() >= 500).mapToLong(e -> e.getValue().sum()).sum();
    String summary = String.format(Locale.ROOT,
        "RestFuzzIT: total=%d statuses=%s 5xx=%d problems=%d seed=%d wall=%.1fs slowest=%dms",
        served, counts, fiveXx, failures.size(), seed, wall.toMillis() / 1000.0, slowest.get());
    System.out.println(summary);
    Path report = Path.of("target", "reliability", "RestFuzzIT.txt");
    Files.createDirectories(report.getParent());
    List<String> lines = new ArrayList<>(List.of(summary));
    lines.addAll(failures);
    Files.write(report, lines, StandardCharsets.UTF_8);
    if (trace != null) {
      Files.write(report.resolveSibling("RestFuzzIT-trace.txt"), trace, StandardCharsets.UTF_8);
    }

    List<String> shown = failures.stream().sorted().limit(SHOWN).toList();
    assertThat(served).isEqualTo(total);
    assertThat(failures).as("%d problems (first %d; all in %s):%n%s", failures.size(), shown.size(), report,
        String.join("\n", shown)).isEmpty();
    assertThat(fiveXx).isZero();
  }

  @Test
  @Order(2)
  void gridStillServesGoodRequestsAfterwards() {
    // A fresh client: the fuzz's key may have used up a rate limit or queue cap of its own.
    String key = grid.coordinator.createKey(Role.CLIENT, "after-fuzz");
    String id = grid.submit(key, "after-fuzz");
    Reply status = grid.get("/v1/jobs/" + id, key);
    Reply health = grid.get("/health", null);

    assertThat(status.status()).as(status.body()).isEqualTo(200);
    assertThat(status.json().get("state").asText()).isEqualTo("QUEUED");
    assertThat(health.status()).isEqualTo(200);
    assertThat(health.json().get("status").asText()).isEqualTo("ok");
    assertThat(health.json().get("coordinator").asText()).isEqualTo("SERVING");
    assertThat(grid.get("/v1/jobs?limit=1", grid.clientKey).status()).isEqualTo(200);
    assertThat(grid.get("/v1/jobs/" + knownJobId, grid.clientKey).json().get("state").asText()).isEqualTo("CANCELED");
  }

  /** What is wrong with an answer, or null: a 5xx, a hang, or an error body that is not {@code {"detail": "..."}}. */
  private String problem(Answer a) {
    if (a.status() == RawHttp.TIMED_OUT) {
      return "no answer within " + HANG.toSeconds() + " s (" + a.incomplete() + ")";
    }
    if (a.status() >= 500) {
      return a.status() + " " + a.text();
    }
    if (a.status() > 0 && (containsKey(a.text()) || containsKey(a.headers().toString()))) {
      return a.status() + " with the caller's key in the answer";
    }
    String type = a.header("content-type");
    boolean json = type != null && type.toLowerCase(Locale.ROOT).startsWith("application/json");
    if (a.status() >= 400 && a.body().length > 0) {
      if (!json) {
        return a.status() + " with Content-Type " + type + ": " + FuzzRequests.abbreviate(a.text());
      }
      JsonNode body = parse(a.body());
      if (body == null || !body.isObject() || body.get("detail") == null || !body.get("detail").isTextual()) {
        return a.status() + " without a string detail: " + FuzzRequests.abbreviate(a.text());
      }
    } else if (json && a.body().length > 0 && parse(a.body()) == null) {
      return a.status() + " with a JSON Content-Type and a body that is not JSON: " + FuzzRequests.abbreviate(a.text());
    }
    return null;
  }

  private boolean containsKey(String text) {
    return text.contains(grid.clientKey) || text.contains(grid.otherClientKey) || text.contains(grid.workerKey);
  }

  private static JsonNode parse(byte[] body) {
    try {
      return Grid.JSON.readTree(body);
    } catch (IOException e) {
      return null;
    }
  }

  private static String name(int status) {
    return switch (status) {
      case RawHttp.CLOSED -> "closed";
      case RawHttp.TIMED_OUT -> "hung";
      default -> Integer.toString(status);
    };
  }

  private static long seed() {
    String s = System.getProperty("fuzz.seed");
    if (s == null || s.isBlank()) {
      return DEFAULT_SEED;
    }
    return s.equals("random") ? new java.security.SecureRandom().nextLong() : Long.parseLong(s.trim());
  }

}
