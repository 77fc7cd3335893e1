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
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * One server-sent event stream of a coordinator's server stream (WatchJob, WatchExecution): each
 * message becomes an event. The HTTP answer waits for the first message, so that an unknown id still
 * gets a plain 404. Messages are requested from the coordinator one at a time, after the HTTP client
 * took the previous one: a slow client slows its watch down instead of filling memory.
 */
final class EventStream<Q, R> implements ClientResponseObserver<Q, R> {
  /** No proxy may cache or buffer a live stream. */
  private static final ResponseHeaders HEADERS = ResponseHeaders.builder(HttpStatus.OK)
      .contentType(MediaType.EVENT_STREAM)
      .set(HttpHeaderNames.CACHE_CONTROL, "no-cache")
      .build();

  private final CompletableFuture<HttpResponse> response = new CompletableFuture<>();
  private final StreamWriter<ServerSentEvent> events = StreamMessage.streaming();
  private final ServiceRequestContext ctx;
  private final HttpErrors.Call call;
  private final Function<R, @Nullable ServerSentEvent> toEvent;
  private volatile @Nullable ClientCallStreamObserver<Q> grpcCall;

  private EventStream(ServiceRequestContext ctx, HttpErrors.Call call, Function<R, @Nullable ServerSentEvent> toEvent) {
    this.ctx = ctx;
    this.call = call;
    this.toEvent = toEvent;
  }

  /**
   * Starts the watch ({@code start} makes the gRPC call with the observer it is given) and answers
   * with the event stream, or with the error it failed with (mapped as {@code call}'s). {@code toEvent}
   * turns a message into an event, or null for none.
   */
  static <Q, R> HttpResponse open(ServiceRequestContext ctx, HttpErrors.Call call,
      Function<R, @Nullable ServerSentEvent> toEvent, Consumer<ClientResponseObserver<Q, R>> start) {
    // A watch lasts as long as what it watches.
    ctx.clearRequestTimeout();
    EventStream<Q, R> stream = new EventStream<>(ctx, call, toEvent);
    start.accept(stream);
    return HttpResponse.of(stream.response);
  }

  /** An event named {@code name} whose data is {@code data}. */
  static ServerSentEvent event(String name, String data) {
    return ServerSentEvent.builder().event(name).data(data).build();
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<Q> requestStream) {
    grpcCall = requestStream;
    requestStream.disableAutoRequestWithInitial(1);
    // However the HTTP exchange ends (stream done, client gone, server closing), the watch ends too.
    ctx.log().whenComplete().thenRun(() -> requestStream.cancel("the HTTP exchange ended", null));
  }

  @Override
  public void onNext(R message) {
    ServerSentEvent event = toEvent.apply(message);
    if (event != null) {
      events.tryWrite(event);
    }
    if (!response.isDone()) {
      response.complete(ServerSentEvents.fromPublisher(HEADERS, events));
    }
    ClientCallStreamObserver<Q> c = grpcCall;
    if (c != null) {
      events.whenConsumed().thenRun(() -> c.request(1));
    }
  }

  @Override
  public void onError(Throwable t) {
    if (!response.isDone()) {
      events.abort();
      response.complete(HttpErrors.fromFailure(t, call));
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
}
