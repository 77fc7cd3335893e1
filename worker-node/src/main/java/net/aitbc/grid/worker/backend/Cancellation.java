package net.aitbc.grid.worker.backend;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The cancellation signal of one job run; backends register how to stop their in-flight work. */
public final class Cancellation {

  private static final Logger logger = LoggerFactory.getLogger(Cancellation.class);

  private final List<Runnable> callbacks = new ArrayList<>();
  private boolean cancelled;

  /** Whether {@link #cancel()} was called. */
  public synchronized boolean isCancelled() {
    return cancelled;
  }

  /**
   * Throws {@link BackendException#canceled()} once canceled, for loops that check between steps.
   */
  public void throwIfCancelled() throws BackendException {
    if (isCancelled()) {
      throw BackendException.canceled();
    }
  }

  /**
   * Runs {@code callback} on cancellation, or at once if already canceled (e.g. closes an HTTP
   * stream).
   */
  public void onCancel(Runnable callback) {
    synchronized (this) {
      if (!cancelled) {
        callbacks.add(callback);
        return;
      }
    }
    runQuietly(callback);
  }

  /** Cancels the run: marks it and runs the registered callbacks once. Idempotent. */
  public void cancel() {
    List<Runnable> toRun;
    synchronized (this) {
      if (cancelled) {
        return;
      }
      cancelled = true;
      toRun = List.copyOf(callbacks);
      callbacks.clear();
    }
    // Outside the lock: a callback may block briefly (closing a socket).
    toRun.forEach(Cancellation::runQuietly);
  }

  private static void runQuietly(Runnable callback) {
    try {
      callback.run();
    } catch (RuntimeException e) {
      logger.debug("cancellation callback failed", e);
    }
  }
}
