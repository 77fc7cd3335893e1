package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real worker nodes against a real coordinator: the embedded model's embeddings, streamed tokens
 * reaching a watcher, a worker stopped while it holds a job, and a drain that lets a job finish.
 * Inference runs on a stand-in Ollama that streams slowly enough to catch a job mid-run.
 */
class WorkerNodeIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> TOKENS = List.of("The", " grid", " is", " up", ".");

  private static TestDatabase db;
  private static Coordinator coordinator;
  @TempDir
  static Path stateDir;
  private static ManagedChannel channel;
  private static JobServiceBlockingStub client;
  private static String workerKey;
  private static FakeOllama ollama;

  @BeforeAll
  static void start() throws Exception {
    db = TestDatabase.create();
    coordinator = Coordinator.start(TestConfigs.coordinator(db.url()));
    channel = GrpcClients.channel(coordinator.grpcPort());
    client = GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), coordinator.createKey(Role.CLIENT, "c"));
    workerKey = coordinator.createKey(Role.WORKER, "owner");
    ollama = new FakeOllama(TOKENS, Duration.ofMillis(300));
  }

  @AfterAll
  static void stop() {
    channel.shutdownNow();
    coordinator.close();
    ollama.close();
    db.close();
  }

  private static WorkerNode worker(String id, boolean embedded, boolean withOllama) {
    WorkerNode node = WorkerNode.start(WorkerConfig.builder()
        .coordinator("127.0.0.1:" + coordinator.grpcPort())
        .apiKey(workerKey)
        .stateDir(stateDir)
        .workerId(id)
        .embeddedBackend(embedded)
        .ollamaUrl(withOllama ? ollama.url() : null)
        .gpuDetection(false)
        .drainTimeout(Duration.ofSeconds(10))
        .build());
    await().atMost(30, TimeUnit.SECONDS).until(node::isRegistered);
    return node;
  }

  private static Job submit(String payload) {
    return client.createJob(CreateJobRequest.newBuilder().setPayloadJson(payload).build()).getJob();
  }

  private static Job get(String jobId) {
    return client.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob();
  }

  private static GetJobResultResponse awaitResult(String jobId, JobState state) {
    await().atMost(30, TimeUnit.SECONDS).until(() -> get(jobId).getState() == state);
    return client.getJobResult(GetJobResultRequest.newBuilder().setJobId(jobId).build());
  }

  @Test
  void embeddedModelComputesARealEmbeddingAndItsMetricsAreStored() throws Exception {
    try (WorkerNode node = worker("embedder", true, false)) {
      assertThat(node.capabilities().getJobTypesList()).contains("embedding");
      Job job = submit("{\"type\":\"embedding\",\"prompt\":\"hello grid\"}");
      Job close = submit("{\"type\":\"embedding\",\"prompt\":\"hello, grid!\",\"model\":\"all-MiniLM-L6-v2\"}");
      Job far = submit("{\"type\":\"embedding\",\"input\":[\"tax law of the 18th century\"]}");

      JsonNode a = JSON.readTree(awaitResult(job.getJobId(), JobState.JOB_STATE_COMPLETED).getResultJson());
      GetJobResultResponse closeResult = awaitResult(close.getJobId(), JobState.JOB_STATE_COMPLETED);
      JsonNode b = JSON.readTree(closeResult.getResultJson());
      JsonNode c = JSON.readTree(awaitResult(far.getJobId(), JobState.JOB_STATE_COMPLETED).getResultJson());

      assertThat(a.get("dimensions").asInt()).isEqualTo(384);
      assertThat(a.get("embedding")).hasSize(384);
      assertThat(c.get("embeddings").get(0)).hasSize(384);
      assertThat(cosine(a.get("embedding"), b.get("embedding")))
          .isGreaterThan(cosine(a.get("embedding"), c.get("embeddings").get(0)));

      JsonNode metrics = JSON.readTree(closeResult.getJob().getMetricsJson());
      assertThat(metrics.get("backend").asText()).isEqualTo("embedded");
      assertThat(metrics.has("duration_ms")).isTrue();
      assertThat(metrics.get("queue_ms").asLong()).isNotNegative();
      assertThat(metrics.get("run_ms").asLong()).isNotNegative();
      assertThat(closeResult.getJob().getWorkerId()).isEqualTo("embedder");
    }
  }

  @Test
  void embeddingWithAnEmptyModelFieldRunsOnTheDefaultModel() throws Exception {
    // What `aitbc client batch-submit jobs.csv` sends for a row whose model column is empty: the
    // coordinator normalises "" to no model, and the worker must run what its Assignment says.
    try (WorkerNode node = worker("empty-model", true, false)) {
      Job job = submit("{\"type\":\"embedding\",\"prompt\":\"x\",\"model\":\"\"}");
      await().atMost(30, TimeUnit.SECONDS).until(() -> isFinal(get(job.getJobId()).getState()));
      Job done = get(job.getJobId());
      assertThat(done.getState()).as("error: %s", done.getError()).isEqualTo(JobState.JOB_STATE_COMPLETED);
      assertThat(done.getWorkerId()).isEqualTo("empty-model");
      JsonNode result = JSON.readTree(client.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId())
          .build()).getResultJson());
      assertThat(result.get("embedding")).hasSize(384);
      assertThat(result.get("model").asText()).isEqualTo("all-minilm-l6-v2");
    }
  }

  private static boolean isFinal(JobState state) {
    return state == JobState.JOB_STATE_COMPLETED || state == JobState.JOB_STATE_FAILED
        || state == JobState.JOB_STATE_CANCELED || state == JobState.JOB_STATE_EXPIRED;
  }

  @Test
  void streamedTokensReachAWatcherAsProgress() throws Exception {
    try (WorkerNode node = worker("streamer", false, true)) {
      assertThat(node.capabilities().getModelsList()).contains("slowpoke:latest", "slowpoke");
      Job job = submit("{\"type\":\"inference\",\"prompt\":\"status?\",\"model\":\"slowpoke\"}");
      Iterator<WatchJobResponse> events = client.watchJob(WatchJobRequest.newBuilder().setJobId(job.getJobId()).build());
      StringBuilder streamed = new StringBuilder();
      List<JobState> states = new ArrayList<>();
      events.forEachRemaining(e -> {
        if (e.hasProgress()) {
          streamed.append(e.getProgress().getOutput());
        } else {
          states.add(e.getJob().getState());
        }
      });
      assertThat(streamed.toString()).isEqualTo(String.join("", TOKENS));
      assertThat(states.getLast()).isEqualTo(JobState.JOB_STATE_COMPLETED);
      JsonNode result = JSON.readTree(client.getJobResult(GetJobResultRequest.newBuilder().setJobId(job.getJobId())
          .build()).getResultJson());
      assertThat(result.get("output").asText()).isEqualTo("The grid is up.");
      assertThat(result.get("provider").asText()).isEqualTo("ollama");
    }
  }

  @Test
  void jobOfAStoppedWorkerIsRequeuedAndDoneByAnother() throws Exception {
    Job job;
    try (WorkerNode doomed = worker("doomed", false, true)) {
      job = submit("{\"type\":\"inference\",\"prompt\":\"long story\",\"model\":\"slowpoke\"}");
      await().atMost(10, TimeUnit.SECONDS).until(() -> doomed.runningJobs() == 1);
      doomed.shutdownNow();
      assertThat(doomed.awaitTermination(Duration.ofSeconds(10))).isTrue();
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> get(job.getJobId()).getState() == JobState.JOB_STATE_QUEUED);
    try (WorkerNode rescuer = worker("rescuer", false, true)) {
      GetJobResultResponse r = awaitResult(job.getJobId(), JobState.JOB_STATE_COMPLETED);
      assertThat(r.getJob().getWorkerId()).isEqualTo(rescuer.workerId());
      assertThat(r.getJob().getAttempt()).isEqualTo(2);
      assertThat(JSON.readTree(r.getResultJson()).get("output").asText()).isEqualTo("The grid is up.");
    }
  }

  @Test
  void drainedWorkerFinishesWhatItRunsAndTakesNothingNew() throws Exception {
    WorkerNode draining = worker("drainer", false, true);
    Job running = submit("{\"type\":\"inference\",\"prompt\":\"finish me\",\"model\":\"slowpoke\"}");
    await().atMost(10, TimeUnit.SECONDS).until(() -> draining.runningJobs() == 1);

    draining.shutdown();
    Job later = submit("{\"type\":\"inference\",\"prompt\":\"not you\",\"model\":\"slowpoke\"}");
    assertThat(draining.awaitTermination(Duration.ofSeconds(20))).isTrue();

    Job finished = get(running.getJobId());
    assertThat(finished.getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    assertThat(finished.getWorkerId()).isEqualTo("drainer");
    assertThat(get(later.getJobId()).getState()).isEqualTo(JobState.JOB_STATE_QUEUED);
    client.cancelJob(net.aitbc.grid.v1.CancelJobRequest.newBuilder().setJobId(later.getJobId()).build());
  }

  @Test
  void prefetchedJobIsAssignedAtOnceButWaitsForTheSlot() throws Exception {
    ollama.mostAtOnceSinceLastAsked();
    try (WorkerNode node = WorkerNode.start(WorkerConfig.builder()
        .coordinator("127.0.0.1:" + coordinator.grpcPort())
        .apiKey(workerKey)
        .stateDir(stateDir)
        .workerId("prefetcher")
        .concurrency(1)
        .prefetch(1)
        .embeddedBackend(false)
        .ollamaUrl(ollama.url())
        .gpuDetection(false)
        .build())) {
      await().atMost(30, TimeUnit.SECONDS).until(node::isRegistered);
      Job first = submit("{\"type\":\"inference\",\"prompt\":\"one\",\"model\":\"slowpoke\"}");
      Job second = submit("{\"type\":\"inference\",\"prompt\":\"two\",\"model\":\"slowpoke\"}");
      // Two credits for one slot: both are handed over at once, the second waits on the worker.
      await().atMost(10, TimeUnit.SECONDS).until(() -> get(first.getJobId()).getState() == JobState.JOB_STATE_RUNNING
          && get(second.getJobId()).getState() == JobState.JOB_STATE_RUNNING);
      assertThat(get(second.getJobId()).getWorkerId()).isEqualTo("prefetcher");

      awaitResult(first.getJobId(), JobState.JOB_STATE_COMPLETED);
      awaitResult(second.getJobId(), JobState.JOB_STATE_COMPLETED);
      assertThat(ollama.mostAtOnceSinceLastAsked()).isEqualTo(1);
    }
  }

  private static double cosine(JsonNode x, JsonNode y) {
    double dot = 0;
    double nx = 0;
    double ny = 0;
    for (int i = 0; i < x.size(); i++) {
      dot += x.get(i).asDouble() * y.get(i).asDouble();
      nx += x.get(i).asDouble() * x.get(i).asDouble();
      ny += y.get(i).asDouble() * y.get(i).asDouble();
    }
    return dot / Math.sqrt(nx * ny);
  }
}
