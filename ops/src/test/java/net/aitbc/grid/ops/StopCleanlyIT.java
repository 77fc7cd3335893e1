package net.aitbc.grid.ops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.ops.process.GridProcess;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM or Ctrl-C while the embedded model is still loading: the load (native code that cannot
 * be interrupted) is let finish, what was started is closed, and the JVM exits at once and cleanly
 * (no crash inside ONNX Runtime, no {@code hs_err_pid*.log}). And SIGTERM while an embedding job
 * runs in ONNX Runtime: the drain lets it finish, and the JVM exits as cleanly.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StopCleanlyIT {
  private static final String LOADING = "\\[backend=embedded\\] loading ";
  // Generous: on a loaded CI host a stop that waits for a start under way (the model load) took over 20 s.
  private static final Duration EXIT_WITHIN = Duration.ofSeconds(60);
  /** Lean, but with room for the model (its bytes are copied while it loads). */
  static final List<String> JVM = List.of("-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1");

  @TempDir Path dir;

  @Test
  void sigtermWhileTheWorkerLoadsTheModelStopsCleanly() throws IOException {
    try (TestDatabase db = TestDatabase.create(); Coordinator coordinator = Coordinator.start(TestConfigs.coordinator(db.url()))) {
      GridProcess worker = GridProcess.builder("worker", dir.resolve("worker.log")).directory(dir)
          .jvmOptions(JVM)
          .env(Map.of("AITBC_WORKER_KEY", coordinator.createKey(Role.WORKER, "owner")))
          .start("worker", "--coordinator", "127.0.0.1:" + coordinator.grpcPort(), "--worker-id", "loading");
      try {
        worker.awaitLog(LOADING, Duration.ofSeconds(60));
        worker.terminate();
        int exit = worker.awaitExit(EXIT_WITHIN);

        assertStoppedCleanly(worker, exit, 143);
        assertThat(worker.lines()).as(worker.tail(40))
            .anyMatch(l -> l.contains("waiting for the start under way to end"))
            .anyMatch(l -> l.contains("[backend=embedded] all-minilm-l6-v2 loaded in"))
            .anyMatch(l -> l.contains("stopped before connecting"))
            .noneMatch(l -> l.contains("] registered;"));
      } finally {
        worker.destroy();
      }
    }
  }

  @Test
  void sigtermWhileAnEmbeddingJobRunsLetsItFinishAndExitsCleanly() throws IOException {
    try (TestDatabase db = TestDatabase.create(); Coordinator coordinator = Coordinator.start(TestConfigs.coordinator(db.url()))) {
      ManagedChannel channel = GrpcClients.channel(coordinator.grpcPort());
      JobServiceGrpc.JobServiceBlockingStub client = GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel),
          coordinator.createKey(Role.CLIENT, "c"));
      GridProcess worker = GridProcess.builder("worker", dir.resolve("worker.log")).directory(dir).jvmOptions(JVM)
          .env(Map.of("AITBC_WORKER_KEY", coordinator.createKey(Role.WORKER, "owner")))
          .start("worker", "--coordinator", "127.0.0.1:" + coordinator.grpcPort(), "--worker-id", "embedder",
              "--drain-timeout", "120s");
      try {
        worker.awaitLog("\\] registered;", Duration.ofSeconds(60));
        // Long texts, many of them: seconds of ONNX Runtime work, in chunks.
        String text = "The grid runs embedding jobs on the workers that advertise them. ".repeat(20);
        String input = IntStream.range(0, 150).mapToObj(i -> "\"" + i + " " + text + "\"")
            .collect(Collectors.joining(","));
        String jobId = client.createJob(CreateJobRequest.newBuilder()
            .setPayloadJson("{\"type\":\"embedding\",\"input\":[" + input + "]}").build()).getJob().getJobId();
        await().atMost(30, TimeUnit.SECONDS).pollInterval(10, TimeUnit.MILLISECONDS).until(() ->
            client.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob().getState()
                == JobState.JOB_STATE_RUNNING);
        worker.terminate();
        int exit = worker.awaitExit(Duration.ofSeconds(150));

        assertStoppedCleanly(worker, exit, 143);
        Job job = client.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob();
        assertThat(job.getState()).as(worker.tail(20)).isEqualTo(JobState.JOB_STATE_COMPLETED);
        assertThat(job.getAttempt()).as("finished by the draining worker, not retried").isEqualTo(1);
      } finally {
        worker.destroy();
        channel.shutdownNow();
      }
    }
  }

  @Test
  void ctrlCWhileGridDevLoadsTheModelStopsCleanly() throws IOException {
    try (TestDatabase db = TestDatabase.create()) {
      GridProcess dev = GridProcess.builder("dev", dir.resolve("dev.log")).directory(dir)
          .jvmOptions(JVM).interruptible()
          .start("dev", "--db-url", db.url(), "--grpc-port", "0", "--http-port", "0", "--metrics-port", "-1",
              "--ollama-url", "http://127.0.0.1:1");
      try {
        dev.awaitLog(LOADING, Duration.ofSeconds(90));
        dev.interrupt();
        int exit = dev.awaitExit(EXIT_WITHIN);

        assertStoppedCleanly(dev, exit, 130);
        assertThat(dev.lines()).as(dev.tail(40))
            .anyMatch(l -> l.contains("waiting for the start under way to end"))
            .anyMatch(l -> l.contains("[backend=embedded] all-minilm-l6-v2 loaded in"))
            .anyMatch(l -> l.contains("bridge stopped"))
            .anyMatch(l -> l.contains("coordinator stopped"))
            .noneMatch(l -> l.contains("dev mode is up"));
      } finally {
        dev.destroy();
      }
    }
  }

  private void assertStoppedCleanly(GridProcess p, int exit, int signalled) throws IOException {
    List<String> crashLogs;
    try (Stream<Path> files = Files.list(dir)) {
      crashLogs = files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("hs_err_pid")).toList();
    }
    assertThat(crashLogs).as("JVM crash logs in the working directory\n" + p.tail(40)).isEmpty();
    // The status of a JVM that ran its shutdown hooks after the signal (134 would be SIGABRT: a crash).
    assertThat(exit).as(p.tail(40)).isIn(0, signalled);
  }
}
