package net.aitbc.grid.ops;

import static java.util.Objects.requireNonNull;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.transport.CoordinatorChannels;
import net.aitbc.grid.v1.DepositRequest;
import net.aitbc.grid.v1.DepositResponse;
import net.aitbc.grid.v1.GetBalanceRequest;
import net.aitbc.grid.v1.GetBalanceResponse;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.SetCreditLimitRequest;
import net.aitbc.grid.v1.SetCreditLimitResponse;
import org.jspecify.annotations.Nullable;

/**
 * The coordinator's PaymentService as an admin uses it: deposits into clients' accounts, their
 * credit limits and balances, over one gRPC channel with the admin's key. For {@code grid accounts} and {@code grid dev}.
 */
final class Accounts implements AutoCloseable {
  private static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);
  private static final Duration DEADLINE = Duration.ofSeconds(10);

  private final ManagedChannel channel;
  private final PaymentServiceGrpc.PaymentServiceBlockingStub stub;

  /**
   * A connection to the coordinator at {@code target} (one address, a comma-separated list of
   * replicas, or a gRPC target) with {@code adminKey}, over TLS when {@code tls} is not null.
   */
  Accounts(String target, @Nullable ClientTls tls, String adminKey) {
    requireNonNull(adminKey, "adminKey");
    this.channel = CoordinatorChannels.forTarget(requireNonNull(target, "target"), tls).build();
    Metadata headers = new Metadata();
    headers.put(API_KEY, adminKey);
    this.stub = PaymentServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  /**
   * Credits {@code clientId}'s account; the same {@code idempotencyKey} again (when not null) moves
   * nothing twice.
   */
  DepositResponse deposit(String clientId, String amount, String currency, @Nullable String idempotencyKey) {
    DepositRequest.Builder b = DepositRequest.newBuilder().setClientId(clientId).setAmount(amount)
        .setCurrency(currency);
    if (idempotencyKey != null && !idempotencyKey.isBlank()) {
      b.setIdempotencyKey(idempotencyKey);
    }
    return stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS).deposit(b.build());
  }

  /** {@code clientId}'s accounts. */
  GetBalanceResponse balance(String clientId) {
    return stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS)
        .getBalance(GetBalanceRequest.newBuilder().setClientId(clientId).build());
  }

  /** Sets {@code clientId}'s credit limit in {@code currency}. */
  SetCreditLimitResponse setCreditLimit(String clientId, String limit, String currency) {
    return stub.withDeadlineAfter(DEADLINE.toMillis(), TimeUnit.MILLISECONDS).setCreditLimit(
        SetCreditLimitRequest.newBuilder().setClientId(clientId).setCreditLimit(limit).setCurrency(currency).build());
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
