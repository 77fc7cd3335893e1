package net.aitbc.grid.worker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.NoopBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The swarms a worker joins by name: checked in its config, sent in every Register. */
class WorkerSwarmsTest {

  @TempDir Path stateDir;

  private static WorkerConfig.Builder config() {
    return WorkerConfig.builder().apiKey("worker-key").workerId("w1");
  }

  @Test
  void registerCarriesTheSwarmsInTheirOrderWithoutRepeats() throws Exception {
    try (FakeCoordinator coordinator = new FakeCoordinator(0)) {
      WorkerConfig config = config()
          .coordinator("127.0.0.1:" + coordinator.port())
          .stateDir(stateDir)
          .embeddedBackend(false)
          .gpuDetection(false)
          .drainTimeout(Duration.ZERO)
          .swarms(List.of("embedding-eu", "A.b_c-9", "embedding-eu"))
          .build();
      WorkerNode node = WorkerNode.start(config, List.of(new NoopBackend("w1")));
      try {
        await().atMost(10, TimeUnit.SECONDS).until(() -> !coordinator.registers().isEmpty());
      } finally {
        node.shutdownNow();
        assertThat(node.awaitTermination(Duration.ofSeconds(20))).isTrue();
      }
      assertThat(coordinator.registers().getFirst().getSwarmsList()).containsExactly("embedding-eu", "A.b_c-9");
    }
  }

  @Test
  void noSwarmsByDefault() {
    WorkerConfig config = config().build();
    assertThat(config.swarms()).isEmpty();
    assertThat(config.toString()).contains("swarms=[]");
    assertThat(config.toBuilder().swarms(List.of("x")).build().toBuilder().build().swarms()).containsExactly("x");
  }

  @Test
  void badNamesAreRefusedNamingThem() {
    String longest = "a".repeat(WorkerConfig.MAX_SWARM_NAME);
    assertThat(config().swarms(List.of(longest, "0", "-._")).build().swarms()).hasSize(3);
    for (String bad : List.of("", "a b", "a/b", "é", "a,b", longest + "a")) {
      assertThatThrownBy(() -> config().swarms(List.of("ok", bad)).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("swarm name must be 1 to 64 letters, digits, '-', '_' or '.', got '" + bad + "'");
    }
    assertThatThrownBy(() -> config().swarms(Arrays.asList("ok", null)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageEndingWith("got none");
  }
}
