package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import java.util.function.IntConsumer;

/**
 * How many messages one worker stream asks its transport for. A message is asked for only while
 * the messages held (arrived, not yet done with: an outcome waits for its commit) plus the ones
 * asked for and not yet arrived, each counted at the largest size the transport lets in, stay within
 * a byte budget and a message budget. So what a stream holds is bounded in bytes, however large its
 * messages, and a fast worker cannot outrun the database. Asks go out a few at a time: each one
 * wakes the transport.
 */
final class InboundWindow {
  private final long maxMessageBytes;
  private final long maxBytes;
  private final int maxMessages;
  private final int batch;
  private final IntConsumer request;
  // Guarded by this.
  private int unarrived;
  private int held;
  private long heldBytes;

  /**
   * A window that calls {@code request} to ask for more.
   *
   * @param maxMessageBytes the largest message the transport accepts
   * @param maxBytes what held messages plus outstanding asks may add up to
   * @param maxMessages how many messages may be held or asked for at once
   */
  InboundWindow(long maxMessageBytes, long maxBytes, int maxMessages, IntConsumer request) {
    this.maxMessageBytes = maxMessageBytes;
    this.maxBytes = maxBytes;
    this.maxMessages = maxMessages;
    this.request = requireNonNull(request, "request");
    this.batch = (int) Math.max(1, Math.min(maxMessages, maxBytes / maxMessageBytes) / 2);
  }

  /** Asks for the first messages. */
  void start() {
    askMore();
  }

  /** A message of {@code bytes} arrived and is being handled. */
  void arrived(int bytes) {
    synchronized (this) {
      unarrived--;
      held++;
      heldBytes += bytes;
    }
    askMore();
  }

  /** A message of {@code bytes} is done with (an outcome: committed and answered). */
  void done(int bytes) {
    synchronized (this) {
      held--;
      heldBytes -= bytes;
    }
    askMore();
  }

  /** Bytes of messages held now. */
  synchronized long heldBytes() {
    return heldBytes;
  }

  private void askMore() {
    int n;
    synchronized (this) {
      long room = maxBytes - heldBytes - unarrived * maxMessageBytes;
      n = (int) Math.min(Math.max(0, room / maxMessageBytes), maxMessages - held - unarrived);
      if (n < batch && unarrived > 0) {
        n = 0;
      }
      unarrived += Math.max(0, n);
    }
    if (n > 0) {
      request.accept(n);
    }
  }
}
