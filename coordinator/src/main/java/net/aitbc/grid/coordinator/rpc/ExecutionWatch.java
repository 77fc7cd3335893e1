package net.aitbc.grid.coordinator.rpc;

import io.grpc.stub.ServerCallStreamObserver;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Progress;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.StepProgress;
import net.aitbc.grid.v1.StepState;
import net.aitbc.grid.v1.StepStatus;
import net.aitbc.grid.v1.WatchExecutionResponse;

/**
 * One WatchExecution stream ({@link WatchStream}'s flow control): the execution after every change,
 * and between, the streamed progress of its running steps' jobs, followed from the first time they
 * are seen. Ends after the execution ends, or when the caller's key is revoked.
 */
final class ExecutionWatch {
  private static final Set<ExecutionStatus> ENDED = EnumSet.of(ExecutionStatus.EXECUTION_STATUS_COMPLETED,
      ExecutionStatus.EXECUTION_STATUS_FAILED, ExecutionStatus.EXECUTION_STATUS_CANCELLED);

  private final JobEvents jobEvents;
  private final Map<String, AutoCloseable> followed = new ConcurrentHashMap<>();
  private final WatchStream<Execution, WatchExecutionResponse> stream;

  ExecutionWatch(ServerCallStreamObserver<WatchExecutionResponse> out, Supplier<Execution> reader, Executor blocking,
      JobEvents jobEvents) {
    this.jobEvents = jobEvents;
    this.stream = new WatchStream<>(out, reader, blocking, new WatchStream.Shape<>() {
      @Override
      public WatchExecutionResponse stateMessage(Execution execution) {
        return WatchExecutionResponse.newBuilder().setExecution(execution).build();
      }

      @Override
      public boolean isState(WatchExecutionResponse m) {
        return m.hasExecution();
      }

      @Override
      public boolean isFinal(Execution execution) {
        return ENDED.contains(execution.getStatus());
      }

      @Override
      public int outputChars(WatchExecutionResponse m) {
        return m.hasProgress() ? m.getProgress().getProgress().getOutput().length() : 0;
      }

      @Override
      public void queued(Execution execution) {
        follow(execution);
      }
    });
  }

  /** Ties a subscription to the stream: it ends when the stream does. */
  void onEnd(AutoCloseable subscription) {
    stream.onEnd(subscription);
  }

  /** The execution changed: read it again. */
  void changed() {
    stream.changed();
  }

  /** The caller's key was revoked: the watch ends. */
  void keyRevoked() {
    stream.keyRevoked();
  }

  /** Follows the progress of the jobs of running steps, from the first time they are seen. */
  private void follow(Execution execution) {
    for (StepState s : execution.getStepsList()) {
      if (s.getStatus() != StepStatus.STEP_STATUS_RUNNING) {
        continue;
      }
      for (int item = 0; item < s.getJobIdsCount(); item++) {
        String jobId = s.getJobIds(item);
        int at = item;
        JobIds.parse(jobId).ifPresent(id -> followed.computeIfAbsent(jobId, j -> {
          AutoCloseable sub = jobEvents.subscribe(id, new JobEvents.Listener() {
            @Override
            public void changed() {
              // Step transitions arrive as execution changes.
            }

            @Override
            public void progress(Progress p) {
              stream.progress(WatchExecutionResponse.newBuilder().setProgress(StepProgress.newBuilder()
                  .setStep(s.getName()).setItem(at).setJobId(jobId).setProgress(JobProtos.progress(p))).build());
            }
          });
          onEnd(sub);
          return sub;
        }));
      }
    }
  }
}
