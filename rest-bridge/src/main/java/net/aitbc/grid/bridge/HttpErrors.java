package net.aitbc.grid.bridge;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.common.ResponseHeaders;
import com.linecorp.armeria.common.ResponseHeadersBuilder;
import com.linecorp.armeria.server.ServerErrorHandler;
import com.linecorp.armeria.server.ServiceConfig;
import com.linecorp.armeria.server.ServiceRequestContext;
import com.linecorp.armeria.server.annotation.ExceptionHandlerFunction;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every error answer of the bridge: the one mapping from gRPC status to HTTP status, and the JSON
 * body {@code {"detail": "..."}} that all errors carry, Armeria's own (404, 405, 413, timeouts) included.
 */
final class HttpErrors {
  private static final Logger logger = LoggerFactory.getLogger(HttpErrors.class);
  /** RFC 8470; Armeria has no constant for it. */
  private static final HttpStatus TOO_EARLY = HttpStatus.valueOf(425);
  private static final String RECEIPT_NOT_AVAILABLE = "receipt not available";
  /** RFC 9110 reserves it; it says exactly what went wrong when the balance does not cover a payment. */
  private static final HttpStatus PAYMENT_REQUIRED = HttpStatus.valueOf(402);
  /** The coordinator's ErrorInfo reason for a balance that does not cover a payment. */
  private static final String INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS";
  private static final Pattern RETRY_SECONDS = Pattern.compile("(?i)retry\\D{0,16}?(\\d{1,6})");

  /** Which call failed: a few statuses mean something specific on some routes. */
  enum Call {
    SUBMIT, READ, RESULT, LIST, CANCEL, WATCH,
    /** {@code GET /v1/jobs/{id}/receipt}. */
    JOB_RECEIPT,
    /** The receipt lists: the explorer's and a job's. */
    RECEIPTS,
    /** {@code GET /explorer/transactions/{hash}}: one receipt by its leaf hash. */
    TRANSACTION,
    /** {@code POST /v1/receipts/verify}. */
    VERIFY,
    /** The inclusion proof. */
    PROOF,
    /** The block lists. */
    BLOCKS,
    /** One block by height. */
    BLOCK,
    /** Consistency proofs, leaves and the sync status. */
    LEDGER,
    /** {@code POST /v1/payments}. */
    PAY,
    /** One payment by its id: the view, its receipt, its status. */
    PAYMENT,
    /** {@code GET /v1/jobs/{id}/payment}: a payment by its job. */
    JOB_PAYMENT,
    /** A refund or a release of a payment. */
    SETTLE,
    /** The caller's balances and transfers, and a worker's earnings. */
    ACCOUNT,
    /** {@code POST /api/v1/agents/workflows}. */
    AGENT_CREATE,
    /** {@code POST /api/v1/agents/workflows/{id}/execute}. */
    AGENT_EXECUTE,
    /** The workflow and execution lists. */
    AGENT_LIST,
    /** One workflow by its id. */
    WORKFLOW,
    /** One execution by its id: its status, cancel, events. */
    EXECUTION,
    /** The agent network routes. */
    NETWORK,
    /** The swarm routes that name no task: join, coordinate, list, leave. */
    SWARM,
    /** One swarm task by its id: its status, consensus, cancel, receipt. */
    SWARM_TASK,
    /** The miner routes (contract §7) but earnings. */
    MINER
  }

  /** A request the bridge refuses by itself, before or instead of calling the coordinator. */
  static final class ApiError extends RuntimeException {
    private final HttpStatus status;

    ApiError(HttpStatus status, String detail) {
      super(detail, null, false, false);
      this.status = status;
    }

    HttpStatus status() {
      return status;
    }
  }

  private HttpErrors() {}

  /** 400: the request cannot be read (malformed JSON, a bad query value). */
  static ApiError badRequest(String detail) {
    return new ApiError(HttpStatus.BAD_REQUEST, detail);
  }

