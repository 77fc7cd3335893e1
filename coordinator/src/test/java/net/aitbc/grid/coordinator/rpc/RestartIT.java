package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.CreateJobResponse;
import net.aitbc.grid.v1.JobServiceGrpc;
import org.junit.jupiter.api.Test;

/** What a coordinator restart keeps: a retried submission still finds the job the first one made. */
class RestartIT {
  @Test
  void retriedSubmissionFindsItsJobAcrossARestart() {
    try (TestDatabase db = TestDatabase.create()) {
      CreateJobRequest request = CreateJobRequest.newBuilder()
          .setPayloadJson("{\"type\":\"t-restart\"}").setRequestId("order-42").build();
      String key;
      CreateJobResponse first;
      try (Coordinator before = Coordinator.start(TestConfigs.coordinator(db.url()))) {
        key = before.createKey(Role.CLIENT, "c");
        first = call(before, key, request);
      }
      try (Coordinator after = Coordinator.start(TestConfigs.coordinator(db.url()))) {
        CreateJobResponse retry = call(after, key, request);
        assertThat(retry.getExisting()).isTrue();
        assertThat(retry.getJob().getJobId()).isEqualTo(first.getJob().getJobId());
      }
    }
  }

  private static CreateJobResponse call(Coordinator coordinator, String key, CreateJobRequest request) {
    ManagedChannel channel = GrpcClients.channel(coordinator.grpcPort());
    try {
      return GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), key).createJob(request);
    } finally {
      channel.shutdownNow();
    }
  }
}
