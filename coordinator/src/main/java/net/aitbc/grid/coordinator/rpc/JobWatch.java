package net.aitbc.grid.coordinator.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Progress;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.WatchJobResponse;
import org.jspecify.annotations.Nullable;

/**
 * One WatchJob stream ({@link WatchStream}'s flow control): the job after every change, its progress
 * between, consecutive unsent progress of one attempt merged into one message. Ends after a terminal
 * state, or when the caller's key is revoked.
 */
final class JobWatch implements JobEvents.Listener {
  private static final Set<JobState> TERMINAL = EnumSet.of(JobState.JOB_STATE_COMPLETED, JobState.JOB_STATE_FAILED,
      JobState.JOB_STATE_CANCELED, JobState.JOB_STATE_EXPIRED);

  private static final WatchStream.Shape<Job, WatchJobResponse> SHAPE = new WatchStream.Shape<>() {
    @Override
    public WatchJobResponse stateMessage(Job job) {
      return WatchJobResponse.newBuilder().setJob(job).build();
    }

    @Override
    public boolean isState(WatchJobResponse m) {
      return m.hasJob();
    }

    @Override
    public boolean isFinal(Job job) {
      return TERMINAL.contains(job.getState());
    }

    @Override
    public int outputChars(WatchJobResponse m) {
      return m.hasProgress() ? m.getProgress().getOutput().length() : 0;
    }

    @Override
    public @Nullable WatchJobResponse merge(WatchJobResponse earlier, WatchJobResponse later) {
      JobProgress a = earlier.getProgress();
      JobProgress b = later.getProgress();
      if (a.getAttempt() != b.getAttempt()) {
        return null;
      }
      // Merged while the client is slow: one message carries all the output it has not taken.
      return WatchJobResponse.newBuilder().setProgress(b.toBuilder().setOutput(a.getOutput() + b.getOutput())).build();
    }
  };

  private final WatchStream<Job, WatchJobResponse> stream;

  JobWatch(ServerCallStreamObserver<WatchJobResponse> out, Supplier<Job> reader, Executor blocking) {
    this.stream = new WatchStream<>(out, reader, blocking, SHAPE);
  }

  /** Ties a subscription to the stream: it ends when the stream does. */
  void onEnd(AutoCloseable subscription) {
    stream.onEnd(subscription);
  }

  @Override
  public void changed() {
    stream.changed();
  }

  @Override
  public void progress(Progress progress) {
    stream.progress(WatchJobResponse.newBuilder().setProgress(JobProtos.progress(progress)).build());
  }

  /** The caller's key was revoked: the watch ends. */
  void keyRevoked() {
    stream.keyRevoked();
  }
}
