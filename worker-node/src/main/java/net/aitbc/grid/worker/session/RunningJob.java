package net.aitbc.grid.worker.session;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.worker.backend.Cancellation;
import org.jspecify.annotations.Nullable;

/**
 * One attempt running on this worker. Its state moves once from RUNNING to how it ended, and only
 * the move that wins reports: a job is completed, failed, revoked, aborted or handed back, never
 * two of these.
 */
final class RunningJob {

  /** Identifies an attempt; the attempt number fences off stale outcomes. */
  record Key(String jobId, int attempt) {}

  /** How the attempt ended. */
  enum State {
    RUNNING,
    /** The job thread reports its outcome. */
    REPORTED,
    /** The coordinator revoked it: report nothing, return the credit once stopped. */
    REVOKED,
    /** The stream was lost: report nothing, the coordinator requeues it. */
    ABORTED,
    /** A worker shutdown ran out of time: reported as a retryable failure, no credit. */
    HANDED_BACK
  }

  private final Key key;
  private final Assignment assignment;
  private final ProgressCoalescer progress;
  private final Cancellation cancellation = new Cancellation();
  private final CompletableFuture<Void> done = new CompletableFuture<>();
  private final AtomicReference<State> state = new AtomicReference<>(State.RUNNING);
  private final long startNanos = System.nanoTime();
  private @Nullable Thread thread;

  RunningJob(Key key, Assignment assignment, ProgressCoalescer progress) {
    this.key = key;
    this.assignment = assignment;
    this.progress = progress;
  }

  Key key() {
    return key;
  }

  Assignment assignment() {
    return assignment;
  }

  ProgressCoalescer progress() {
    return progress;
  }

  Cancellation cancellation() {
    return cancellation;
  }

  /** Completes once the job's thread has stopped, however it ended. */
  CompletableFuture<Void> done() {
    return done;
  }

  State state() {
    return state.get();
  }

  long elapsedMillis() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  /** Records the thread to interrupt on cancellation; false if the job ended before it started. */
  synchronized boolean attach(Thread runner) {
    if (state.get() != State.RUNNING) {
      return false;
    }
    thread = runner;
    return true;
  }

  /** Forgets the thread, so a late cancellation does not interrupt the reporting code. */
  synchronized void detach() {
    thread = null;
  }

  /**
   * Ends the attempt as {@code end} if it is still running; any end but REPORTED also stops the
   * run.
   */
  boolean end(State end) {
    if (!state.compareAndSet(State.RUNNING, end)) {
      return false;
    }
    if (end != State.REPORTED) {
      progress.discard();
      cancellation.cancel();
      synchronized (this) {
        if (thread != null) {
          thread.interrupt();
        }
      }
    }
    return true;
  }

  /** Marks the job's thread as finished. */
  void stopped() {
    done.complete(null);
  }
}
