package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.JobServiceGrpc;
import org.junit.jupiter.api.Test;

/**
 * A worker stream with production timings outlives every server default timeout: 65 s with nothing
 * on it but the heartbeats the protocol asks for, and then it still gets work.
 */
class LongStreamIT {
  @Test
  void idleWorkerStreamStaysOpenForMoreThanAMinute() throws Exception {
    try (TestDatabase db = TestDatabase.create();
         Coordinator coordinator = Coordinator.start(CoordinatorConfig.builder(db.url()).listen("127.0.0.1", 0, -1).build())) {
      String workerKey = coordinator.createKey(Role.WORKER, "owner");
      ManagedChannel channel = GrpcClients.channel(coordinator.grpcPort());
      ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();
      try (TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, "idle", List.of("slow"), List.of())) {
        long every = w.registered().getHeartbeatInterval().getSeconds();
        assertThat(every).isEqualTo(10);
        heartbeats.scheduleAtFixedRate(w::heartbeat, every, every, TimeUnit.SECONDS);
        w.credit(1);

        Thread.sleep(Duration.ofSeconds(65));
        assertThat(w.closed()).isNotDone();

        var client = GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), coordinator.createKey(Role.CLIENT, "c"));
        String jobId = client.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"slow\"}").build())
            .getJob().getJobId();
        Assignment a = w.nextAssignment();
        assertThat(a.getJobId()).isEqualTo(jobId);
      } finally {
        heartbeats.shutdownNow();
        channel.shutdownNow();
      }
    }
  }
}
