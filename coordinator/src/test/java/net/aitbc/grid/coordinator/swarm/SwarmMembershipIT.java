package net.aitbc.grid.coordinator.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.List;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.Swarms;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.ComputeConsensusRequest;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.GetTaskRequest;
import net.aitbc.grid.v1.JoinRequest;
import net.aitbc.grid.v1.JoinResponse;
import net.aitbc.grid.v1.LeaveRequest;
import net.aitbc.grid.v1.ListSwarmsRequest;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.Swarm;
import net.aitbc.grid.v1.SwarmMember;
import net.aitbc.grid.v1.SwarmServiceGrpc.SwarmServiceBlockingStub;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Memberships (join, list, leave; workers joining by name at registration), who may do what, and bad
 * input answered INVALID_ARGUMENT naming the field.
 */
class SwarmMembershipIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static void refused(Status.Code code, String message, ThrowingCallable call) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(message);
    });
  }

  private static Swarm listed(SwarmServiceBlockingStub client, String idOrName) {
    return client.listSwarms(ListSwarmsRequest.newBuilder().setSwarmId(idOrName).build()).getSwarmsList().stream()
        .findFirst().orElseThrow(() -> new AssertionError("no swarm " + idOrName));
  }

  @Test
  void aClientJoinsListsAndLeaves() {
    SwarmServiceBlockingStub dave = Swarms.client(grid, grid.clientKey("dave"));
    JoinResponse joined = dave.join(JoinRequest.newBuilder().setRole("task-coordinator").setCapability("GPU")
        .setRegion("EU").setPriority("high").build());
    assertThat(joined.getStatus()).isEqualTo("joined");
    assertThat(joined.getRole()).isEqualTo("task-coordinator");
    assertThat(joined.getSwarmId()).hasSize(32);
    assertThat(joined.getExisting()).isFalse();
    assertThat(joined.getSwarm().getName()).isEqualTo("gpu-eu");
    assertThat(joined.getMember().getRole()).isEqualTo("task-coordinator");
    assertThat(joined.getMember().getPriority()).isEqualTo("high");
    assertThat(joined.getMember().getKind()).isEqualTo("client");
    assertThat(joined.getMember().getReputation()).isEqualTo(0.5);

    // Joining again changes the role, and is the same membership.
    JoinResponse again = dave.join(JoinRequest.newBuilder().setRole("monitor").setCapability("gpu").setRegion("eu")
        .build());
    assertThat(again.getExisting()).isTrue();
    assertThat(again.getMember().getMemberId()).isEqualTo(joined.getMember().getMemberId());
    assertThat(again.getMember().getPriority()).isEqualTo("normal");

    Swarm s = listed(dave, joined.getSwarmId());
    assertThat(s.getStatus()).isEqualTo("active");
    assertThat(s.getMembersList()).singleElement().satisfies(m -> assertThat(m.getRole()).isEqualTo("monitor"));
    assertThat(dave.listSwarms(ListSwarmsRequest.newBuilder().setStatus("joined").build()).getSwarmsList())
        .extracting(Swarm::getName).containsExactly("gpu-eu");

    // Another client cannot undo dave's join.
    refused(Status.Code.NOT_FOUND, "you are not a member of swarm gpu-eu", () -> Swarms.client(grid,
        grid.clientKey("erin")).leave(LeaveRequest.newBuilder().setSwarmId(joined.getSwarmId()).build()));
    var left = dave.leave(LeaveRequest.newBuilder().setSwarmId(joined.getSwarmId()).build());
    assertThat(left.getStatus()).isEqualTo("left");
    assertThat(left.getLeftList()).hasSize(1);
    assertThat(listed(dave, "gpu-eu").getStatus()).isEqualTo("empty");
    refused(Status.Code.NOT_FOUND, "not a member", () -> dave.leave(LeaveRequest.newBuilder()
        .setSwarmId(joined.getSwarmId()).build()));
  }

  @Test
  void workersJoinByNameWhenTheyRegisterAndOnlyThoseNamesCount() {
    Register.Builder r = Register.newBuilder().setWorkerId("named-1").setVersion("test")
        .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes("embedding").setConcurrency(1))
        .addSwarms("embedding-eu").addSwarms("Night-Shift");
    SwarmServiceBlockingStub client = Swarms.client(grid, grid.clientKey("frank"));
    try (TestWorker w = TestWorker.connect(grid.coordinator().grpcPort(), grid.workerKey(), r.build())) {
      Swarm eu = listed(client, "embedding-eu");
      assertThat(eu.getCapability()).isEqualTo("embedding");
      assertThat(eu.getRegion()).isEqualTo("eu");
      SwarmMember m = eu.getMembersList().getFirst();
      assertThat(m.getWorkerId()).isEqualTo("named-1");
      assertThat(m.getKind()).isEqualTo("worker");
      assertThat(m.getRole()).isEqualTo("worker");
      assertThat(m.getClientId()).isEqualTo("owner");
      assertThat(m.getConnectedWorkersList()).containsExactly("named-1");
      assertThat(eu.getConnectedWorkers()).isEqualTo(1);
      assertThat(listed(client, "night-shift").getCapability()).isEqualTo("night-shift");
    }
    // Registering again without night-shift leaves it.
    try (TestWorker w = TestWorker.connect(grid.coordinator().grpcPort(), grid.workerKey(),
        r.clearSwarms().addSwarms("embedding-eu").build())) {
      assertThat(listed(client, "night-shift").getMemberCount()).isZero();
      assertThat(listed(client, "embedding-eu").getMemberCount()).isEqualTo(1);
    }
  }

  @Test
  void aBadSwarmNameEndsTheRegistration() {
    TestWorker w = TestWorker.open(grid.coordinator().grpcPort(), grid.workerKey());
    try {
      w.send(net.aitbc.grid.v1.ConnectRequest.newBuilder().setRegister(Register.newBuilder().setWorkerId("bad-name")
          .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes("noop")).addSwarms("no spaces")).build());
      Status closed = w.closed().join();
      assertThat(closed.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(closed.getDescription()).contains("swarms: 'no spaces' is not a swarm name");
    } finally {
      w.close();
    }
  }

  @Test
  void aWorkerKeyJoinsForItsWorkersButRunsNoTasks() {
    SwarmServiceBlockingStub worker = Swarms.client(grid, grid.workerKey());
    JoinResponse joined = worker.join(JoinRequest.newBuilder().setRole("resource-optimizer").setCapability("noop")
        .build());
    assertThat(joined.getMember().getKind()).isEqualTo("owner");
    assertThat(joined.getMember().getClientId()).isEqualTo("owner");
    refused(Status.Code.PERMISSION_DENIED, "a worker key cannot run or read swarm tasks",
        () -> worker.coordinate(CoordinateRequest.newBuilder().setTask("noop").build()));
  }

  @Test
  void badInputIsInvalidArgumentNamingTheField() {
    SwarmServiceBlockingStub c = Swarms.client(grid, grid.clientKey("gina"));
    Status.Code bad = Status.Code.INVALID_ARGUMENT;
    refused(bad, "role must be one of load-balancer, resource-optimizer, task-coordinator, monitor",
        () -> c.join(JoinRequest.newBuilder().setRole("boss").setCapability("gpu").build()));
    refused(bad, "capability must be 1 to 64", () -> c.join(JoinRequest.newBuilder().setRole("monitor").build()));
    refused(bad, "priority must be low, normal or high",
        () -> c.join(JoinRequest.newBuilder().setRole("monitor").setCapability("gpu").setPriority("urgent").build()));
    refused(bad, "region must be empty or", () -> c.join(JoinRequest.newBuilder().setRole("monitor")
        .setCapability("gpu").setRegion("eu west").build()));
    refused(bad, "task is required", () -> c.coordinate(CoordinateRequest.getDefaultInstance()));
    refused(bad, "task must be a job payload as a JSON object, or a job type with a verification probe",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("gpu").build()));
    refused(bad, "task", () -> c.coordinate(CoordinateRequest.newBuilder().setTask("{not json").build()));
    refused(bad, "collaborators must be between 1 and 20, not 21",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop").setCollaborators(21).build()));
    refused(bad, "collaborators must be between 1 and 20, not -1",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop").setCollaborators(-1).build()));
    refused(bad, "strategy must be consensus, leader-election or distributed",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop").setStrategy("vote").build()));
    refused(bad, "consensus_threshold must be above 0 and at most 1, not 1.5",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop").setConsensusThreshold(1.5).build()));
    refused(bad, "similarity must be above 0 and at most 1",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop").setSimilarity(0).build()));
    refused(bad, "timeout must be a whole number of seconds from 1 to 86400",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop")
            .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(100_000)).build()));
    refused(bad, "the distributed strategy splits a list, and the payload has none",
        () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop").setStrategy("distributed").build()));
    refused(bad, "task: payload.priority must be", () -> c.coordinate(CoordinateRequest.newBuilder()
        .setTask("{\"type\":\"noop\",\"priority\":\"urgent\"}").build()));
    refused(bad, "constraints.min_vram_gb", () -> c.coordinate(CoordinateRequest.newBuilder().setTask("noop")
        .setConstraints(net.aitbc.grid.v1.Constraints.newBuilder().setMinVramGb(-1)).build()));
    refused(bad, "task_id must be 32 hex characters",
        () -> c.getTask(GetTaskRequest.newBuilder().setTaskId("task_01").build()));
    refused(Status.Code.NOT_FOUND, "swarm task 0123456789abcdef0123456789abcdef not found",
        () -> c.getTask(GetTaskRequest.newBuilder().setTaskId("0123456789abcdef0123456789abcdef").build()));
    refused(bad, "consensus_threshold must be above 0", () -> c.computeConsensus(ComputeConsensusRequest.newBuilder()
        .setTaskId("0123456789abcdef0123456789abcdef").setConsensusThreshold(-0.1).build()));
    refused(Status.Code.NOT_FOUND, "swarm nowhere not found",
        () -> c.leave(LeaveRequest.newBuilder().setSwarmId("nowhere").build()));
    refused(bad, "status must be active, empty or joined",
        () -> c.listSwarms(ListSwarmsRequest.newBuilder().setStatus("open").build()));
    refused(bad, "limit must be between 1 and 200",
        () -> c.listSwarms(ListSwarmsRequest.newBuilder().setLimit(500).build()));
    assertThat(List.of(c.listSwarms(ListSwarmsRequest.newBuilder().setSwarmId("nowhere").build()).getSwarmsCount()))
        .containsExactly(0);
  }
}
