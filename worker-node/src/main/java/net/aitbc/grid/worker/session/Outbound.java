package net.aitbc.grid.worker.session;

import io.grpc.stub.ClientCallStreamObserver;
import java.util.ArrayDeque;
import net.aitbc.grid.v1.ConnectRequest;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of a stream: a request observer is not thread-safe, so heartbeats, job threads and
 * progress timers all enqueue here, and the queue is written, under this object's lock, only while
 * the stream is ready. Unbounded on purpose: credits bound what the protocol can have in flight,
 * and messages must not be lost.
 */
final class Outbound {

  private static final Logger logger = LoggerFactory.getLogger(Outbound.class);

  private final ArrayDeque<ConnectRequest> queue = new ArrayDeque<>();
  private @Nullable ClientCallStreamObserver<ConnectRequest> stream;
  private boolean closed;
  private boolean halfClosePending;

  /** Binds the call's request side; called from {@code beforeStart}, before anything is written. */
  synchronized void attach(ClientCallStreamObserver<ConnectRequest> stream) {
    this.stream = stream;
    stream.setOnReadyHandler(this::flush);
  }

  /**
   * Queues {@code message} and writes what the stream accepts; false once the stream is closing or
   * closed.
   */
  synchronized boolean send(ConnectRequest message) {
    if (closed || halfClosePending) {
      return false;
    }
    queue.add(message);
    flushLocked();
    return true;
  }

  /** Writes queued messages while the stream is ready; the on-ready handler. */
  synchronized void flush() {
    flushLocked();
  }

  /** Half-closes the stream once everything queued has been written; later sends are dropped. */
  synchronized void halfCloseWhenFlushed() {
    if (closed) {
      return;
    }
    halfClosePending = true;
    flushLocked();
  }

  /** The call is over: drop what is queued and write nothing more. */
  synchronized void close() {
    closed = true;
    queue.clear();
  }

  /** Cancels the call; the coordinator treats it as a lost session and requeues its jobs. */
  void cancel(String reason) {
    ClientCallStreamObserver<ConnectRequest> s;
    synchronized (this) {
      closed = true;
      queue.clear();
      s = stream;
    }
    // Outside the lock: no gRPC call while holding it, in case gRPC calls back into flush().
    if (s != null) {
      s.cancel(reason, null);
    }
  }

  /** Messages waiting for the stream to become ready. */
  synchronized int queued() {
    return queue.size();
  }

  private void flushLocked() {
    ClientCallStreamObserver<ConnectRequest> s = stream;
    if (s == null || closed) {
      return;
    }
    try {
      while (!queue.isEmpty() && s.isReady()) {
        s.onNext(queue.poll());
      }
      if (halfClosePending && queue.isEmpty()) {
        closed = true;
        s.onCompleted();
      }
    } catch (RuntimeException e) {
      // The call ended under us (cancelled or closed); its listener will report how.
      logger.debug("stream write failed; dropping {} queued message(s)", queue.size(), e);
      closed = true;
      queue.clear();
    }
  }
}
