package net.aitbc.grid.worker.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The batcher around a fake model whose vector for a text is that text's number. */
class EmbeddingBatcherTest {

  private final List<List<String>> passes = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final ExecutorService jobs = Executors.newVirtualThreadPerTaskExecutor();
  private volatile boolean holdFirstPass;

  /** Records each pass; the first one waits for {@link #release} when asked to, so jobs pile up. */
  private MiniLmBatchEncoder.Encoded encode(List<String> texts) throws Exception {
    passes.add(List.copyOf(texts));
    if (holdFirstPass && passes.size() == 1) {
      release.await(10, TimeUnit.SECONDS);
    }
    List<float[]> vectors = new ArrayList<>();
    int[] tokens = new int[texts.size()];
    for (int i = 0; i < texts.size(); i++) {
      if (texts.get(i).equals("poison")) {
        throw new IllegalStateException("the model choked on poison");
      }
      vectors.add(new float[] {Float.parseFloat(texts.get(i))});
      tokens[i] = 3;
    }
    return new MiniLmBatchEncoder.Encoded(vectors, tokens);
  }

  @AfterEach
  void stop() {
    release.countDown();
    jobs.shutdownNow();
  }

  @Test
  void jobsArrivingTogetherShareOnePassAndEachGetsItsOwnVectorsInOrder() throws Exception {
    EmbeddingBatcher batcher =
        new EmbeddingBatcher(this::encode, new EmbeddingBatching(Duration.ofMillis(500), 64));
    List<CompletableFuture<EmbeddingBatcher.Vectors>> results = new ArrayList<>();
    for (int job = 0; job < 8; job++) {
      List<String> texts = List.of(job + "1", job + "2", job + "3");
      results.add(submit(batcher, texts, new Cancellation()));
    }
    for (int job = 0; job < 8; job++) {
      EmbeddingBatcher.Vectors vectors = results.get(job).get(10, TimeUnit.SECONDS);
      assertThat(vectors.vectors()).extracting(v -> v[0])
          .containsExactly(job * 10 + 1f, job * 10 + 2f, job * 10 + 3f);
      assertThat(vectors.tokens()).isEqualTo(9);
    }
    // A 500 ms window is long enough for all eight to join the first pass on any host.
    assertThat(passes).hasSize(1);
    assertThat(passes.getFirst()).hasSize(24);
    assertThat(results.getFirst().get().largestBatch()).isEqualTo(24);
    assertThat(batcher.close()).isTrue();
  }

  @Test
  void noPassHoldsMoreThanMaxBatchTextsAndABigJobTakesTurns() throws Exception {
    EmbeddingBatcher batcher =
        new EmbeddingBatcher(this::encode, new EmbeddingBatching(Duration.ofMillis(1), 4));
    holdFirstPass = true;
    CompletableFuture<EmbeddingBatcher.Vectors> first = submit(batcher, List.of("1"), new Cancellation());
    await().until(() -> passes.size() == 1);
    List<String> many = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      many.add("10" + i);
    }
    CompletableFuture<EmbeddingBatcher.Vectors> big = submit(batcher, many, new Cancellation());
    await().pollDelay(Duration.ofMillis(20)).until(() -> true);
    CompletableFuture<EmbeddingBatcher.Vectors> small = submit(batcher, List.of("7"), new Cancellation());
    await().pollDelay(Duration.ofMillis(20)).until(() -> true);
    release.countDown();

