package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.time.Duration;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestMiner;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.DeregisterMinerRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.MinerJob;
import org.junit.jupiter.api.Test;

/**
 * A miner's registration is in the database, its sessions are not: across a coordinator restart
 * the miner polls on without registering again, the job it held then goes back to the queue (its
 * session's lease ran out), and a deregistered miner stays deregistered.
 */
class MinerRestartIT {
  @Test
  void aRegisteredMinerPollsOnAfterARestartAndItsOldJobIsRequeued() {
    try (TestDatabase db = TestDatabase.create()) {
      String workerKey;
      String clientKey;
      String held;
      try (Coordinator before = Coordinator.start(TestConfigs.coordinator(db.url()))) {
        workerKey = before.createKey(Role.WORKER, "farm");
        clientKey = before.createKey(Role.CLIENT, "c");
        ManagedChannel channel = GrpcClients.channel(before.grpcPort());
        try {
          new TestMiner(channel, workerKey, "m-restart").register("t-restart");
          new TestMiner(channel, workerKey, "m-gone").register("t-restart");
          new TestMiner(channel, workerKey, "m-gone").stub()
              .deregisterMiner(DeregisterMinerRequest.newBuilder().setMinerId("m-gone").build());
          submit(channel, clientKey);
          held = new TestMiner(channel, workerKey, "m-restart").poll(Duration.ofSeconds(2)).orElseThrow().getJobId();
        } finally {
          channel.shutdownNow();
        }
      }
      try (Coordinator after = Coordinator.start(TestConfigs.coordinator(db.url()))) {
        ManagedChannel channel = GrpcClients.channel(after.grpcPort());
        try {
          TestMiner miner = new TestMiner(channel, workerKey, "m-restart");
          // No register: the first call opens a session from the stored registration.
          assertThat(miner.heartbeat().getHeld()).isZero();
          // The job it held went back to the queue (at shutdown, or once its old lease ran out).
          await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(state(channel, clientKey, held))
              .isIn(JobState.JOB_STATE_QUEUED, JobState.JOB_STATE_COMPLETED));
          MinerJob again = miner.poll(Duration.ofSeconds(2)).orElseThrow();
          assertThat(again.getJobId()).isEqualTo(held);
          assertThat(again.getAttempt()).isEqualTo(2);
          miner.complete(held, "{}");
          assertThat(state(channel, clientKey, held)).isEqualTo(JobState.JOB_STATE_COMPLETED);
          assertThatThrownBy(() -> new TestMiner(channel, workerKey, "m-gone").heartbeat())
              .hasMessageContaining("NOT_FOUND").hasMessageContaining("not registered");
        } finally {
          channel.shutdownNow();
        }
      }
    }
  }

  private static void submit(ManagedChannel channel, String key) {
    GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), key)
        .createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"t-restart\"}").build());
  }

  private static JobState state(ManagedChannel channel, String key, String jobId) {
    return GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), key)
        .getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob().getState();
  }
}
