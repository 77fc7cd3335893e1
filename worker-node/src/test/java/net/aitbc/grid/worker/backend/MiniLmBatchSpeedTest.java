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
    int threads = Integer.getInteger("batch.threads", 1);
    for (int rep = 0; rep < 5; rep++) {
      StringBuilder line = new StringBuilder("threads=" + threads + " rep " + rep + ": ");
      line.append(String.format("single %.3f ms/s", perSentence(threads, texts, 1, t -> {
        for (String s : t) {
          model.embed(s);
        }
      })));
      for (int b : new int[] {1, 2, 4, 8, 16, 32}) {
        line.append(String.format(" | B=%d %.3f", b, perSentence(threads, texts, b, t -> encoder.encode(t, x -> { throw new IllegalStateException(); }))));
      }
      System.out.println(line);
    }
    encoder.close();
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
