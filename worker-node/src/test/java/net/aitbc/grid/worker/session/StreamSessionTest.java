package net.aitbc.grid.worker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.ledger.Attestations;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobFailed;
import net.aitbc.grid.v1.OutcomeAttestation;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.backend.BackendRouter;
import net.aitbc.grid.worker.backend.NoopBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The stream protocol against a coordinator played over a real gRPC server. Credits: the worker
 * grants what it may hold, {@code min(concurrency + prefetch, max_held)}, and its credits granted
 * and unused plus its jobs held never exceed that. Signatures: Register carries the worker's
 * public key, and when Registered asks for it every completion carries an attestation that
 * verifies with that key.
 */
class StreamSessionTest {

  private FakeCoordinator coordinator;
  private CoordinatorSession session;
  private final SigningKey key = SigningKey.generate();

  @AfterEach
  void stop() throws Exception {
    if (session != null) {
      session.shutdownNow();
      session.termination().get(20, TimeUnit.SECONDS);
    }
    if (coordinator != null) {
      coordinator.close();
    }
  }

  private void connect(int concurrency, int prefetch, int maxHeld) throws Exception {
    connect(concurrency, prefetch, maxHeld, false);
  }

  private void connect(int concurrency, int prefetch, int maxHeld, boolean signOutcomes)
      throws Exception {
    coordinator = new FakeCoordinator(maxHeld, signOutcomes);
    WorkerConfig config =
        WorkerConfig.builder()
            .coordinator("127.0.0.1:" + coordinator.port())
            .apiKey("worker-key")
            .workerId("w1")
            .concurrency(concurrency)
            .prefetch(prefetch)
            .embeddedBackend(false)
            .gpuDetection(false)
            .build();
    session =
        new CoordinatorSession(
            config,
            "test",
            WorkerCapabilities.newBuilder().addJobTypes("noop").build(),
            new BackendRouter(List.of(new NoopBackend("w1"))),
            key);
    session.start();
    await().atMost(10, TimeUnit.SECONDS).until(session::isRegistered);
  }

  /** Waits for the credits granted to reach {@code total} and stay there a while. */
  private void expectCredits(int total) {
    await()
        .atMost(10, TimeUnit.SECONDS)
        .during(Duration.ofMillis(300))
        .until(() -> coordinator.credits() == total);
  }

  @Test
  void maxHeldCutsThePrefetch() throws Exception {
    connect(2, 4, 3);
    expectCredits(3);
  }

  @Test
  void maxHeldBelowConcurrencyIsObeyedToo() throws Exception {
    connect(2, 0, 1);
    expectCredits(1);
  }

  @Test
  void withoutMaxHeldTheWorkerGrantsConcurrencyPlusPrefetch() throws Exception {
    connect(2, 4, 0);
    expectCredits(6);
  }

  @Test
  void maxHeldAboveWhatTheWorkerWantsChangesNothing() throws Exception {
    connect(2, 1, 100);
    expectCredits(3);
  }

  @Test
  void eachJobThatEndsGivesOneCreditBackAndAnAssignmentBeyondTheCreditsIsRefused()
      throws Exception {
    connect(1, 4, 2);
    expectCredits(2);

    coordinator.assign("a", 300);
    coordinator.assign("b", 300);
    coordinator.assign("c", 0); // no credit left for it
    await()
        .atMost(5, TimeUnit.SECONDS)
        .until(() -> coordinator.received().stream().anyMatch(ConnectRequest::hasFailed));
    JobFailed refused =
        coordinator.received().stream()
            .filter(ConnectRequest::hasFailed)
            .findFirst()
            .get()
            .getFailed();
    assertThat(refused.getJobId()).isEqualTo("c");
    assertThat(refused.getRetryable()).isTrue();
    assertThat(refused.getError()).isEqualTo("assigned beyond the credits the worker granted");

    await().atMost(10, TimeUnit.SECONDS).until(() -> coordinator.outcomes() == 3);
    assertThat(
            coordinator.received().stream()
                .filter(ConnectRequest::hasCompleted)
                .map(m -> m.getCompleted().getJobId()))
        .containsExactly("a", "b");
    // Two back for the two jobs that ran; none for the refused one.
    expectCredits(4);
    assertThat(session.runningJobs()).isZero();
  }

