package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.aitbc.grid.coordinator.store.Database;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits many small writes in few transactions: callers submit items and get a future; a few
 * threads take whatever is queued (up to a batch) and commit it in one transaction. A future
 * completes only after its transaction has committed, so nothing is acknowledged early. A batch the
 * database refuses is split into its items; an item it keeps refusing fails after {@link #MAX_TRIES}
 * tries. Only an unreachable database is waited out for as long as it takes (when asked to). A
 * commit may leave work to do once its callers have been answered ({@link Committed#then}).
 *
 * @param <I> what is written
 * @param <O> what each write returns
 */
public final class GroupCommitter<I, O> implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(GroupCommitter.class);
  /** Tries of one item the database refuses (a conflict may pass; a refusal will not). */
  static final int MAX_TRIES = 3;

  private final String name;
  private final Function<List<I>, Committed<O>> commit;
  private final int maxBatch;
  private final boolean retryUnavailable;
  private final BlockingQueue<Pending<I, O>> queue;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean closed;

  /**
   * Starts the committer threads.
   *
   * @param name names the threads and errors
   * @param commit writes a batch in one transaction and returns one output per input, in order
   * @param maxBatch the most items per transaction
   * @param capacity the most items waiting; beyond it, submissions fail with {@link Overloaded}
   * @param parallelism how many transactions may be in flight at once
   * @param retryUnavailable whether a batch that failed because the database is unreachable is
   *     retried until it commits (for writes already promised to someone, such as a worker's
   *     outcome) rather than failed back to its callers (for writes nobody was told about yet)
   */
  public GroupCommitter(String name, Function<List<I>, List<O>> commit, int maxBatch, int capacity,
      int parallelism, boolean retryUnavailable) {
    this(commit.andThen(Committed::of), name, maxBatch, capacity, parallelism, retryUnavailable);
  }

  /**
   * As {@link #GroupCommitter(String, Function, int, int, int, boolean)}, with a commit that returns
   * what to do once the batch's callers have been answered.
   */
  public static <I, O> GroupCommitter<I, O> thenAfter(String name, Function<List<I>, Committed<O>> commit,
      int maxBatch, int capacity, int parallelism, boolean retryUnavailable) {
    return new GroupCommitter<>(requireNonNull(commit, "commit"), name, maxBatch, capacity, parallelism,
        retryUnavailable);
  }

  private GroupCommitter(Function<List<I>, Committed<O>> commit, String name, int maxBatch, int capacity,
      int parallelism, boolean retryUnavailable) {
    this.name = requireNonNull(name, "name");
    this.commit = commit;
    this.maxBatch = maxBatch;
    this.retryUnavailable = retryUnavailable;
    this.queue = new ArrayBlockingQueue<>(capacity);
    for (int i = 0; i < parallelism; i++) {
      threads.add(Thread.ofPlatform().name(name + "-committer-" + i).daemon().start(this::run));
    }
  }

  /** Queues one item; the future completes after its batch commits, or fails with the batch. */
  public CompletableFuture<O> submit(I item) {
    Pending<I, O> p = new Pending<>(item, new CompletableFuture<>());
    if (closed) {
      p.future.completeExceptionally(new ShuttingDown());
    } else if (!queue.offer(p)) {
      p.future.completeExceptionally(new Overloaded(name + " queue is full (" + queue.size() + " waiting)"));
    }
    return p.future;
  }

  private void run() {
    List<Pending<I, O>> batch = new ArrayList<>(maxBatch);
    List<I> items = new ArrayList<>(maxBatch);
    while (!closed || !queue.isEmpty()) {
      try {
        Pending<I, O> first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, maxBatch - 1);
        for (Pending<I, O> p : batch) {
          items.add(p.item);
        }
        commitBatch(batch, items);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        batch.clear();
        items.clear();
      }
    }
  }

  private void commitBatch(List<Pending<I, O>> batch, List<I> items) {
    Committed<O> outputs;
    long pauseMillis = 50;
    int tries = 0;
    while (true) {
      try {
        outputs = commit.apply(items);
        break;
      } catch (RuntimeException e) {
        tries++;
        Database.Failure failure = Database.classify(e);
        if (failure == Database.Failure.UNAVAILABLE) {
          if (retryUnavailable && !closed) {
            logger.warn("{}: database unavailable, retrying a batch of {} in {} ms: {}", name, items.size(),
                pauseMillis, e.toString());
            pause(pauseMillis);
            pauseMillis = Math.min(pauseMillis * 2, 2_000);
            continue;
          }
          fail(batch, retryUnavailable ? new ShuttingDown() : e);
          return;
        }
        if (batch.size() > 1) {
          // One bad item must not fail its neighbours: commit them one by one.
          logger.warn("{}: a batch of {} failed ({}); committing its items one by one", name, items.size(),
              e.toString());
          for (Pending<I, O> p : batch) {
            commitBatch(List.of(p), List.of(p.item));
          }
          return;
        }
        if (tries >= MAX_TRIES) {
          // Retrying cannot fix what the database refuses: the caller decides what to do instead.
          logger.warn("{}: giving up on an item after {} tries: {}", name, tries, e.toString());
          fail(batch, e);
          return;
        }
        pause(pauseMillis * tries);
      }
    }
    for (int i = 0; i < batch.size(); i++) {
      batch.get(i).future.complete(outputs.outputs().get(i));
    }
    try {
      outputs.then().run();
    } catch (RuntimeException e) {
      logger.error("{}: the work after a commit failed", name, e);
    }
  }

  private static <I, O> void fail(List<Pending<I, O>> batch, RuntimeException e) {
    for (Pending<I, O> p : batch) {
      p.future.completeExceptionally(e);
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops taking items, commits what is queued, and waits for the threads. */
  @Override
  public void close() {
    closed = true;
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private record Pending<I, O>(I item, CompletableFuture<O> future) {}

  /**
   * What one transaction returned.
   *
   * @param outputs one per item, in order
   * @param then what to do once the items' callers have been answered (after the commit)
   */
  public record Committed<O>(List<O> outputs, Runnable then) {
    private static final Runnable NOTHING = () -> { };

    /** Outputs with nothing to do after. */
    public static <O> Committed<O> of(List<O> outputs) {
      return new Committed<>(outputs, NOTHING);
    }
  }

  /** Too many items are waiting: the caller should retry later. */
  public static final class Overloaded extends RuntimeException {
    Overloaded(String message) {
      super(message, null, false, false);
    }
  }

  /** The committer is closing and takes no more items. */
  public static final class ShuttingDown extends RuntimeException {
    ShuttingDown() {
      super("the coordinator is shutting down", null, false, false);
    }
  }
}
