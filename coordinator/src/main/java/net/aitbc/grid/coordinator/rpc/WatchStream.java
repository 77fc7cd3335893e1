package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flow control of a server stream that watches one thing (a job, an execution): on every change
 * the thing is read again (off the notifying thread, one read at a time, bursts coalesced), and
 * progress is queued as it comes. Messages are written only while the client takes them: meanwhile a
 * newer state replaces an unsent one, progress may be merged ({@link Shape#merge}), and past
 * {@value #MAX_PENDING_BYTES} bytes of unsent output the oldest progress is dropped, so a slow client
 * costs bounded memory. Ends after a final state has been sent, or when the caller's key is revoked.
 *
 * @param <S> the state read on each change
 * @param <M> the stream's message: either a state or progress
 */
final class WatchStream<S, M> {
  private static final Logger logger = LoggerFactory.getLogger(WatchStream.class);
  /** Unsent progress output kept per watch, in UTF-16 characters × 2. */
  static final int MAX_PENDING_BYTES = 1 << 20;

  /** What distinguishes one kind of watch from another. */
  interface Shape<S, M> {
    M stateMessage(S state);

    boolean isState(M message);

    /** True when nothing follows this state. */
    boolean isFinal(S state);

    /** The characters of output a progress message carries (0 for a state). */
    int outputChars(M message);

    /** One message for two consecutive unsent ones, or null to keep both. */
    default @Nullable M merge(M earlier, M later) {
      return null;
    }

    /** Called after a state was queued, off the notifying thread (for example to follow more events). */
    default void queued(S state) {}
  }

  private final ServerCallStreamObserver<M> out;
  private final Supplier<S> reader;
  private final Executor blocking;
  private final Shape<S, M> shape;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final AtomicBoolean reading = new AtomicBoolean();
  private final List<AutoCloseable> subscriptions = new CopyOnWriteArrayList<>();
  // Guarded by this.
  private final ArrayDeque<M> unsent = new ArrayDeque<>();
  private long unsentBytes;
  private boolean finalQueued;
  private boolean done;

  WatchStream(ServerCallStreamObserver<M> out, Supplier<S> reader, Executor blocking, Shape<S, M> shape) {
    this.out = requireNonNull(out, "out");
    this.reader = requireNonNull(reader, "reader");
    this.blocking = requireNonNull(blocking, "blocking");
    this.shape = requireNonNull(shape, "shape");
    out.setOnCancelHandler(this::unsubscribe);
    out.setOnReadyHandler(this::flush);
  }

  /** Ties a subscription to the stream: it ends when the stream does. */
  void onEnd(AutoCloseable subscription) {
    subscriptions.add(subscription);
    synchronized (this) {
      if (!done) {
        return;
      }
    }
    unsubscribe();
  }

  /** The watched thing changed: read it again. */
  void changed() {
    pending.set(true);
    if (reading.compareAndSet(false, true)) {
      blocking.execute(this::readLoop);
    }
  }

  private void readLoop() {
    do {
      while (pending.getAndSet(false)) {
        readAndQueue();
      }
      reading.set(false);
    } while (pending.get() && reading.compareAndSet(false, true));
  }

  private void readAndQueue() {
    S state;
    try {
      state = reader.get();
    } catch (RuntimeException e) {
      finish(GrpcErrors.toStatus(e).getStatus());
      return;
    }
    synchronized (this) {
      if (done || finalQueued) {
        return;
      }
      // A newer state makes an unsent older one moot.
      unsent.removeIf(shape::isState);
      unsent.add(shape.stateMessage(state));
      finalQueued = shape.isFinal(state);
    }
    shape.queued(state);
    flush();
  }

  /** Queues a progress message. */
  void progress(M message) {
    synchronized (this) {
      if (done || finalQueued) {
        return;
      }
      M last = unsent.peekLast();
      M merged = last == null || shape.isState(last) ? null : shape.merge(last, message);
      if (merged != null) {
        unsent.pollLast();
        unsentBytes -= 2L * shape.outputChars(last);
        message = merged;
      }
      unsent.add(message);
      unsentBytes += 2L * shape.outputChars(message);
      while (unsentBytes > MAX_PENDING_BYTES && dropOldestProgress()) {
        // Keeps memory bounded; the client still gets every state and the final one.
      }
    }
    flush();
  }

  private boolean dropOldestProgress() {
    for (var it = unsent.iterator(); it.hasNext(); ) {
      M m = it.next();
      if (!shape.isState(m)) {
        it.remove();
        unsentBytes -= 2L * shape.outputChars(m);
        return true;
      }
    }
    unsentBytes = 0;
    return false;
  }

  /** Writes what the client will take now; completes the stream after the final state. */
  private void flush() {
    boolean complete = false;
    synchronized (this) {
      if (done) {
        return;
      }
      if (out.isCancelled()) {
        done = true;
      } else {
        while (!unsent.isEmpty() && out.isReady()) {
          M m = unsent.poll();
          unsentBytes -= 2L * shape.outputChars(m);
          out.onNext(m);
        }
        complete = finalQueued && unsent.isEmpty();
      }
    }
    if (complete) {
      finish(null);
    }
  }

  /** The caller's key was revoked: the watch ends. */
  void keyRevoked() {
    finish(Status.UNAUTHENTICATED.withDescription("the api key was revoked"));
  }

  private void finish(@Nullable Status error) {
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      unsent.clear();
      try {
        if (error == null) {
          out.onCompleted();
        } else {
          out.onError(error.asRuntimeException());
        }
      } catch (RuntimeException e) {
        logger.debug("watch stream already gone: {}", e.toString());
      }
    }
    unsubscribe();
  }

  private void unsubscribe() {
    for (AutoCloseable s : subscriptions) {
      try {
        s.close();
      } catch (Exception e) {
        logger.debug("unsubscribe failed: {}", e.toString());
      }
    }
  }
}
