package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;

/** The caller's {@code X-Api-Key}: every route but health passes it on to the coordinator as it came. */
final class ApiKey {
  private static final String HEADER = "x-api-key";
  /**
   * Far above any key the coordinator issues (about 50 characters). A longer one could not be valid,
   * and gRPC metadata over the coordinator's header limit fails the whole HTTP/2 connection to it,
   * every other caller's calls on it included.
   */
  private static final int MAX_LENGTH = 1024;

  private ApiKey() {}

  /**
   * A decorator that refuses a request without a usable {@code X-Api-Key} before anything else
   * happens. The CLI sends the header empty when it has no key.
   */
  static HttpResponse require(HttpService delegate, ServiceRequestContext ctx, HttpRequest req) throws Exception {
    String key = req.headers().get(HEADER, "").strip();
    if (key.isEmpty()) {
      return HttpErrors.response(HttpStatus.UNAUTHORIZED, "missing api key");
    }
    if (key.length() > MAX_LENGTH || !key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      // gRPC metadata is ASCII; such a key cannot be one the coordinator issued.
      return HttpErrors.response(HttpStatus.UNAUTHORIZED, "invalid api key");
    }
    return delegate.serve(ctx, req);
  }

  /** The key of a request that {@link #require} let through. */
  static String of(RequestHeaders headers) {
    return requireNonNull(headers.get(HEADER), HEADER).strip();
  }
}
