package net.aitbc.grid.worker.session;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.aitbc.grid.worker.backend.ProgressSink;
import org.jspecify.annotations.Nullable;

/**
 * Joins a job's streamed chunks into at most one progress message per interval, so a model that
 * emits one token at a time does not turn into one stream message per token; text is delayed, never
 * lost.
 */
final class ProgressCoalescer implements ProgressSink {

  private final Consumer<String> sender;
  private final ScheduledExecutorService scheduler;
  private final long intervalNanos;
  private final StringBuilder pending = new StringBuilder();
  private long lastSent;
  private boolean sentAny;
  private boolean closed;
  private @Nullable ScheduledFuture<?> scheduled;

  /**
   * Sends joined text with {@code sender}, at most once per {@code intervalNanos}, timed on {@code
   * scheduler}.
   */
  ProgressCoalescer(
      Consumer<String> sender, ScheduledExecutorService scheduler, long intervalNanos) {
    this.sender = sender;
    this.scheduler = scheduler;
    this.intervalNanos = intervalNanos;
  }

  @Override
  public synchronized void output(String chunk) {
    if (closed || chunk.isEmpty()) {
      return;
    }
    pending.append(chunk);
    long now = System.nanoTime();
    long wait = sentAny ? lastSent + intervalNanos - now : 0;
    if (wait <= 0) {
      sendLocked(now);
    } else if (scheduled == null) {
      try {
        scheduled = scheduler.schedule(this::timerFired, wait, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // Shutting down: send now rather than lose the text.
        sendLocked(now);
      }
    }
  }

  /** Sends what is pending and accepts nothing more; called before the job's outcome is sent. */
  synchronized void flushAndClose() {
    if (closed) {
      return;
    }
    cancelTimer();
    sendLocked(System.nanoTime());
    closed = true;
  }

  /** Drops what is pending: the run was revoked or its stream is gone. */
  synchronized void discard() {
    closed = true;
    cancelTimer();
    pending.setLength(0);
  }

  private synchronized void timerFired() {
    scheduled = null;
    if (!closed) {
      sendLocked(System.nanoTime());
    }
  }

  private void sendLocked(long now) {
    if (pending.isEmpty()) {
      return;
    }
    String text = pending.toString();
    pending.setLength(0);
    lastSent = now;
    sentAny = true;
    sender.accept(text);
  }

  private void cancelTimer() {
    if (scheduled != null) {
      scheduled.cancel(false);
      scheduled = null;
    }
  }
}
