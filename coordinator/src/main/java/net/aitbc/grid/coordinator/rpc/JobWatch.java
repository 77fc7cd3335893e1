package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Progress;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WatchJob stream. On every change it reads the job again (off the notifying thread, one read
 * at a time, coalescing bursts); progress is queued as it comes. Messages are written only while the
 * client takes them (flow control): meanwhile a newer job state replaces an unsent one, consecutive
 * progress of one attempt is merged, and past {@value #MAX_PENDING_BYTES} bytes of unsent output the
 * oldest is dropped, so a slow client costs bounded memory. Ends after a terminal state, or when
 * the caller's key is revoked.
 */
final class JobWatch implements JobEvents.Listener {
  private static final Logger logger = LoggerFactory.getLogger(JobWatch.class);
  private static final Set<JobState> TERMINAL = EnumSet.of(JobState.JOB_STATE_COMPLETED, JobState.JOB_STATE_FAILED,
      JobState.JOB_STATE_CANCELED, JobState.JOB_STATE_EXPIRED);
  /** Unsent progress output kept per watch, in UTF-16 characters × 2. */
  static final int MAX_PENDING_BYTES = 1 << 20;

  private final ServerCallStreamObserver<WatchJobResponse> out;
  private final Supplier<Job> reader;
  private final Executor blocking;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final AtomicBoolean reading = new AtomicBoolean();
  private final List<AutoCloseable> subscriptions = new CopyOnWriteArrayList<>();
  // Guarded by this.
  private final ArrayDeque<WatchJobResponse> unsent = new ArrayDeque<>();
  private long unsentBytes;
  private boolean terminalQueued;
  private boolean done;

  JobWatch(ServerCallStreamObserver<WatchJobResponse> out, Supplier<Job> reader, Executor blocking) {
    this.out = requireNonNull(out, "out");
    this.reader = requireNonNull(reader, "reader");
    this.blocking = requireNonNull(blocking, "blocking");
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

  @Override
  public void changed() {
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
    Job job;
    try {
      job = reader.get();
    } catch (RuntimeException e) {
      finish(GrpcErrors.toStatus(e).getStatus());
      return;
    }
    synchronized (this) {
      if (done || terminalQueued) {
        return;
      }
      // A newer state makes an unsent older one moot.
      unsent.removeIf(WatchJobResponse::hasJob);
      unsent.add(WatchJobResponse.newBuilder().setJob(job).build());
      terminalQueued = TERMINAL.contains(job.getState());
    }
    flush();
  }

  @Override
  public void progress(Progress progress) {
    synchronized (this) {
      if (done || terminalQueued) {
        return;
      }
      WatchJobResponse last = unsent.peekLast();
      JobProgress p = JobProtos.progress(progress);
      if (last != null && last.hasProgress() && last.getProgress().getAttempt() == p.getAttempt()) {
        // Merged while the client is slow: one message carries all the output it has not taken.
        unsent.pollLast();
        p = p.toBuilder().setOutput(last.getProgress().getOutput() + p.getOutput()).build();
      }
      unsent.add(WatchJobResponse.newBuilder().setProgress(p).build());
      unsentBytes += 2L * progress.output().length();
      while (unsentBytes > MAX_PENDING_BYTES && dropOldestProgress()) {
        // Keeps memory bounded; the client still gets every state and the final result.
      }
    }
    flush();
  }

  private boolean dropOldestProgress() {
    for (var it = unsent.iterator(); it.hasNext(); ) {
      WatchJobResponse m = it.next();
      if (m.hasProgress()) {
        it.remove();
        unsentBytes -= 2L * m.getProgress().getOutput().length();
        return true;
      }
    }
    unsentBytes = 0;
    return false;
  }

  /** Writes what the client will take now; completes the stream after a terminal state. */
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
          WatchJobResponse m = unsent.poll();
          if (m.hasProgress()) {
            unsentBytes -= 2L * m.getProgress().getOutput().length();
          }
          out.onNext(m);
        }
        complete = terminalQueued && unsent.isEmpty();
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
