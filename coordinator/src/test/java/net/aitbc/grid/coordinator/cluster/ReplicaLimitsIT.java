package net.aitbc.grid.coordinator.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A key's rate limit holds for two replicas together, not for each. */
class ReplicaLimitsIT {
  private static Replicas grid;

  @BeforeAll
  static void start() {
    grid = new Replicas(b -> b.timing(Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofMillis(250)));
  }

  @AfterAll
  static void stop() {
    grid.close();
  }

  @Test
  void aKeySubmittingThroughBothReplicasGetsItsRateOnceNotTwice() {
    double rate = 20;
    int burst = 20;
    String key = grid.a.createKey(Role.CLIENT, "limited", new KeyLimits(1, rate, burst, null));
    JobServiceBlockingStub[] clients = {grid.client(grid.toA, key), grid.client(grid.toB, key)};
    long seconds = 4;
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    int admitted = 0;
    int refused = 0;
    for (int i = 0; System.nanoTime() < end; i++) {
      try {
        clients[i % 2].createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"t-none\"}").build());
        admitted++;
      } catch (StatusRuntimeException e) {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        refused++;
      }
    }
    // Each replica on its own would admit a burst and its rate: 2 x (20 + 80) = 200. Together they
    // admit the rate, plus a burst each, plus what the other admits within a heartbeat (1 s).
    double bound = rate * seconds + 2 * burst + rate;
    assertThat(refused).isPositive();
    assertThat(admitted).as("admitted %d, refused %d", admitted, refused).isBetween((int) (rate * seconds / 2), (int) bound);
  }
}
