package net.aitbc.grid.coordinator.testing;

import io.grpc.ManagedChannel;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceStub;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One coordinator on a fresh database for a test class, started by the product's own
 * {@link Coordinator#start} with the tests' short leases, a channel to it, and helpers for keys,
 * clients, hand-spoken workers and typed queries. Register it as a static extension:
 * {@code @RegisterExtension static final GridFixture grid = new GridFixture();}.
 */
public final class GridFixture implements BeforeAllCallback, AfterAllCallback {
  private final UnaryOperator<CoordinatorConfig.Builder> settings;
  private TestDatabase db;
  private Coordinator coordinator;
  private ManagedChannel channel;
  private String workerKey;

  /** A coordinator with {@link TestConfigs}' settings. */
  public GridFixture() {
    this(b -> b);
  }

  /** A coordinator with {@link TestConfigs}' settings changed by {@code settings}. */
  public GridFixture(UnaryOperator<CoordinatorConfig.Builder> settings) {
    this.settings = settings;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    db = TestDatabase.create();
    coordinator = Coordinator.start(settings.apply(TestConfigs.builder(db.url())).build());
    channel = GrpcClients.channel(coordinator.grpcPort());
    workerKey = coordinator.createKey(Role.WORKER, "owner");
  }

  @Override
  public void afterAll(ExtensionContext context) {
    channel.shutdownNow();
    coordinator.close();
    db.close();
  }

  /** The running coordinator. */
  public Coordinator coordinator() {
    return coordinator;
  }

  /** Its database. */
  public TestDatabase db() {
    return db;
  }

  /** A channel to it. */
  public ManagedChannel channel() {
    return channel;
  }

  /** A new client key for {@code clientId}. */
  public String clientKey(String clientId) {
    return coordinator.createKey(Role.CLIENT, clientId);
  }

  /** A blocking JobService client with a new key for {@code clientId}. */
  public JobServiceBlockingStub client(String clientId) {
    return client(clientId, KeyLimits.DEFAULT);
  }

  /** A blocking JobService client with a new key for {@code clientId} with these limits. */
  public JobServiceBlockingStub client(String clientId, KeyLimits limits) {
    return clientWithKey(coordinator.createKey(Role.CLIENT, clientId, limits));
  }

  /** A blocking JobService client with this key. */
  public JobServiceBlockingStub clientWithKey(String key) {
    return GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), key);
  }

  /** An asynchronous JobService client with this key. */
  public JobServiceStub asyncClient(String key) {
    return GrpcClients.withKey(JobServiceGrpc.newStub(channel), key);
  }

  /** The worker key every {@link #worker} uses. */
  public String workerKey() {
    return workerKey;
  }

  /** A hand-spoken worker, registered for these job types. */
  public TestWorker worker(String workerId, String... types) {
    return TestWorker.connect(coordinator.grpcPort(), workerKey, workerId, List.of(types), List.of());
  }

  /** Runs a typed query on a new connection to the database. */
  public <T> T query(Function<DSLContext, T> query) {
    try (Connection c = db.connect()) {
      return query.apply(DSL.using(c, SQLDialect.POSTGRES));
    } catch (SQLException e) {
      throw new IllegalStateException("cannot query " + db.url(), e);
    }
  }
}
