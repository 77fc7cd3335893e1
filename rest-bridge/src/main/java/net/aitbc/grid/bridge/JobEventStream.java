package net.aitbc.grid.bridge;

import com.linecorp.armeria.common.HttpHeaderNames;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.sse.ServerSentEvent;
import com.linecorp.armeria.common.stream.StreamMessage;
import com.linecorp.armeria.common.stream.StreamWriter;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.streaming.ServerSentEvents;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.concurrent.CompletableFuture;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import org.jspecify.annotations.Nullable;

/**
 * One {@code GET /v1/jobs/{id}/events} stream: WatchJob's messages as server-sent events. The HTTP
 * answer waits for the first message, so that an unknown job still gets a plain 404. Messages are
 * requested from the coordinator one at a time, after the HTTP client took the previous one: a slow
 * client slows its watch down instead of filling memory.
 */
final class JobEventStream implements ClientResponseObserver<WatchJobRequest, WatchJobResponse> {
  /** No proxy may cache or buffer a live stream. */
  private static final ResponseHeaders HEADERS = ResponseHeaders.builder(HttpStatus.OK)
      .contentType(MediaType.EVENT_STREAM)
      .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
      .build();

  private final CompletableFuture<HttpResponse> response = new CompletableFuture<>();
  private final StreamWriter<ServerSentEvent> events = StreamMessage.streaming();
  private final ServiceRequestContext ctx;
  private volatile @Nullable ClientCallStreamObserver<WatchJobRequest> call;

  private JobEventStream(ServiceRequestContext ctx) {
    this.ctx = ctx;
  }

  /** Starts watching {@code jobId} and answers with the event stream, or with the error it failed with. */
  static HttpResponse open(ServiceRequestContext ctx, JobServiceGrpc.JobServiceStub stub, String jobId) {
    JobEventStream stream = new JobEventStream(ctx);
    stub.watchJob(WatchJobRequest.newBuilder().setJobId(jobId).build(), stream);
    return HttpResponse.of(stream.response);
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<WatchJobRequest> requestStream) {
    call = requestStream;
    requestStream.disableAutoRequestWithInitial(1);
    // However the HTTP exchange ends (stream done, client gone, server closing), the watch ends too.
    ctx.log().whenComplete().thenRun(() -> requestStream.cancel("the HTTP exchange ended", null));
  }

  @Override
  public void onNext(WatchJobResponse message) {
    ServerSentEvent event = switch (message.getEventCase()) {
      case JOB -> event("job", Json.text(JobJson.detailedView(message.getJob())));
      case PROGRESS -> event("progress", Json.text(JobJson.progress(message.getProgress())));
      case EVENT_NOT_SET -> null;
    };
    if (event != null) {
      events.tryWrite(event);
    }
    if (!response.isDone()) {
      response.complete(ServerSentEvents.fromPublisher(HEADERS, events));
    }
    ClientCallStreamObserver<WatchJobRequest> c = call;
    if (c != null) {
      events.whenConsumed().thenRun(() -> c.request(1));
    }
  }

  @Override
  public void onError(Throwable t) {
    if (!response.isDone()) {
      events.abort();
      response.complete(HttpErrors.fromFailure(t, HttpErrors.Call.WATCH));
      return;
    }
    // Headers are gone already: say why the stream ends early, then end it.
    Status status = Status.fromThrowable(t);
    String detail = "the watch ended early: " + status.getCode()
        + (status.getDescription() == null ? "" : " " + status.getDescription());
    events.tryWrite(event("error", Json.text(Json.object().put("detail", detail))));
    events.close();
  }

  @Override
  public void onCompleted() {
    events.close();
    if (!response.isDone()) {
      response.complete(ServerSentEvents.fromPublisher(HEADERS, events));
    }
  }

  private static ServerSentEvent event(String name, String data) {
    return ServerSentEvent.builder().event(name).data(data).build();
  }
}
