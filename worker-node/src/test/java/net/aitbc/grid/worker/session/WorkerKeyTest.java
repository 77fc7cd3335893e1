package net.aitbc.grid.worker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.NoopBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's key file: made on its first start in the state directory (owner-only), the same
 * key on every later start, and its public key in every Register.
 */
class WorkerKeyTest {

  @TempDir Path home;
  private FakeCoordinator coordinator;

  @BeforeEach
  void startCoordinator() throws Exception {
    coordinator = new FakeCoordinator(0);
  }

  @AfterEach
  void stopCoordinator() throws Exception {
    coordinator.close();
  }

  private WorkerConfig config(Path stateDir) {
    return WorkerConfig.builder()
        .coordinator("127.0.0.1:" + coordinator.port())
        .apiKey("worker-key")
        .workerId("w1")
        .stateDir(stateDir)
        .embeddedBackend(false)
        .gpuDetection(false)
        .drainTimeout(Duration.ZERO)
        .build();
  }

  /** Starts a node, waits for its Register, stops it; returns the public key it registered. */
  private byte[] startOnce(WorkerConfig config) throws Exception {
    int before = coordinator.registers().size();
    WorkerNode node = WorkerNode.start(config, List.of(new NoopBackend("w1")));
    try {
      await().atMost(10, TimeUnit.SECONDS).until(() -> coordinator.registers().size() > before);
    } finally {
      node.shutdownNow();
      assertThat(node.awaitTermination(Duration.ofSeconds(20))).isTrue();
    }
    return coordinator.registers().getLast().getPublicKey().toByteArray();
  }

  @Test
  void theFirstStartMakesAnOwnerOnlyKeyAndLaterStartsUseIt() throws Exception {
    Path stateDir = home.resolve("state").resolve("aitbc-worker");
    WorkerConfig config = config(stateDir);
    assertThat(config.keyFile()).isEqualTo(stateDir.resolve("worker-ed25519.key"));

    byte[] first = startOnce(config);
    assertThat(config.keyFile()).isRegularFile();
    SigningKey saved = SigningKey.load(config.keyFile());
    assertThat(first).hasSize(32).isEqualTo(saved.verifyingKey().raw());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(config.keyFile())))
        .isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(stateDir)))
        .isEqualTo("rwx------");

    byte[] second = startOnce(config);
    assertThat(second).isEqualTo(first);
    assertThat(SigningKey.load(config.keyFile()).seedHex()).isEqualTo(saved.seedHex());
  }

  @Test
  void theDefaultStateDirectoryIsAnAbsoluteAitbcWorkerFolder() {
    assertThat(WorkerConfig.defaultStateDir()).isAbsolute().endsWithRaw(Path.of("aitbc-worker"));
  }

  @Test
  void anotherStateDirectoryIsAnotherKey() throws Exception {
    byte[] a = startOnce(config(home.resolve("a")));
    byte[] b = startOnce(config(home.resolve("b")));
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void aKeyFileThatIsNotAKeyStopsTheStartAndSaysWhichFile() throws Exception {
    Path stateDir = home.resolve("broken");
    Files.createDirectories(stateDir);
    Files.writeString(stateDir.resolve(WorkerConfig.KEY_FILE), "not a key\n");
    assertThatThrownBy(() -> WorkerNode.start(config(stateDir), List.of(new NoopBackend("w1"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(WorkerConfig.KEY_FILE);
    assertThat(coordinator.registers()).isEmpty();
  }
}
