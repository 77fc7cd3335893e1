package net.aitbc.grid.worker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.ledger.Attestations;
import net.aitbc.grid.ledger.Attestations.Attestation;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The group-commit signer: what arrives while a batch is being signed makes up the next batch, one
 * signature covers each batch, and every outcome verifies on its own, as the coordinator checks it,
 * from the strings the worker sent.
 */
class OutcomeSignerTest {

  private static final String WORKER = "w1";
  private static final String METRICS = "{\"duration_ms\":12,\"backend\":\"noop\",\"gpu_seconds\":0.5}";

  private final SigningKey key = SigningKey.generate();
  private final VerifyingKey verifying = key.verifyingKey();
  private final ExecutorService threads =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().factory());

  @AfterEach
  void stop() {
    threads.shutdownNow();
  }

  /** An executor that runs its tasks only when told: the outcomes queued by then are one batch. */
  private static final class Held implements java.util.concurrent.Executor {
    private final List<Runnable> tasks = new ArrayList<>();

    @Override
    public synchronized void execute(Runnable task) {
      tasks.add(task);
    }

    synchronized void runAll() {
      List<Runnable> now = List.copyOf(tasks);
      tasks.clear();
      now.forEach(Runnable::run);
    }

    synchronized int waiting() {
      return tasks.size();
    }
  }

  private static String jobId(int i) {
    return String.format("%032x", i);
  }

  private static String result(int i) {
    // Not canonical (key order, spaces): the statement is built from the canonical form.
    return "{\"text\": \"answer \\u00e9 " + i + "\", \"a\": [1.5, null, " + i + "]}";
  }

  /** The statement as the coordinator rebuilds it from what it received. */
  private static ObjectNode received(String jobId, int attempt, String result, String metrics) {
    return Attestations.statement(
        WORKER, jobId, attempt, CanonicalJson.parse(result), CanonicalJson.parse(metrics));
  }

  @Test
  void batchesOfOneToManyEachTakeOneSignatureAndEveryOutcomeVerifies() throws Exception {
    Held held = new Held();
    OutcomeSigner signer = new OutcomeSigner(key, WORKER, held);
    int made = 0;
    for (int n : new int[] {1, 2, 3, 4, 5, 7, 8, 9, 33, OutcomeSigner.MAX_BATCH}) {
      List<CompletableFuture<Attestation>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(signer.sign(jobId(made + i), 1 + i % 3, result(made + i), METRICS));
      }
      // However many arrived, one drain task was asked for.
      assertThat(held.waiting()).isEqualTo(1);
      assertThat(futures).noneMatch(CompletableFuture::isDone);
      held.runAll();
      Set<String> signatures = new HashSet<>();
      for (int i = 0; i < n; i++) {
        Attestation a = futures.get(i).getNow(null);
        assertThat(a).isNotNull();
        assertThat(a.index()).isEqualTo(i);
        assertThat(a.size()).isEqualTo(n);
        signatures.add(Hex.encode(a.signature()));
        ObjectNode statement = received(jobId(made + i), 1 + i % 3, result(made + i), METRICS);
        assertThat(Attestations.verify(verifying, WORKER, statement, a)).as("n=%d i=%d", n, i).isTrue();
      }
      assertThat(signatures).hasSize(1);
      made += n;
    }
    assertThat(signer.signatures()).isEqualTo(10);
    assertThat(signer.signed()).isEqualTo(made);
  }

  @Test
  void moreThanABatchHoldsIsSplitIntoFullBatches() {
    Held held = new Held();
    OutcomeSigner signer = new OutcomeSigner(key, WORKER, held);
    int n = 2 * OutcomeSigner.MAX_BATCH + 3;
    List<CompletableFuture<Attestation>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      futures.add(signer.sign(jobId(i), 1, result(i), METRICS));
    }
    held.runAll();
    assertThat(signer.signatures()).isEqualTo(3);
    assertThat(futures.getFirst().join().size()).isEqualTo(OutcomeSigner.MAX_BATCH);
    assertThat(futures.get(OutcomeSigner.MAX_BATCH).join().index()).isZero();
    assertThat(futures.getLast().join().size()).isEqualTo(3);
    for (int i = 0; i < n; i++) {
      assertThat(
              Attestations.verify(
                  verifying, WORKER, received(jobId(i), 1, result(i), METRICS), futures.get(i).join()))
          .isTrue();
    }
  }

  @Test
  void aLoneOutcomeIsSignedAtOnceInABatchOfOne() throws Exception {
    OutcomeSigner signer = new OutcomeSigner(key, WORKER, threads);
    for (int i = 0; i < 3; i++) {
      Attestation a = signer.sign(jobId(i), 1, result(i), METRICS).get(5, TimeUnit.SECONDS);
      assertThat(a.size()).isEqualTo(1);
      assertThat(a.proof()).isEmpty();
      assertThat(Attestations.verify(verifying, WORKER, received(jobId(i), 1, result(i), METRICS), a))
          .isTrue();
    }
    assertThat(signer.signatures()).isEqualTo(3);
  }

  @Test
  void manyThreadsCompletingAtOnceShareSignaturesAndEachOutcomeVerifies() throws Exception {
    OutcomeSigner signer = new OutcomeSigner(key, WORKER, threads);
    int threadCount = 16;
    int each = 40;
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<List<Attestation>>> perThread = new ArrayList<>();
    for (int t = 0; t < threadCount; t++) {
      int first = t * each;
      perThread.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  go.await();
                  List<Attestation> mine = new ArrayList<>();
                  for (int i = first; i < first + each; i++) {
                    // Like a job thread: waits for its signature before its next completion.
                    mine.add(signer.sign(jobId(i), 1, result(i), METRICS).get());
                  }
                  return mine;
                } catch (InterruptedException | ExecutionException e) {
                  throw new IllegalStateException(e);
                }
              },
              threads));
    }
    go.countDown();
    int total = threadCount * each;
    Set<String> signatures = new HashSet<>();
    int largest = 0;
    for (int t = 0; t < threadCount; t++) {
      List<Attestation> mine = perThread.get(t).get(60, TimeUnit.SECONDS);
      for (int k = 0; k < each; k++) {
        int i = t * each + k;
        Attestation a = mine.get(k);
        signatures.add(Hex.encode(a.signature()));
        largest = Math.max(largest, a.size());
        assertThat(Attestations.verify(verifying, WORKER, received(jobId(i), 1, result(i), METRICS), a))
            .as("outcome %d", i)
            .isTrue();
      }
    }
    assertThat(signer.signed()).isEqualTo(total);
    assertThat(signer.signatures()).isEqualTo(signatures.size()).isLessThan(total);
    assertThat(largest).isGreaterThan(1).isLessThanOrEqualTo(OutcomeSigner.MAX_BATCH);
  }

  @Test
  void aTamperedOutcomeDoesNotVerify() {
    Held held = new Held();
    OutcomeSigner signer = new OutcomeSigner(key, WORKER, held);
    List<CompletableFuture<Attestation>> futures = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      futures.add(signer.sign(jobId(i), 2, result(i), METRICS));
    }
    held.runAll();
    Attestation a = futures.get(3).join();
    ObjectNode honest = received(jobId(3), 2, result(3), METRICS);
    assertThat(Attestations.verify(verifying, WORKER, honest, a)).isTrue();

    // Another result, other metrics, attempt, job or worker: each is a different statement.
    assertThat(Attestations.verify(verifying, WORKER, received(jobId(3), 2, result(4), METRICS), a))
        .isFalse();
    assertThat(
            Attestations.verify(
                verifying,
                WORKER,
                received(jobId(3), 2, result(3), METRICS.replace("12", "13")),
                a))
        .isFalse();
    assertThat(Attestations.verify(verifying, WORKER, received(jobId(3), 3, result(3), METRICS), a))
        .isFalse();
    assertThat(Attestations.verify(verifying, WORKER, received(jobId(4), 2, result(3), METRICS), a))
        .isFalse();
    assertThat(Attestations.verify(verifying, "w2", honest.deepCopy().put("worker_id", "w2"), a))
        .isFalse();
    // Another outcome's place in the batch, a changed proof or signature, another key.
    assertThat(Attestations.verify(verifying, WORKER, honest, futures.get(2).join())).isFalse();
    List<byte[]> proof = new ArrayList<>(a.proof());
    byte[] first = proof.getFirst().clone();
    first[0] ^= 1;
    proof.set(0, first);
    assertThat(
            Attestations.verify(
                verifying, WORKER, honest, new Attestation(a.index(), a.size(), proof, a.signature())))
        .isFalse();
    byte[] signature = a.signature().clone();
    signature[10] ^= 1;
    assertThat(
            Attestations.verify(
                verifying, WORKER, honest, new Attestation(a.index(), a.size(), a.proof(), signature)))
        .isFalse();
    assertThat(Attestations.verify(SigningKey.generate().verifyingKey(), WORKER, honest, a))
        .isFalse();
  }

  @Test
  void aResultThatIsNotJsonIsRefusedOnTheCallersThread() {
    OutcomeSigner signer = new OutcomeSigner(key, WORKER, threads);
    assertThatThrownBy(() -> signer.sign(jobId(1), 1, "{\"a\":NaN}", METRICS))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> signer.sign(jobId(1), 1, "{}", "[1]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metrics");
    assertThat(signer.signatures()).isZero();
  }

  @Test
  void anExecutorThatRefusesFailsTheOutcomesAndTheNextOneTriesAgain() throws Exception {
    ExecutorService closed = Executors.newSingleThreadExecutor();
    closed.shutdown();
    OutcomeSigner refused = new OutcomeSigner(key, WORKER, closed);
    assertThatThrownBy(() -> refused.sign(jobId(1), 1, "{}", "{}").join())
        .hasCauseInstanceOf(RejectedExecutionException.class);
    assertThatThrownBy(() -> refused.sign(jobId(2), 1, "{}", "{}").join())
        .hasCauseInstanceOf(RejectedExecutionException.class);
    assertThat(refused.signatures()).isZero();
  }
}