  /** 422: the request was read, but a field has the wrong type or value. */
  static ApiError unprocessable(String detail) {
    return new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, detail);
  }

  /** An error response with a JSON detail. */
  static HttpResponse response(HttpStatus status, String detail) {
    return aggregated(status, detail, null).toHttpResponse();
  }

  /** The answer to anything a route failed with: the bridge's own refusals, or the coordinator's status. */
  static HttpResponse fromFailure(Throwable failure, Call call) {
    Throwable t = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    if (t instanceof ApiError e) {
      return response(e.status(), e.getMessage());
    }
    Status status = Status.fromThrowable(t);
    if (status.getCode() == Status.Code.UNKNOWN && status.getCause() == t) {
      // Not a gRPC failure at all: a bug in the bridge.
      logger.error("[call={}] unexpected failure", call, t);
      return response(HttpStatus.INTERNAL_SERVER_ERROR, "internal error");
    }
    return fromStatus(status, call, retryInfoSeconds(t), errorReason(t));
  }

  /** The one gRPC status → HTTP mapping. */
  static HttpResponse fromStatus(Status status, Call call) {
    return fromStatus(status, call, null, null);
  }

  private static HttpResponse fromStatus(Status status, Call call, @Nullable Integer retryAfter,
      @Nullable String reason) {
    String description = status.getDescription() == null ? status.getCode().name() : status.getDescription();
    return switch (status.getCode()) {
      case INVALID_ARGUMENT -> switch (call) {
        // The ledger routes validate their queries as the CLI's server does: 422.
        case SUBMIT, RECEIPTS, TRANSACTION, VERIFY, PROOF, BLOCKS, BLOCK, LEDGER, PAY, SETTLE, ACCOUNT, AGENT_CREATE,
            AGENT_LIST, NETWORK, SWARM -> response(HttpStatus.UNPROCESSABLE_ENTITY, JobRequests.inRestTerms(call,
            description));
        // The path's task id is not one of ours: it names no task. The body's fields are 422 as elsewhere.
        case SWARM_TASK -> description.startsWith("task_id ")
            ? response(HttpStatus.NOT_FOUND, "swarm task not found")
            : response(HttpStatus.UNPROCESSABLE_ENTITY, JobRequests.inRestTerms(call, description));
        // The body cannot name another workflow than the path's: a malformed id there names none.
        case AGENT_EXECUTE -> description.startsWith("workflow_id ")
            ? response(HttpStatus.NOT_FOUND, "workflow not found")
            : response(HttpStatus.UNPROCESSABLE_ENTITY, JobRequests.inRestTerms(call, description));
        case WORKFLOW -> response(HttpStatus.NOT_FOUND, "workflow not found");
        case EXECUTION -> response(HttpStatus.NOT_FOUND, "execution not found");
        // A result's or failure's path names the job: one that is not an id names none.
        case MINER -> description.startsWith("job_id ") ? response(HttpStatus.NOT_FOUND, "job not found")
            : response(HttpStatus.UNPROCESSABLE_ENTITY, JobRequests.inRestTerms(call, description));
        // Every value of a list request is a query parameter, and a bad one is a 400, as the bridge's own are.
        case LIST -> response(HttpStatus.BAD_REQUEST, JobRequests.inRestTerms(call, description));
        // The job id is these routes' only argument: one that is not an id names no job (the CLI expects 404).
        case READ, RESULT, CANCEL, WATCH -> response(HttpStatus.NOT_FOUND, "job not found");
        case JOB_RECEIPT -> response(HttpStatus.NOT_FOUND, RECEIPT_NOT_AVAILABLE);
        // Ids are these routes' only argument: one that is not an id names no payment.
        case PAYMENT, JOB_PAYMENT -> response(HttpStatus.NOT_FOUND, notFound(call, description));
      };
      case NOT_FOUND -> response(HttpStatus.NOT_FOUND, notFound(call, description));
      case FAILED_PRECONDITION -> switch (call) {
        // The CLI polls on 425 and gives up on anything else.
        case RESULT -> response(TOO_EARLY, "job not ready");
        case CANCEL -> response(HttpStatus.CONFLICT, "job not cancelable");
        // A coordinator without a signing key has no receipts: to a reader, that one is not there.
        case JOB_RECEIPT, TRANSACTION, PROOF -> response(HttpStatus.NOT_FOUND, notFound(call, description));
        // Nothing moved: the client must deposit first (pay, or submit with payment_amount).
        case PAY, SUBMIT -> INSUFFICIENT_FUNDS.equals(reason) ? response(PAYMENT_REQUIRED, description)
            : response(HttpStatus.CONFLICT, description);
        // As the CLI's server: 400 when the payment is not the job's or is settled the other way.
        case SETTLE -> response(HttpStatus.BAD_REQUEST, description);
        default -> response(HttpStatus.CONFLICT, description);
      };
      case ALREADY_EXISTS -> response(HttpStatus.CONFLICT, description);
      case RESOURCE_EXHAUSTED -> withRetryAfter(HttpStatus.TOO_MANY_REQUESTS, description,
          retryAfter != null ? retryAfter : retrySeconds(description));
      case UNAVAILABLE -> withRetryAfter(HttpStatus.SERVICE_UNAVAILABLE, "coordinator unavailable: " + description, 1);
      case DEADLINE_EXCEEDED -> response(HttpStatus.GATEWAY_TIMEOUT, "the coordinator did not answer in time");
      case UNAUTHENTICATED -> response(HttpStatus.UNAUTHORIZED, "invalid api key");
      case PERMISSION_DENIED -> response(HttpStatus.FORBIDDEN, description);
      default -> {
        logger.warn("[call={}] coordinator answered {}: {}", call, status.getCode(), description);
        yield response(HttpStatus.BAD_GATEWAY, "coordinator error: " + status.getCode() + " " + description);
      }
    };
  }

  /**
   * The 404 detail of each route: the CLI's server's words where it has them, else the coordinator's
   * (which says what is missing: a block to prove against, a receipt not sealed yet).
   */
  private static String notFound(Call call, String description) {
    return switch (call) {
      case SUBMIT, READ, RESULT, LIST, CANCEL, WATCH -> "job not found";
      case JOB_RECEIPT -> RECEIPT_NOT_AVAILABLE;
      case TRANSACTION -> "transaction not found";
      case BLOCK -> "block not found";
      // The coordinator's words name what is missing: "workflow … not found", "execution … not found".
      case RECEIPTS, VERIFY, PROOF, BLOCKS, LEDGER, PAY, ACCOUNT, AGENT_CREATE, AGENT_EXECUTE, AGENT_LIST, WORKFLOW,
          EXECUTION, NETWORK, SWARM, SWARM_TASK, MINER -> description;
      // The CLI's server's words; the CLI prints "No payment found" / "not found" on any 404.
      case PAYMENT, SETTLE -> "Payment not found";
      case JOB_PAYMENT -> "No payment found for this job";
    };
  }

  /** For the annotated routes: the bridge's own refusals as JSON; anything else goes on to the server's handler. */
  static ExceptionHandlerFunction exceptionHandler() {
    return (ctx, req, cause) -> cause instanceof ApiError e
        ? response(e.status(), e.getMessage())
        : ExceptionHandlerFunction.fallthrough();
  }

  /**
   * Renders Armeria's own errors (unknown route, wrong method, body too large, request timeout)
   * as JSON, and answers 500 for anything a route did not handle.
   */
  static ServerErrorHandler serverErrorHandler(long maxRequestBytes) {
    return new ServerErrorHandler() {
      @Override
      public @Nullable HttpResponse onServiceException(ServiceRequestContext ctx, Throwable cause) {
        if (cause instanceof ApiError e) {
          return response(e.status(), e.getMessage());
        }
        // Null lets Armeria pick the status (413 for a too-large body, …); renderStatus writes it.
        return null;
      }

      @Override
      public AggregatedHttpResponse renderStatus(@Nullable ServiceRequestContext ctx, ServiceConfig config,
          @Nullable RequestHeaders headers, HttpStatus status, @Nullable String description,
          @Nullable Throwable cause) {
        return aggregated(status, detailFor(status, description, maxRequestBytes), null);
      }
    };
  }

  private static String detailFor(HttpStatus status, @Nullable String description, long maxRequestBytes) {
    return switch (status.code()) {
      case 400 -> description == null ? "bad request" : "bad request: " + description;
      case 404 -> "not found";
      case 405 -> "method not allowed";
      case 413 -> "request body too large: the limit is " + maxRequestBytes + " bytes";
      // Armeria answers a request timeout, and requests during shutdown, with 503.
      case 503 -> "service unavailable: the request timed out, or the bridge is shutting down";
      case 500 -> "internal error";
      default -> status.reasonPhrase().toLowerCase(Locale.ROOT);
    };
  }

  private static HttpResponse withRetryAfter(HttpStatus status, String detail, int seconds) {
    return aggregated(status, detail, seconds).toHttpResponse();
  }

  /** The coordinator's google.rpc.RetryInfo delay in whole seconds (at least 1), if it sent one. */
  private static @Nullable Integer retryInfoSeconds(Throwable t) {
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    if (details == null) {
      return null;
    }
    for (Any d : details.getDetailsList()) {
      if (d.is(RetryInfo.class)) {
        try {
          com.google.protobuf.Duration delay = d.unpack(RetryInfo.class).getRetryDelay();
          return (int) Math.max(1, delay.getSeconds() + (delay.getNanos() > 0 ? 1 : 0));
        } catch (InvalidProtocolBufferException e) {
          return null;
        }
      }
    }
    return null;
  }

  /** The reason of the coordinator's google.rpc.ErrorInfo, if it sent one. */
  private static @Nullable String errorReason(Throwable t) {
    com.google.rpc.Status details = StatusProto.fromThrowable(t);
    if (details == null) {
      return null;
    }
    for (Any d : details.getDetailsList()) {
      if (d.is(ErrorInfo.class)) {
        try {
          return d.unpack(ErrorInfo.class).getReason();
        } catch (InvalidProtocolBufferException e) {
          return null;
        }
      }
    }
    return null;
  }

  private static int retrySeconds(String description) {
    Matcher m = RETRY_SECONDS.matcher(description);
    if (m.find()) {
      int seconds = Integer.parseInt(m.group(1));
      return Math.max(seconds, 1);
    }
    return 1;
  }

  private static AggregatedHttpResponse aggregated(HttpStatus status, String detail, @Nullable Integer retryAfter) {
    ResponseHeadersBuilder headers = ResponseHeaders.builder(status).contentType(MediaType.JSON_UTF_8);
    if (retryAfter != null) {
      headers.set("retry-after", Integer.toString(retryAfter));
    }
    return AggregatedHttpResponse.of(headers.build(), HttpData.wrap(Json.bytes(Json.object().put("detail", detail))));
  }
}
