package net.aitbc.grid.worker.backend;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Not a check: measures whether one padded forward pass of B short sentences costs less per
 * sentence than B single passes, on this host. Run with -Dbatch.speed=true.
 */
@EnabledIfSystemProperty(named = "batch.speed", matches = "true")
class MiniLmBatchSpeedTest {

  private static final String[] TOPICS = {
    "a GPU owner connects a worker to the grid and advertises the models it has loaded",
    "the coordinator commits every job to PostgreSQL before it answers the client",
    "sentence embeddings turn short texts into vectors that can be compared by cosine similarity",
    "a lease that runs out puts the job back in the queue for another worker",
    "clients share the workers fairly by the weights of their keys",
    "the REST bridge translates the command-line client's calls into gRPC",
    "heartbeats keep a worker's session and the leases of its jobs alive",
    "an attempt number fences stale results from a slow or partitioned worker",
  };

  @Test
  void measure() throws Exception {
    EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel(Runnable::run);
    MiniLmBatchEncoder encoder = new MiniLmBatchEncoder();
    int n = 96;
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      texts.add(TOPICS[i % TOPICS.length] + " (" + i + ")");
    }
    for (int w = 0; w < 3; w++) {
      texts.forEach(model::embed);
      encoder.encode(texts.subList(0, 16), t -> { throw new IllegalStateException(); });
    }
    int[] sizes = {1, 2, 4, 8, 16, 32};
    for (int threads : new int[] {1, 2}) {
      List<Double> single = new ArrayList<>();
      List<List<Double>> batched = new ArrayList<>();
      for (int b : sizes) {
        batched.add(new ArrayList<>());
      }
      for (int rep = 0; rep < 5; rep++) {
        single.add(perSentence(threads, texts, 1, t -> t.forEach(model::embed)));
        for (int k = 0; k < sizes.length; k++) {
          batched.get(k).add(perSentence(threads, texts, sizes[k],
              t -> encoder.encode(t, x -> { throw new IllegalStateException(); })));
        }
      }
      StringBuilder line = new StringBuilder(String.format("threads=%d medians of 5, ms/sentence: one pass per text %.2f",
          threads, median(single)));
      for (int k = 0; k < sizes.length; k++) {
        line.append(String.format(" | B=%d %.2f", sizes[k], median(batched.get(k))));
      }
      System.out.println(line);
    }
    encoder.close();
  }

  /** Single-sentence jobs from T threads on the backend: one pass per text, then batched. */
  @Test
  void backendJobs() throws Exception {
    EmbeddedBackend alone = new EmbeddedBackend();
    EmbeddedBackend batched = new EmbeddedBackend(EmbeddingBatching.DEFAULT);
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < 96; i++) {
      texts.add(TOPICS[i % TOPICS.length] + " (" + i + ")");
    }
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    for (int threads : new int[] {2, 8}) {
      List<Double> a = new ArrayList<>();
      List<Double> b = new ArrayList<>();
      for (int rep = 0; rep < 6; rep++) {
        // Alternating, so that a busy moment of the shared host does not fall on one side only.
        for (EmbeddedBackend backend : List.of(alone, batched)) {
          double ms = perSentence(threads, texts, 1, t -> backend.run(
              JobRun.of("embedding", null, json.createObjectNode().put("prompt", t.getFirst()))));
          (backend == alone ? a : b).add(ms);
        }
      }
      Collections.sort(a);
      Collections.sort(b);
      System.out.printf("jobs threads=%d: alone median %.3f ms/sentence %s | batched median %.3f %s | alone/batched %.2f%n",
          threads, median(a), a, median(b), b, median(a) / median(b));
    }
    batched.close();
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  interface Chunk {
    void run(List<String> texts) throws Exception;
  }

  /** Milliseconds per sentence with {@code threads} callers each taking chunks of {@code b}. */
  private static double perSentence(int threads, List<String> texts, int b, Chunk chunk)
      throws Exception {
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    long start = System.nanoTime();
    List<Thread> running = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      running.add(Thread.ofPlatform().start(() -> {
        for (int from = next.getAndAdd(b); from < texts.size(); from = next.getAndAdd(b)) {
          try {
            chunk.run(texts.subList(from, Math.min(from + b, texts.size())));
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      }));
    }
    for (Thread t : running) {
      t.join();
    }
    return (System.nanoTime() - start) / 1e6 / texts.size();
  }
}