  @Test
  void aRevokedJobGivesItsCreditBackWithoutAReport() throws Exception {
    connect(1, 0, 0);
    expectCredits(1);

    coordinator.assign("long", 20_000);
    await().atMost(5, TimeUnit.SECONDS).until(() -> session.runningJobs() == 1);
    coordinator.revoke("long");

    expectCredits(2);
    assertThat(session.runningJobs()).isZero();
    assertThat(coordinator.outcomes()).isZero();
  }

  @Test
  void aDuplicateAssignmentRunsOnceAndItsCreditComesBack() throws Exception {
    connect(1, 1, 0);
    expectCredits(2);

    coordinator.assign("twice", 300);
    coordinator.assign("twice", 300);

    await().atMost(10, TimeUnit.SECONDS).until(() -> coordinator.outcomes() == 1);
    // Two at the start, one for the duplicate, one when the job ended.
    expectCredits(4);
    assertThat(coordinator.outcomes()).isEqualTo(1);
  }

  @Test
  void whenAskedEveryCompletionCarriesAnAttestationThatVerifiesWithTheRegisteredKey()
      throws Exception {
    connect(8, 0, 0, true);
    expectCredits(8);
    VerifyingKey registered =
        VerifyingKey.fromBytes(coordinator.registers().getFirst().getPublicKey().toByteArray());
    assertThat(registered).isEqualTo(key.verifyingKey());

    // Eight at once, so that some may share a batch.
    for (int i = 0; i < 8; i++) {
      coordinator.assign("job-" + i, 0);
    }
    await().atMost(10, TimeUnit.SECONDS).until(() -> coordinator.completions().size() == 8);
    for (JobCompleted c : coordinator.completions()) {
      assertThat(c.hasAttestation()).as(c.getJobId()).isTrue();
      // What the coordinator does: rebuild the statement from the strings it received.
      ObjectNode statement =
          Attestations.statement(
              "w1",
              c.getJobId(),
              c.getAttempt(),
              CanonicalJson.parse(c.getResultJson()),
              CanonicalJson.parse(c.getMetricsJson()));
      assertThat(Attestations.verify(registered, "w1", statement, attestation(c)))
          .as(c.getJobId())
          .isTrue();
      // Someone else's key, or another attempt, does not verify.
      assertThat(
              Attestations.verify(
                  SigningKey.generate().verifyingKey(), "w1", statement, attestation(c)))
          .isFalse();
      ObjectNode otherAttempt = statement.deepCopy().put("attempt", c.getAttempt() + 1);
      assertThat(Attestations.verify(registered, "w1", otherAttempt, attestation(c))).isFalse();
    }
  }

  @Test
  void unlessAskedCompletionsCarryNoAttestationButRegisterStillCarriesTheKey() throws Exception {
    connect(2, 0, 0, false);
    expectCredits(2);
    assertThat(coordinator.registers().getFirst().getPublicKey().toByteArray())
        .isEqualTo(key.verifyingKey().raw());

    coordinator.assign("a", 0);
    coordinator.assign("b", 0);
    await().atMost(10, TimeUnit.SECONDS).until(() -> coordinator.completions().size() == 2);
    assertThat(coordinator.completions()).noneMatch(JobCompleted::hasAttestation);
  }

  private static Attestations.Attestation attestation(JobCompleted c) {
    OutcomeAttestation a = c.getAttestation();
    return new Attestations.Attestation(
        a.getIndex(),
        a.getSize(),
        a.getProofList().stream().map(ByteString::toByteArray).toList(),
        a.getSignature().toByteArray());
  }
}
