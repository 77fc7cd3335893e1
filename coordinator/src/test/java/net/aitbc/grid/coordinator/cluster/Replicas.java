package net.aitbc.grid.coordinator.cluster;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestDatabase;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceStub;

/** Two coordinators on one database, each with its own channel, started once both see each other. */
final class Replicas implements AutoCloseable {
  final TestDatabase db = TestDatabase.create();
  final Coordinator a;
  final Coordinator b;
  final ManagedChannel toA;
  final ManagedChannel toB;
  final String workerKey;

  Replicas(UnaryOperator<CoordinatorConfig.Builder> settings) {
    a = Coordinator.start(settings.apply(TestConfigs.builder(db.url())).build());
    b = Coordinator.start(settings.apply(TestConfigs.builder(db.url())).build());
    toA = GrpcClients.channel(a.grpcPort());
    toB = GrpcClients.channel(b.grpcPort());
    workerKey = a.createKey(Role.WORKER, "owner");
    await().atMost(Duration.ofSeconds(30)).until(() -> a.otherReplicas() == 1 && b.otherReplicas() == 1);
  }

  JobServiceBlockingStub client(ManagedChannel channel, String key) {
    return GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), key);
  }

  JobServiceStub asyncClient(ManagedChannel channel, String key) {
    return GrpcClients.withKey(JobServiceGrpc.newStub(channel), key);
  }

  TestWorker worker(Coordinator on, String workerId, String... types) {
    return TestWorker.connect(on.grpcPort(), workerKey, workerId, List.of(types), List.of());
  }

  @Override
  public void close() {
    toA.shutdownNow();
    toB.shutdownNow();
    b.close();
    a.close();
    db.close();
  }
}
