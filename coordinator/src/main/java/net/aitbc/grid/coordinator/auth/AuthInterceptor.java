package net.aitbc.grid.coordinator.auth;

import static java.util.Objects.requireNonNull;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Map;
import java.util.Set;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.MinerServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates every call of the grid's services by its {@code x-api-key} metadata and checks the
 * key's role against the service. Health and reflection need no key. The key is never logged. When
 * client certificates are checked, a worker stream may authenticate with one instead (the rule is
 * {@link ClientCertificates}'s).
 */
public final class AuthInterceptor implements ServerInterceptor {
  /** The metadata entry that carries the API key. */
  public static final Metadata.Key<String> API_KEY =
      Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);

  private static final Context.Key<Principal> PRINCIPAL = Context.key("aitbc-principal");

  private final Map<String, Set<Role>> rolesByService = Map.of(
      JobServiceGrpc.SERVICE_NAME, Set.of(Role.CLIENT, Role.ADMIN),
      WorkerServiceGrpc.SERVICE_NAME, Set.of(Role.WORKER),
      // REST miners are workers too; the key's client id is the miner's owner.
      MinerServiceGrpc.SERVICE_NAME, Set.of(Role.WORKER),
      ReceiptServiceGrpc.SERVICE_NAME, Set.of(Role.CLIENT, Role.ADMIN),
      ExplorerServiceGrpc.SERVICE_NAME, Set.of(Role.CLIENT, Role.WORKER, Role.ADMIN),
      // Worker keys read their owner's earnings; PaymentServiceImpl refuses them the rest.
      PaymentServiceGrpc.SERVICE_NAME, Set.of(Role.CLIENT, Role.WORKER, Role.ADMIN),
      WorkflowServiceGrpc.SERVICE_NAME, Set.of(Role.CLIENT, Role.ADMIN),
      // Any key joins and lists swarms; SwarmServiceImpl keeps tasks to client and admin keys.
      SwarmServiceGrpc.SERVICE_NAME, Set.of(Role.CLIENT, Role.WORKER, Role.ADMIN));
  private final KeyCache keys;
  private final boolean clientCertificates;

  /**
   * An interceptor that checks keys with {@code keys}, and takes worker client certificates when
   * {@code clientCertificates} (TLS checks them against the coordinator's client CA).
   */
  public AuthInterceptor(KeyCache keys, boolean clientCertificates) {
    this.keys = requireNonNull(keys, "keys");
    this.clientCertificates = clientCertificates;
  }

  /** The principal of the current call; only valid inside the grid's services. */
  public static Principal principal() {
    Principal p = PRINCIPAL.get();
    if (p == null) {
      throw new IllegalStateException("no principal: the call did not pass the AuthInterceptor");
    }
    return p;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Set<Role> allowed = rolesByService.get(call.getMethodDescriptor().getServiceName());
    if (allowed == null) {
      return next.startCall(call, headers);
    }
    Principal certified;
    try {
      certified = clientCertificates && WorkerServiceGrpc.SERVICE_NAME.equals(call.getMethodDescriptor()
          .getServiceName()) ? ClientCertificates.worker(call) : null;
    } catch (IllegalArgumentException e) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription(e.getMessage()));
    }
    String key = headers.get(API_KEY);
    if (key == null || key.isBlank()) {
      if (certified != null) {
        return Contexts.interceptCall(Context.current().withValue(PRINCIPAL, certified), call, headers, next);
      }
      return refuse(call, Status.UNAUTHENTICATED.withDescription("missing api key: send it in x-api-key"));
    }
    Principal principal;
    try {
      principal = keys.resolve(key);
    } catch (RuntimeException e) {
      return refuse(call, Status.UNAVAILABLE.withDescription("cannot check the api key now (the database is "
          + "unavailable); retry later"));
    }
    if (principal == null) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription("invalid api key"));
    }
    if (!allowed.contains(principal.role())) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription(
          "a " + principal.role().label() + " key cannot call " + call.getMethodDescriptor().getServiceName()));
    }
    if (certified != null && !certified.clientId().equals(principal.clientId())) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription("the api key belongs to another owner than the "
          + "client certificate (CN " + certified.clientId() + "): send one of them, or both for the same owner"));
    }
    return Contexts.interceptCall(Context.current().withValue(PRINCIPAL, principal), call, headers, next);
  }

  /**
   * The principal of these headers' key if it is cached and fresh, so that checking it reads
   * nothing from the database; null otherwise.
   */
  public @Nullable Principal cached(Metadata headers) {
    String key = headers.get(API_KEY);
    return key == null ? null : keys.cached(key);
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
    call.close(status, new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