    assertThat(big.get(10, TimeUnit.SECONDS).vectors()).extracting(v -> (int) v[0])
        .containsExactly(100, 101, 102, 103, 104, 105, 106, 107, 108, 109);
    assertThat(small.get(10, TimeUnit.SECONDS).vectors()).extracting(v -> v[0]).containsExactly(7f);
    assertThat(first.get().vectors()).hasSize(1);
    assertThat(passes).allSatisfy(p -> assertThat(p).hasSizeLessThanOrEqualTo(4));
    // The small job rode along with the big one's first slice, not after all of it.
    assertThat(passes.get(1)).containsExactly("100", "101", "102", "103");
    assertThat(passes.get(2)).contains("7");
    batcher.close();
  }

  @Test
  void aCancelledJobLeavesTheOthersTheirVectors() throws Exception {
    EmbeddingBatcher batcher =
        new EmbeddingBatcher(this::encode, new EmbeddingBatching(Duration.ofMillis(1), 32));
    holdFirstPass = true;
    Cancellation doomed = new Cancellation();
    CompletableFuture<EmbeddingBatcher.Vectors> running = submit(batcher, List.of("1", "2"), doomed);
    await().until(() -> passes.size() == 1);
    Cancellation waitingDoomed = new Cancellation();
    CompletableFuture<EmbeddingBatcher.Vectors> waiting = submit(batcher, List.of("5"), waitingDoomed);
    CompletableFuture<EmbeddingBatcher.Vectors> kept = submit(batcher, List.of("6", "7"), new Cancellation());
    // One cancelled inside the running pass, one while it waits for the next.
    doomed.cancel();
    waitingDoomed.cancel();
    assertCanceled(running);
    assertCanceled(waiting);
    release.countDown();

    assertThat(kept.get(10, TimeUnit.SECONDS).vectors()).extracting(v -> v[0]).containsExactly(6f, 7f);
    // The cancelled waiting job's text never went through the model.
    assertThat(passes).noneSatisfy(p -> assertThat(p).contains("5"));
    batcher.close();
  }

  @Test
  void aFailingTextFailsOnlyItsOwnJob() throws Exception {
    EmbeddingBatcher batcher =
        new EmbeddingBatcher(this::encode, new EmbeddingBatching(Duration.ofMillis(300), 32));
    CompletableFuture<EmbeddingBatcher.Vectors> good = submit(batcher, List.of("1"), new Cancellation());
    CompletableFuture<EmbeddingBatcher.Vectors> bad = submit(batcher, List.of("2", "poison"), new Cancellation());
    CompletableFuture<EmbeddingBatcher.Vectors> alsoGood = submit(batcher, List.of("3"), new Cancellation());

    assertThat(good.get(10, TimeUnit.SECONDS).vectors()).extracting(v -> v[0]).containsExactly(1f);
    assertThat(alsoGood.get(10, TimeUnit.SECONDS).vectors()).extracting(v -> v[0]).containsExactly(3f);
    assertThatThrownBy(() -> bad.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(IllegalStateException.class)
        .hasRootCauseMessage("the model choked on poison");
    batcher.close();
  }

  @Test
  void closingFailsWaitingJobsRetryably() throws Exception {
    EmbeddingBatcher batcher =
        new EmbeddingBatcher(this::encode, new EmbeddingBatching(Duration.ofMillis(1), 32));
    holdFirstPass = true;
    submit(batcher, List.of("1"), new Cancellation());
    await().until(() -> passes.size() == 1);
    CompletableFuture<EmbeddingBatcher.Vectors> waiting = submit(batcher, List.of("2"), new Cancellation());
    await().pollDelay(Duration.ofMillis(20)).until(() -> true);
    // Closed while a pass runs: the pass thread is interrupted, and it ends.
    assertThat(batcher.close()).isTrue();

    assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS))
        .cause()
        .cause()
        .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue());
    Cancellation none = new Cancellation();
    assertThatThrownBy(() -> batcher.embed(List.of("3"), none))
        .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.retryable()).isTrue());
  }

  private CompletableFuture<EmbeddingBatcher.Vectors> submit(
      EmbeddingBatcher batcher, List<String> texts, Cancellation cancellation) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return batcher.embed(texts, cancellation);
          } catch (BackendException e) {
            throw new IllegalStateException(e.getMessage(), e);
          }
        },
        jobs);
  }

  private static void assertCanceled(CompletableFuture<?> job) {
    assertThatThrownBy(() -> job.get(10, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasRootCauseMessage("job canceled");
  }
}
