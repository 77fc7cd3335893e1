package net.aitbc.grid.coordinator.rpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;
import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.RetryInfo;
import io.grpc.protobuf.StatusProto;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.scheduler.Admission;
import net.aitbc.grid.coordinator.scheduler.GroupCommitter;
import net.aitbc.grid.coordinator.scheduler.WorkerKeyMismatch;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.PaymentRefused;
import org.jooq.exception.DataAccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one mapping from failures to gRPC statuses. */
final class GrpcErrors {
  private static final Logger logger = LoggerFactory.getLogger(GrpcErrors.class);
  private static final java.time.Duration OVERLOAD_RETRY = java.time.Duration.ofSeconds(1);

  private GrpcErrors() {}

  /** The status a failure is answered with; unexpected ones are logged. */
  static StatusRuntimeException toStatus(Throwable t) {
    Throwable cause = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return switch (cause) {
      case StatusRuntimeException s -> s;
      case Admission.Refused r -> exhausted(r.getMessage(), r.retryAfter());
      // A queue is full: it drains within moments.
      case GroupCommitter.Overloaded o ->
          exhausted("the coordinator is overloaded: " + o.getMessage() + "; retry later", OVERLOAD_RETRY);
      case Ledger.Damaged d -> {
        logger.error("the ledger is damaged: {}", d.getMessage());
        yield Status.DATA_LOSS.withDescription(d.getMessage()).asRuntimeException();
      }
      case PaymentRefused p -> PaymentServiceImpl.status(p);
      case WorkerKeyMismatch m -> Status.PERMISSION_DENIED.withDescription(m.getMessage()).asRuntimeException();
      case GroupCommitter.ShuttingDown s ->
          Status.UNAVAILABLE.withDescription(s.getMessage()).asRuntimeException();
      case Database.Busy b -> {
        logger.warn("refused a call: {}", b.getMessage());
        yield Status.UNAVAILABLE.withDescription("the coordinator is busy; retry later").asRuntimeException();
      }
      case DataAccessException d when Database.isUnavailable(d) -> {
        logger.warn("database error: {}", d.toString());
        yield Status.UNAVAILABLE.withDescription("the database is unavailable; retry later").asRuntimeException();
      }
      default -> {
        logger.error("unexpected failure", cause);
        yield Status.INTERNAL.withDescription("internal error").asRuntimeException();
      }
    };
  }

  /** RESOURCE_EXHAUSTED with {@code message}, and RetryInfo saying when to try again. */
  private static StatusRuntimeException exhausted(String message, java.time.Duration retryAfter) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.RESOURCE_EXHAUSTED.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(RetryInfo.newBuilder()
            .setRetryDelay(com.google.protobuf.Duration.newBuilder()
                .setSeconds(retryAfter.getSeconds())
                .setNanos(retryAfter.getNano()))
            .build()))
        .build());
  }

  /** Answers a unary call with what {@code call} returns, or with the status its failure maps to. */
  static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
    T response;
    try {
      response = call.get();
    } catch (RuntimeException e) {
      out.onError(toStatus(e));
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }

  static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(abbreviate(message, 1000)).asRuntimeException();
  }

  static StatusRuntimeException notFound(String message) {
    return Status.NOT_FOUND.withDescription(abbreviate(message, 1000)).asRuntimeException();
  }

  /** A client's value shortened for quoting in an error: descriptions travel in headers of bounded size. */
  static String abbreviate(String value) {
    return abbreviate(value, 64);
  }

  static String abbreviate(String value, int max) {
    return value.length() <= max ? value : value.substring(0, max) + "…";
  }
}
