package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import java.util.function.IntConsumer;

/**
 * How many messages one worker stream asks its transport for. Messages held (arrived, not yet done
 * with: an outcome waits for its commit) are bounded in bytes as well as in number: no more is asked
 * for while they add up to the byte budget, and at most {@link #MAX_AHEAD} messages are asked for
 * ahead of their arrival, fewer when this stream's messages are large (as many as the budget left
 * holds of the largest one seen so far). So a stream holds at most the budget plus what it asked
 * ahead, and a fast worker cannot outrun the database. Asks go out in batches: each wakes the
 * transport.
 */
final class InboundWindow {
  /** Messages asked for ahead of their arrival, at most. */
  static final int MAX_AHEAD = 256;
  /** The size assumed of messages not seen yet, when every message so far was smaller. */
  private static final long ASSUMED_MESSAGE_BYTES = 256 << 10;

  private final long maxBytes;
  private final int maxMessages;
  private final IntConsumer request;
  // Guarded by this.
  private int unarrived;
  private int held;
  private long heldBytes;
  private long largest = ASSUMED_MESSAGE_BYTES;

  /**
   * A window that calls {@code request} to ask for more.
   *
   * @param maxBytes what the messages held may add up to before no more is asked for
   * @param maxMessages how many messages may be held or asked for at once
   */
  InboundWindow(long maxBytes, int maxMessages, IntConsumer request) {
    this.maxBytes = maxBytes;
    this.maxMessages = maxMessages;
    this.request = requireNonNull(request, "request");
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
      largest = Math.max(largest, bytes);
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
      long free = maxBytes - heldBytes;
      int ahead = (int) Math.min(MAX_AHEAD, Math.min(free <= 0 ? 0 : free / largest, maxMessages - held));
      n = ahead - unarrived;
      // Half the allowance at a time, or whatever is allowed once nothing is on its way.
      if (n < Math.max(1, ahead / 2) && unarrived > 0) {
        n = 0;
      }
      if (n > 0) {
        unarrived += n;
      }
    }
    if (n > 0) {
      request.accept(n);
    }
  }
}
