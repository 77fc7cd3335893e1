package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
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
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One WatchExecution stream, with {@link JobWatch}'s flow control: on every change the execution is
 * read again (off the notifying thread, one read at a time, bursts coalesced), and the jobs of its
 * running steps are followed for their streamed progress. Messages are written only while the client
 * takes them; meanwhile a newer execution replaces an unsent one, and past
 * {@value JobWatch#MAX_PENDING_BYTES} bytes of unsent output the oldest progress is dropped. Ends
 * after the execution ends, or when the caller's key is revoked.
 */
final class ExecutionWatch {
  private static final Logger logger = LoggerFactory.getLogger(ExecutionWatch.class);
  private static final Set<ExecutionStatus> ENDED = EnumSet.of(ExecutionStatus.EXECUTION_STATUS_COMPLETED,
      ExecutionStatus.EXECUTION_STATUS_FAILED, ExecutionStatus.EXECUTION_STATUS_CANCELLED);

  private final ServerCallStreamObserver<WatchExecutionResponse> out;
  private final Supplier<Execution> reader;
  private final Executor blocking;
  private final JobEvents jobEvents;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final AtomicBoolean reading = new AtomicBoolean();
  private final List<AutoCloseable> subscriptions = new CopyOnWriteArrayList<>();
  private final Map<String, AutoCloseable> followed = new ConcurrentHashMap<>();
  // Guarded by this.
  private final ArrayDeque<WatchExecutionResponse> unsent = new ArrayDeque<>();
  private long unsentBytes;
  private boolean endQueued;
  private boolean done;

  ExecutionWatch(ServerCallStreamObserver<WatchExecutionResponse> out, Supplier<Execution> reader, Executor blocking,
      JobEvents jobEvents) {
    this.out = requireNonNull(out, "out");
    this.reader = requireNonNull(reader, "reader");
    this.blocking = requireNonNull(blocking, "blocking");
    this.jobEvents = requireNonNull(jobEvents, "jobEvents");
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

  /** The execution changed: read it again. */
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
    Execution execution;
    try {
      execution = reader.get();
    } catch (RuntimeException e) {
      finish(GrpcErrors.toStatus(e).getStatus());
      return;
    }
    synchronized (this) {
      if (done || endQueued) {
        return;
      }
      unsent.removeIf(WatchExecutionResponse::hasExecution);
      unsent.add(WatchExecutionResponse.newBuilder().setExecution(execution).build());
      endQueued = ENDED.contains(execution.getStatus());
    }
    follow(execution);
    flush();
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
              queueProgress(StepProgress.newBuilder().setStep(s.getName()).setItem(at).setJobId(jobId)
                  .setProgress(JobProtos.progress(p)).build());
            }
          });
          onEnd(sub);
          return sub;
        }));
      }
    }
  }

  private void queueProgress(StepProgress p) {
    synchronized (this) {
      if (done || endQueued) {
        return;
      }
      unsent.add(WatchExecutionResponse.newBuilder().setProgress(p).build());
      unsentBytes += 2L * p.getProgress().getOutput().length();
      while (unsentBytes > JobWatch.MAX_PENDING_BYTES && dropOldestProgress()) {
        // Keeps memory bounded; the client still gets every transition and the end.
      }
    }
    flush();
  }

  private boolean dropOldestProgress() {
    for (var it = unsent.iterator(); it.hasNext(); ) {
      WatchExecutionResponse m = it.next();
      if (m.hasProgress()) {
        it.remove();
        unsentBytes -= 2L * m.getProgress().getProgress().getOutput().length();
        return true;
      }
    }
    unsentBytes = 0;
    return false;
  }

  /** Writes what the client will take now; completes the stream after the execution ended. */
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
          WatchExecutionResponse m = unsent.poll();
          if (m.hasProgress()) {
            unsentBytes -= 2L * m.getProgress().getProgress().getOutput().length();
          }
          out.onNext(m);
        }
        complete = endQueued && unsent.isEmpty();
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
