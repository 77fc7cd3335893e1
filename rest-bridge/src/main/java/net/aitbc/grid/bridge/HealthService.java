package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.linecorp.armeria.common.HttpRequest;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.server.HttpService;
import com.linecorp.armeria.server.ServiceRequestContext;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;

/**
 * {@code GET /health}: always 200, so that the bridge itself counts as up; {@code status} is
 * {@code ok} while the coordinator answers SERVING to grpc.health.v1 and {@code degraded} otherwise.
 * Needs no API key.
 */
final class HealthService implements HttpService {
  private final CoordinatorClient coordinator;
  private final String env;

  HealthService(CoordinatorClient coordinator, String env) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
    this.env = requireNonNull(env, "env");
  }

  @Override
  public HttpResponse serve(ServiceRequestContext ctx, HttpRequest req) {
    return HttpResponse.of(coordinator.health().handle((r, e) -> {
      boolean serving = e == null && r.getStatus() == ServingStatus.SERVING;
      ObjectNode body = Json.object()
          .put("status", serving ? "ok" : "degraded")
          .put("env", env)
          .put("version", Bridge.VERSION)
          .put("coordinator", serving ? "SERVING" : "UNAVAILABLE");
      return Json.response(HttpStatus.OK, body);
    }));
  }
}
