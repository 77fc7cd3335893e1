package net.aitbc.grid.worker.backend;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dynamic batching: the texts of jobs that arrive within {@link EmbeddingBatching#window()} of the
 * oldest waiting one go through the model in one forward pass of at most {@link
 * EmbeddingBatching#maxBatch()} texts (Triton's max queue delay). One thread runs the passes, so
 * texts that arrive while a pass runs make up the next one, however long the window. A job's
 * thread waits for its own vectors; cancelling it drops only its texts, and a failed pass is
 * retried job by job so that one bad input fails only its own job.
 */
final class EmbeddingBatcher {

  /** Runs a forward pass over some texts; the encoder in production, a counting fake in tests. */
  @FunctionalInterface
  interface Model {
    /** One vector and one token count per text, in order. */
    MiniLmBatchEncoder.Encoded encode(List<String> texts) throws Exception;
  }

  /**
   * One job's vectors, in the order of its texts.
   *
   * @param vectors one per text
   * @param tokens the tokens counted over all its texts
   * @param largestBatch the most texts one of its forward passes held (its own and others')
   */
  record Vectors(List<float[]> vectors, int tokens, int largestBatch) {}

  private static final Logger logger = LoggerFactory.getLogger(EmbeddingBatcher.class);
  // One pass of the largest batch takes well under a second on a small CPU.
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);

  private final Model model;
  private final long windowNanos;
  private final int maxBatch;
  private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
  private final ExecutorService runner;
  private volatile boolean stopped;

  EmbeddingBatcher(Model model, EmbeddingBatching batching) {
    this.model = requireNonNull(model, "model");
    this.windowNanos = batching.window().toNanos();
    this.maxBatch = batching.maxBatch();
    this.runner =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("embedding-batcher").daemon().factory());
    runner.execute(this::loop);
  }

  /**
   * Embeds {@code texts} in whatever passes they share with other jobs; blocks until they are
   * done, the run is cancelled ({@link BackendException#canceled()}) or the pass fails.
   */
  Vectors embed(List<String> texts, Cancellation cancellation) throws BackendException {
    Request request = new Request(List.copyOf(texts));
    cancellation.onCancel(() -> request.done.cancel(false));
    queue.add(request);
    // After the add: close() sets stopped before it drains, so either it fails this request or
    // this check does.
    if (stopped && queue.remove(request)) {
      throw closed();
    }
    try {
      return request.done.get();
    } catch (CancellationException e) {
      throw BackendException.canceled();
    } catch (InterruptedException e) {
      request.done.cancel(false);
      Thread.currentThread().interrupt();
      throw BackendException.canceled();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof BackendException failure) {
        throw failure;
      }
      throw new BackendException("embedding failed: " + e.getCause(), false, e.getCause());
    }
  }

  /**
   * Fails what waits and stops the pass thread; true once the pass it ran, if any, has ended
   * (within a few seconds), so that the model may be freed.
   */
  boolean close() {
    stopped = true;
    runner.shutdownNow();
    failQueued();
    try {
      return runner.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private void failQueued() {
    List<Request> left = new ArrayList<>();
    queue.drainTo(left);
    left.forEach(r -> r.done.completeExceptionally(closed()));
  }

  private static BackendException closed() {
    return new BackendException("the embedded model is closed", true);
  }

  private void loop() {
    // Requests whose texts did not all fit in the previous pass go first.
    ArrayDeque<Request> open = new ArrayDeque<>();
    try {
      while (!stopped && !Thread.currentThread().isInterrupted()) {
        if (open.isEmpty()) {
          open.add(queue.take());
        }
        collect(open);
        List<Slice> batch = take(open);
        if (!batch.isEmpty()) {
          run(batch);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      // Also when a bug ends the loop: nobody may wait for a pass that will not come.
      stopped = true;
      open.forEach(r -> r.done.completeExceptionally(closed()));
      failQueued();
    }
  }

  /**
   * Takes in everything already waiting (so a big job cannot keep later ones out of the next
   * pass), then waits until the oldest request's window ends or the batch is full.
   */
  private void collect(ArrayDeque<Request> open) throws InterruptedException {
    queue.drainTo(open);
    long deadline = open.getFirst().arrived + windowNanos;
    int texts = 0;
    for (Request r : open) {
      texts += r.remaining();
    }
    while (texts < maxBatch) {
      long left = deadline - System.nanoTime();
      Request next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
      if (next == null) {
        return;
      }
      open.add(next);
      texts += next.remaining();
    }
  }

  /**
   * Up to {@code maxBatch} texts from the open requests, oldest first; drops cancelled ones. A
   * request cut short goes to the back, so that a job of many texts takes turns with later ones.
   */
  private List<Slice> take(ArrayDeque<Request> open) {
    List<Slice> batch = new ArrayList<>();
    int room = maxBatch;
    Request cut = null;
    Iterator<Request> it = open.iterator();
    while (it.hasNext() && room > 0) {
      Request r = it.next();
      if (r.done.isDone()) {
        it.remove();
        continue;
      }
      int n = Math.min(room, r.remaining());
      batch.add(new Slice(r, r.next, r.next + n));
      r.next += n;
      room -= n;
      it.remove();
      if (r.remaining() > 0) {
        cut = r;
      }
    }
    if (cut != null) {
      open.addLast(cut);
    }
    return batch;
  }

  private void run(List<Slice> batch) {
    List<String> texts = new ArrayList<>();
    for (Slice s : batch) {
      texts.addAll(s.request.texts.subList(s.from, s.to));
    }
    try {
      deliver(batch, model.encode(texts), texts.size());
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        // close() interrupted the pass: the loop must see it and end.
        Thread.currentThread().interrupt();
      }
      if (batch.size() == 1 || stopped) {
        batch.forEach(s -> fail(s, e));
        return;
      }
      logger.debug("a batch of {} texts failed; running its jobs one by one", texts.size(), e);
      for (Slice s : batch) {
        try {
          deliver(List.of(s), model.encode(s.request.texts.subList(s.from, s.to)), s.to - s.from);
        } catch (Exception alone) {
          if (alone instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          fail(s, alone);
        }
      }
    }
  }

  private static void deliver(List<Slice> batch, MiniLmBatchEncoder.Encoded encoded, int size) {
    int at = 0;
    for (Slice s : batch) {
      for (int i = s.from; i < s.to; i++, at++) {
        s.request.vectors[i] = encoded.vectors().get(at);
        s.request.tokens += encoded.tokens()[at];
      }
      s.request.largestBatch = Math.max(s.request.largestBatch, size);
      s.request.filled += s.to - s.from;
      if (s.request.filled == s.request.texts.size()) {
        s.request.done.complete(
            new Vectors(List.of(s.request.vectors), s.request.tokens, s.request.largestBatch));
      }
    }
  }

  private static void fail(Slice slice, Exception e) {
    slice.request.done.completeExceptionally(
        e instanceof BackendException b
            ? b
            : new BackendException("embedding failed: " + e.getMessage(), false, e));
  }

  /** A job's texts waiting or in progress; its counters are touched by the pass thread only. */
  private static final class Request {
    final List<String> texts;
    final long arrived = System.nanoTime();
    final CompletableFuture<Vectors> done = new CompletableFuture<>();
    final float[][] vectors;
    int next;
    int filled;
    int tokens;
    int largestBatch;

    Request(List<String> texts) {
      this.texts = texts;
      this.vectors = new float[texts.size()][];
    }

    int remaining() {
      return texts.size() - next;
    }
  }

  /** Texts {@code from} (inclusive) to {@code to} of one request, within one pass. */
  private record Slice(Request request, int from, int to) {}
}
