package net.aitbc.grid.coordinator.testing;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceStub;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;

/** A WatchJob client for tests: keeps what arrives and how the stream ended; can read slowly on purpose. */
public final class Watcher implements ClientResponseObserver<WatchJobRequest, WatchJobResponse> {
  private final int initialRequests;
  private final List<WatchJobResponse> received = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Status> ended = new CompletableFuture<>();
  private volatile ClientCallStreamObserver<WatchJobRequest> call;

  private Watcher(int initialRequests) {
    this.initialRequests = initialRequests;
  }

  /** Watches a job, reading every message as it comes. */
  public static Watcher watch(JobServiceStub client, String jobId) {
    return watch(client, jobId, -1);
  }

  /** Watches a job, reading only {@code initialRequests} messages until {@link #request} asks for more. */
  public static Watcher watch(JobServiceStub client, String jobId, int initialRequests) {
    Watcher w = new Watcher(initialRequests);
    client.watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build(), w);
    return w;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<WatchJobRequest> requestStream) {
    call = requestStream;
    if (initialRequests >= 0) {
      requestStream.disableAutoRequestWithInitial(initialRequests);
    }
  }

  /** Reads {@code n} more messages. */
  public void request(int n) {
    call.request(n);
  }

  /** What arrived so far, in order. */
  public List<WatchJobResponse> received() {
    return received;
  }

  /** Completes with the stream's final status. */
  public CompletableFuture<Status> ended() {
    return ended;
  }

  @Override
  public void onNext(WatchJobResponse value) {
    received.add(value);
  }

  @Override
  public void onError(Throwable t) {
    ended.complete(Status.fromThrowable(t));
  }

  @Override
  public void onCompleted() {
    ended.complete(Status.OK);
  }
}
