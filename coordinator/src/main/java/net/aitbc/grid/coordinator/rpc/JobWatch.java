package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WatchJob stream. On every change it reads the job again (off the notifying thread, one read
 * at a time, coalescing bursts) and sends it; progress is sent as it comes. Ends after a terminal
 * state.
 */
final class JobWatch implements JobEvents.Listener {
  private static final Logger logger = LoggerFactory.getLogger(JobWatch.class);
  private static final Set<JobState> TERMINAL = EnumSet.of(JobState.JOB_STATE_COMPLETED, JobState.JOB_STATE_FAILED,
      JobState.JOB_STATE_CANCELED, JobState.JOB_STATE_EXPIRED);

  private final ServerCallStreamObserver<WatchJobResponse> out;
  private final Supplier<Job> reader;
  private final Executor blocking;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final AtomicBoolean reading = new AtomicBoolean();
  private @Nullable AutoCloseable subscription;
  private boolean done;

  JobWatch(ServerCallStreamObserver<WatchJobResponse> out, Supplier<Job> reader, Executor blocking) {
    this.out = requireNonNull(out, "out");
    this.reader = requireNonNull(reader, "reader");
    this.blocking = requireNonNull(blocking, "blocking");
  }

  /** Ties the subscription to the stream: it ends when the client goes away. */
  void onEnd(AutoCloseable subscription) {
    this.subscription = subscription;
    out.setOnCancelHandler(this::unsubscribe);
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
        readAndSend();
      }
      reading.set(false);
    } while (pending.get() && reading.compareAndSet(false, true));
  }

  private void readAndSend() {
    Job job;
    try {
      job = reader.get();
    } catch (RuntimeException e) {
      finish(e);
      return;
    }
    send(WatchJobResponse.newBuilder().setJob(job).build());
    if (TERMINAL.contains(job.getState())) {
      finish(null);
    }
  }

  @Override
  public void progress(JobProgress progress) {
    send(WatchJobResponse.newBuilder().setProgress(progress).build());
  }

  private synchronized void send(WatchJobResponse message) {
    if (!done && !out.isCancelled()) {
      out.onNext(message);
    }
  }

  private synchronized void finish(@Nullable RuntimeException error) {
    if (done) {
      return;
    }
    done = true;
    unsubscribe();
    try {
      if (error == null) {
        out.onCompleted();
      } else {
        out.onError(GrpcErrors.toStatus(error));
      }
    } catch (RuntimeException e) {
      logger.debug("watch stream already gone: {}", e.toString());
    }
  }

  private void unsubscribe() {
    AutoCloseable s = subscription;
    if (s != null) {
      try {
        s.close();
      } catch (Exception e) {
        logger.debug("unsubscribe failed: {}", e.toString());
      }
    }
  }
}
