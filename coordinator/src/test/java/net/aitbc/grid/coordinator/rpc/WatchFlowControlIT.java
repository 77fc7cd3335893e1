package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Watcher;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A watcher that does not read costs the coordinator bounded memory: WatchJob respects flow control. */
class WatchFlowControlIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  @Test
  void aSlowWatcherGetsEveryStateButNotUnboundedProgress() throws Exception {
    String key = grid.clientKey("slow-watcher");
    Job job = grid.clientWithKey(key).createJob(CreateJobRequest.newBuilder()
        .setPayloadJson("{\"type\":\"t-chatty\"}").build()).getJob();
    // Takes the first message, then nothing until told.
    Watcher watcher = Watcher.watch(grid.asyncClient(key), job.getJobId(), 1);
    List<WatchJobResponse> received = watcher.received();
    await().atMost(Duration.ofSeconds(10)).until(() -> !received.isEmpty());

    String chunk = "y".repeat(50_000);
    int chunks = 400;
    try (TestWorker w = grid.worker("w-chatty", "t-chatty")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      for (int i = 0; i < chunks; i++) {
        w.progress(a.getJobId(), a.getAttempt(), chunk);
      }
      w.complete(a.getJobId(), a.getAttempt(), "{\"done\":true}");
      w.next(); // the OutcomeAck: progress sent before it has been handled
    }
    watcher.request(Integer.MAX_VALUE);
    assertThat(watcher.ended().get(30, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);

    WatchJobResponse last = received.getLast();
    assertThat(last.getJob().getState()).isEqualTo(JobState.JOB_STATE_COMPLETED);
    long output = received.stream().filter(WatchJobResponse::hasProgress)
        .mapToLong(r -> r.getProgress().getOutput().length()).sum();
    // 20 MB was produced; what waits for a slow watcher is bounded (the coordinator's 1 MiB plus
    // what the transport's flow-control windows hold).
    assertThat(output).isLessThan(6_000_000L);
  }
}
