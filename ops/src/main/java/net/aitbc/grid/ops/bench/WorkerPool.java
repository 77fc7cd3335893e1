package net.aitbc.grid.ops.bench;

import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.aitbc.grid.v1.WorkerServiceGrpc;

/**
 * Bench workers sharing one tracker: a few with a channel (TCP connection) each for the
 * throughput and latency phases, or thousands multiplexed {@code perChannel} to a connection for
 * the scale run.
 */
final class WorkerPool implements AutoCloseable {
  private final List<ManagedChannel> channels = new ArrayList<>();
  private final List<BenchWorker> workers = new ArrayList<>();

  private WorkerPool() {}

  /**
   * Opens {@code count} worker streams, at most {@code connecting} registering at once; does not
   * wait for the last registrations (see {@link #awaitRegistered}).
   *
   * @param perChannel streams per TCP connection
   * @param credits credits each worker grants and keeps outstanding
   * @param regrantBatch acknowledged outcomes after which a worker grants that many credits back
   * @param signing where the workers sign their outcomes, when the coordinator asks them to
   */
  static WorkerPool open(int port, String workerKey, String idPrefix, int count, int perChannel, int credits,
      int regrantBatch, int connecting, Tracker tracker, ScheduledExecutorService timer, Executor signing) {
    WorkerPool pool = new WorkerPool();
    Semaphore registering = new Semaphore(connecting);
    WorkerServiceGrpc.WorkerServiceStub stub = null;
    try {
      for (int i = 0; i < count; i++) {
        if (i % perChannel == 0) {
          ManagedChannel channel = Grpc.channel(port);
          pool.channels.add(channel);
          stub = BenchWorker.stub(channel, workerKey);
        }
        registering.acquire();
        BenchWorker w = BenchWorker.open(stub, idPrefix + "-" + i, credits, regrantBatch, tracker, timer,
            signing);
        w.registered().whenComplete((every, error) -> registering.release());
        pool.workers.add(w);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pool.close();
      throw new IllegalStateException("interrupted while connecting workers", e);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    return pool;
  }

  /** Waits until every worker has registered; fails naming how many did not. */
  void awaitRegistered(Duration timeout) {
    CompletableFuture<?>[] all = workers.stream().map(BenchWorker::registered).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(all).get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      long failed = workers.stream().filter(w -> w.registered().isCompletedExceptionally()).count();
      long waiting = workers.stream().filter(w -> !w.registered().isDone()).count();
      throw new IllegalStateException(workers.size() + " workers: " + failed + " failed to register, " + waiting
          + " still waiting after " + timeout + (failed > 0 ? "; first failure: " + firstFailure() : ""));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private String firstFailure() {
    return workers.stream().filter(w -> w.ended().isDone()).findFirst().map(w -> w.ended().join().toString()).orElse("?");
  }

  /** How many workers have registered so far. */
  long registeredCount() {
    return workers.stream().filter(w -> w.registered().isDone() && !w.registered().isCompletedExceptionally()).count();
  }

  /** How many streams ended while their worker still wanted them. */
  long lostStreams() {
    return workers.stream().filter(BenchWorker::endedUnexpectedly).count();
  }

  /** Signatures the workers made, one per batch of outcomes. */
  long signatures() {
    return workers.stream().mapToLong(BenchWorker::signatures).sum();
  }

  /** Outcomes the workers signed. */
  long signedOutcomes() {
    return workers.stream().mapToLong(BenchWorker::signedOutcomes).sum();
  }

  /** TCP connections (channels) in use. */
  int connections() {
    return channels.size();
  }

  /** Workers in the pool. */
  int size() {
    return workers.size();
  }

  /** Drains every worker, waits for the coordinator to end their calls (30 s at most), closes the channels. */
  @Override
  public void close() {
    CompletableFuture<?>[] ended = workers.stream().map(BenchWorker::stop).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(ended).get(30, TimeUnit.SECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      // Closing the channels below ends whatever is left.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Grpc.close(channels);
  }
}
