package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * REST miners (the CLI's requests, through a bridge process) share the queue with a stream worker
 * while two of them fail: one goes silent for good holding a job (a killed {@code aitbc miner mine}),
 * one goes silent past its lease and then sends its late result. No job is lost, each has one
 * recorded outcome, and the late result is refused with 409.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RestMinersIT {
  private static final int JOBS = 300;
  private static final ObjectMapper JSON = new ObjectMapper();

  @RegisterExtension final Grid grid = new Grid();

  /** One REST miner's loop: poll, run the noop's sleep, send the result, as {@code miner mine} does. */
  private final class Miner implements Runnable {
    final String id;
    final int port;
    final String key;
    final AtomicInteger completed = new AtomicInteger();
    /** Set to make it stop right after its next poll brings a job (which it then holds). */
    final CountDownLatch silenceAfterNextJob = new CountDownLatch(1);
    volatile boolean silenced;
    final AtomicReference<String> heldWhenSilenced = new AtomicReference<>();
    volatile boolean stop;
    final Map<String, Integer> resultsByStatus = new ConcurrentHashMap<>();
    private final HttpClient http = HttpClient.newHttpClient();

    Miner(String id, int port, String key) {
      this.id = id;
      this.port = port;
      this.key = key;
    }

    HttpResponse<String> call(String path, String json) throws IOException, InterruptedException {
      return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(20)).header("X-Api-Key", key).header("X-Miner-ID", id)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
          HttpResponse.BodyHandlers.ofString());
    }

    int result(String jobId) throws IOException, InterruptedException {
      int status = call("/v1/miners/" + jobId + "/result", "{\"result\": {\"ok\": true, \"worker_id\": \"" + id
          + "\"}, \"metrics\": {}}").statusCode();
      resultsByStatus.merge(Integer.toString(status), 1, Integer::sum);
      return status;
    }

    @Override
    public void run() {
      try {
        HttpResponse<String> registered = call("/v1/miners/register", "{\"capabilities\": {\"job_types\": [\"noop\"]}}");
        assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
        while (!stop) {
          HttpResponse<String> polled = call("/v1/miners/poll", "{\"max_wait_seconds\": 5}");
          if (polled.statusCode() == 204) {
            continue;
          }
          assertThat(polled.statusCode()).as(polled.body()).isEqualTo(200);
          JsonNode job = JSON.readTree(polled.body());
          String jobId = job.get("job_id").asText();
          if (silenceAfterNextJob.getCount() == 0) {
            heldWhenSilenced.set(jobId);
            silenced = true;
            return;
          }
          Thread.sleep(job.get("payload").path("sleep_ms").asLong(0));
          if (result(jobId) == 200) {
            completed.incrementAndGet();
          }
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void restMinersInTheMixLoseNothingAndRecordOneOutcomePerJob() throws Exception {
    Report report = new Report(grid.name());
    grid.withFreshDatabase().startCoordinator();
    int port = grid.startBridge();
    grid.startWorkers(2, Duration.ofSeconds(5), "B");
    String key = grid.workerKeyOf("rest-farm");
    Miner gone = new Miner("R-gone", port, key);
    Miner late = new Miner("R-late", port, key);
    Miner steady = new Miner("R-steady", port, key);
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      for (Miner m : List.of(gone, late, steady)) {
        pool.submit(m);
      }
      Random random = new Random(11);
      Set<String> acknowledged = LoadGenerator.submitAll(grid.channel(), grid.clientKey(), JOBS,
          () -> 20 + random.nextInt(81));

      await("the miners at work").atMost(Duration.ofSeconds(60)).until(() ->
          gone.completed.get() >= 5 && late.completed.get() >= 5 && steady.completed.get() >= 5);
      report.fault("two REST miners go silent holding a job each", grid.count(JobState.RUNNING),
          grid.count(JobState.QUEUED));
      gone.silenceAfterNextJob.countDown();
      late.silenceAfterNextJob.countDown();
      await("both silent with a job").atMost(Duration.ofSeconds(30)).until(() -> gone.silenced && late.silenced);
      String lateJob = late.heldWhenSilenced.get();

      // Past the 3 s lease, R-late's job went back to the queue (and on to another worker): its result is late.
      await("R-late's job taken back").atMost(Duration.ofSeconds(20)).until(() -> !"R-late".equals(
          grid.query(db -> db.select(net.aitbc.grid.db.Tables.JOB.WORKER_ID).from(net.aitbc.grid.db.Tables.JOB)
              .where(net.aitbc.grid.db.Tables.JOB.JOB_ID.eq(net.aitbc.grid.coordinator.store.JobIds.parse(lateJob)
                  .orElseThrow())).fetchOne(r -> r.value1()))));
      int lateStatus = late.result(lateJob);
      report.lateResultsRefused(lateStatus == 409 ? 1 : 0);

      Invariants.Verdict verdict = Invariants.check(grid, acknowledged, Duration.ofSeconds(60));
      report.note("completed_by R-gone=" + gone.completed + " R-late=" + late.completed + " R-steady="
          + steady.completed + " results_by_status=" + Map.of("R-gone", gone.resultsByStatus, "R-late",
          late.resultsByStatus, "R-steady", steady.resultsByStatus));
      report.finish(verdict);
      report.assertHeld();
      assertThat(lateStatus).as("R-late's late result").isEqualTo(409);
      for (String held : List.of(gone.heldWhenSilenced.get(), lateJob)) {
        JobRecord job = verdict.jobs().get(held);
        assertThat(job.getState()).as("job %s held by a silent miner", held).isEqualTo(JobState.COMPLETED);
        assertThat(job.getWorkerId()).as("job %s held by a silent miner", held).isNotIn("R-gone", "R-late");
        assertThat(job.getAttempt()).as("job %s held by a silent miner", held).isGreaterThanOrEqualTo(2);
      }
      long byMiners = verdict.jobs().values().stream().filter(j -> j.getWorkerId() != null
          && j.getWorkerId().startsWith("R-") && j.getState() == JobState.COMPLETED).count();
      assertThat(byMiners).as("jobs the REST miners completed").isEqualTo(
          gone.completed.get() + late.completed.get() + steady.completed.get());
      assertThat(steady.resultsByStatus).as("R-steady's results").containsOnlyKeys("200");
    } finally {
      List.of(gone, late, steady).forEach(m -> m.stop = true);
      pool.shutdownNow();
    }
  }
}
