package net.aitbc.grid.coordinator;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariDataSource;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.KeyCache;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Revocations;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.cluster.Cluster;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.ledger.ReceiptBodies;
import net.aitbc.grid.coordinator.ledger.Sealer;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.metrics.MetricsHttpServer;
import net.aitbc.grid.coordinator.miner.Miners;
import net.aitbc.grid.coordinator.rpc.ExplorerServiceImpl;
import net.aitbc.grid.coordinator.rpc.JobServiceImpl;
import net.aitbc.grid.coordinator.rpc.MinerServiceImpl;
import net.aitbc.grid.coordinator.rpc.PaymentServiceImpl;
import net.aitbc.grid.coordinator.rpc.ExecutionReceiptReader;
import net.aitbc.grid.coordinator.rpc.ReceiptServiceImpl;
import net.aitbc.grid.coordinator.rpc.StepJobSubmitter;
import net.aitbc.grid.coordinator.rpc.WorkerServiceImpl;
import net.aitbc.grid.coordinator.rpc.WorkflowServiceImpl;
import net.aitbc.grid.coordinator.rpc.MemberJobSubmitter;
import net.aitbc.grid.coordinator.rpc.SwarmReceiptReader;
import net.aitbc.grid.coordinator.rpc.SwarmServiceImpl;
import net.aitbc.grid.coordinator.scheduler.EscrowSweeper;
import net.aitbc.grid.coordinator.scheduler.RetentionSweeper;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.AccountStore;
import net.aitbc.grid.coordinator.store.ClusterStore;
import net.aitbc.grid.coordinator.store.EarningsStore;
import net.aitbc.grid.coordinator.store.EngineStore;
import net.aitbc.grid.coordinator.store.LedgerStore;
import net.aitbc.grid.coordinator.store.MinerStore;
import net.aitbc.grid.coordinator.store.ExecutionStore;
import net.aitbc.grid.coordinator.store.NetworkRunStore;
import net.aitbc.grid.coordinator.store.NetworkStore;
import net.aitbc.grid.coordinator.store.NotificationListener;
import net.aitbc.grid.coordinator.store.WorkflowStore;
import net.aitbc.grid.coordinator.store.PaymentStore;
import net.aitbc.grid.coordinator.store.RetentionStore;
import net.aitbc.grid.coordinator.store.Stores;
import net.aitbc.grid.coordinator.store.SwarmEngineStore;
import net.aitbc.grid.coordinator.store.SwarmReads;
import net.aitbc.grid.coordinator.store.SwarmStore;
import net.aitbc.grid.coordinator.store.SwarmTaskStore;
import net.aitbc.grid.coordinator.swarm.SwarmEngine;
import net.aitbc.grid.coordinator.swarm.SwarmWorkers;
import net.aitbc.grid.coordinator.workflow.ExecutionEvents;
import net.aitbc.grid.coordinator.workflow.ExecutionStarts;
import net.aitbc.grid.coordinator.workflow.NetworkEngine;
import net.aitbc.grid.coordinator.workflow.WorkflowEngine;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.MinerServiceGrpc;
import net.aitbc.grid.v1.PaymentServiceGrpc;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running coordinator: the gRPC server (JobService, WorkerService, health, reflection), the
 * scheduler, and the Prometheus endpoint, over one PostgreSQL database. {@link #configure} is the
 * one place that wires the parts together.
 */
public final class Coordinator implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Coordinator.class);
  // How long the pipeline (committers, dispatcher, sweepers), and at most a call, waits for a pooled
  // connection while the database is up but every one is in use.
  private static final Duration BUSY_POOL_WAIT = Duration.ofSeconds(10);
  private static final String CREATE_JOB = JobServiceGrpc.getCreateJobMethod().getFullMethodName();
  /** The largest message the gRPC server accepts (a worker's result, a client's payload). */
  public static final int MAX_MESSAGE_BYTES = 16 << 20;

  private final CoordinatorConfig config;
  private final HikariDataSource dataSource;
  private final Core core;
  private final Server server;
  private final @Nullable MetricsHttpServer metricsServer;
  private boolean closed;

  private Coordinator(CoordinatorConfig config) {
    this.config = config;
    // First: a certificate or key that cannot be read or parsed fails the start before the database is touched.
    NettyServerBuilder sb = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.grpcPort()),
            config.tls() == null ? InsecureServerCredentials.create() : config.tls().credentials())
        // Worker streams live for days: allow client keepalive pings, and ping idle peers.
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(60, TimeUnit.SECONDS)
        .keepAliveTimeout(20, TimeUnit.SECONDS);
    SSLContext metricsTls = config.tls() == null || config.metricsPort() < 0 ? null
        : MetricsHttpServer.sslContext(config.tls());
    this.dataSource = Database.pool(config.dbUrl(), config.dbUser(), config.dbPassword(), config.dbPoolSize());
    try {
      Database.migrate(dataSource);
    } catch (RuntimeException e) {
      dataSource.close();
      throw new IllegalStateException("cannot prepare the database at " + config.dbUrl() + ": " + e.getMessage(), e);
    }
    this.core = configure(sb, config, Database.dsl(dataSource, config.dbPoolSize(), BUSY_POOL_WAIT, Coordinator::deadlineLeft));
    this.server = sb.build();
    try {
      server.start();
    } catch (IOException e) {
      core.close();
      dataSource.close();
      throw new UncheckedIOException("cannot listen on " + config.host() + ":" + config.grpcPort(), e);
    }
    core.serving();
    this.metricsServer = config.metricsPort() < 0 ? null
        : new MetricsHttpServer(config.host(), config.metricsPort(), core.metrics, metricsTls);
    logger.info("coordinator listening on {}:{} (gRPC{}){}", config.host(), grpcPort(),
        config.tls() == null ? "" : " over TLS" + (config.tls().checksClientCertificates()
            ? ", worker client certificates accepted" : ""),
        metricsServer == null ? "" : ", metrics on " + (config.tls() == null ? "http" : "https") + "://"
            + config.host() + ":" + metricsServer.port() + "/metrics");
  }

  /** Migrates the database and starts serving. */
  public static Coordinator start(CoordinatorConfig config) {
    return new Coordinator(requireNonNull(config, "config"));
  }

  /** Nanoseconds the deadline of the call this thread serves leaves; no deadline: Long.MAX_VALUE. */
  private static long deadlineLeft() {
    Deadline deadline = Context.current().getDeadline();
    return deadline == null ? Long.MAX_VALUE : deadline.timeRemaining(TimeUnit.NANOSECONDS);
  }

  /**
   * Wires the coordinator's services onto {@code sb}: the scheduler and its stores over {@code dsl},
   * authentication, admission, revocation, JobService, WorkerService, health and reflection. The
   * caller builds and starts the server, and closes the returned core after the server stops.
   */
  public static Core configure(ServerBuilder<?> sb, CoordinatorConfig config, DSLContext dsl) {
    Core core = new Core(config, dsl);
    AuthInterceptor auth = new AuthInterceptor(core.keys,
        config.tls() != null && config.tls().checksClientCertificates());
    sb.executor(core.executor)
        .callExecutor(new ServerCallExecutorSupplier() {
          // A CreateJob whose key is known reads nothing from the database (what a submission may
          // have to read, the scheduler reads on a virtual thread): it runs on the transport thread,
          // one hand-off fewer per submission. Every other call runs on a virtual thread.
          @Override
          public <Q, R> @Nullable Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
            return CREATE_JOB.equals(call.getMethodDescriptor().getFullMethodName()) && auth.cached(headers) != null
                ? Runnable::run : null;
          }
        })
        .intercept(auth)
        .addService(new JobServiceImpl(config, core.stores.jobs(), core.scheduler, core.registry, core.events,
            core.revocations, core.executor, core.stores.receipts(), core.ledger, core.payments))
        .addService(new ReceiptServiceImpl(core.stores.receipts(), core.ledger))
        .addService(new ExplorerServiceImpl(core.stores.ledger(), core.ledger))
        .addService(new PaymentServiceImpl(core.payments, core.accounts, new EarningsStore(dsl),
            core.stores.receipts(), core.ledger))
        .addService(new WorkerServiceImpl(config, core.scheduler, core.revocations, core.metrics, core.swarms))
        .addService(new SwarmServiceImpl(config, core.swarms, core.swarmReads, core.swarmTasks, core.swarmEngine,
            core.scheduler, new SwarmReceiptReader(core.stores.receipts(), core.ledger)))
        .addService(new MinerServiceImpl(config, core.miners, core.scheduler, core.stores.receipts(), core.ledger,
            core.executor))
        .addService(new WorkflowServiceImpl(core.workflows, core.executions, core.engine, core.starts,
            core.executionEvents, core.events, core.scheduler, core.registry, core.revocations, core.executor,
            core.networks, core.networkEngine, new ExecutionReceiptReader(core.stores.receipts(), core.ledger)))
        .addService(core.health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        // Older grpcurl builds only speak v1alpha reflection.
        .addService(io.grpc.protobuf.services.ProtoReflectionService.newInstance())
        .maxInboundMessageSize(MAX_MESSAGE_BYTES);
    return core;
  }

  /** The port the gRPC server listens on. */
  public int grpcPort() {
    return server.getPort();
  }

  /** The Prometheus port, or -1 when metrics are off. */
  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.port();
  }

  /** How many other coordinators on its database were alive at its last heartbeat. */
  public int otherReplicas() {
    return core.cluster.others();
  }

  /** The configuration it runs with. */
  public CoordinatorConfig config() {
    return config;
  }

  /** Creates a key for a role and client id and returns it; only its hash is stored. */
  public String createKey(Role role, String clientId) {
    return createKey(role, clientId, KeyLimits.DEFAULT);
  }

  /** Creates a key with these limits and returns it; only its hash is stored. */
  public String createKey(Role role, String clientId, KeyLimits limits) {
    String key = new ApiKeys().generate(role);
    core.stores.keys().add(key, role, clientId, limits);
    return key;
  }

  /** Stores a key chosen by the operator (e.g. the dev mode's fixed client key). */
  public void addKey(String key, Role role, String clientId) {
    core.stores.keys().add(key, role, clientId, KeyLimits.DEFAULT);
  }

  /**
   * Shuts down gracefully: stops taking calls, asks workers to drain (they finish or hand back
   * what they hold), commits what is queued, then stops.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    logger.info("coordinator shutting down");
    core.health.enterTerminalState();
    server.shutdown();
    core.scheduler.drainWorkers(config.shutdownGrace());
    // Member jobs still running are taken back as the scheduler stops: the next coordinator's engine,
    // with its workers connected, acts on that, not this one's.
    core.swarmEngine.close();
    core.scheduler.close();
    try {
      if (!server.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        server.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    if (metricsServer != null) {
      metricsServer.close();
    }
    core.close();
    dataSource.close();
    logger.info("coordinator stopped");
  }

  /** The coordinator's parts behind its services, over one database. */
  public static final class Core implements AutoCloseable {
    private final Stores stores;
    private final PaymentStore payments;
    private final AccountStore accounts;
    private final EscrowSweeper escrowSweeper;
    private final RetentionSweeper retentionSweeper;
    private final SessionRegistry registry = new SessionRegistry();
    private final Cluster cluster;
    private final JobEvents events;
    private final GridMetrics metrics;
    private final Scheduler scheduler;
    private final Revocations revocations;
    private final KeyCache keys;
    private final HealthStatusManager health = new HealthStatusManager();
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final @Nullable Ledger ledger;
    private final @Nullable Sealer sealer;
    private final WorkflowStore workflows;
    private final ExecutionStore executions;
    private final ExecutionEvents executionEvents = new ExecutionEvents();
    private final WorkflowEngine engine;
    private final ExecutionStarts starts;
    private final NetworkStore networks;
    private final NetworkEngine networkEngine;
    private final NotificationListener notificationListener;
    private final SwarmStore swarms;
    private final SwarmReads swarmReads;
    private final SwarmTaskStore swarmTasks;
    private final SwarmEngine swarmEngine;
    private final Miners miners;

    private Core(CoordinatorConfig config, DSLContext dsl) {
      SigningKey key = config.ledger().signingKey();
      ReceiptBodies receipts = key == null ? null : new ReceiptBodies();
      this.stores = Stores.over(dsl, receipts, config.resultCache());
      this.payments = new PaymentStore(dsl, config.paymentFeeBps(), receipts);
      this.accounts = new AccountStore(dsl);
      this.ledger = key == null ? null : new Ledger(key, stores.receipts(), stores.ledger());
      this.sealer = ledger == null ? null
          : new Sealer(stores.ledger(), ledger, config.ledger().blockReceipts(), config.ledger().blockInterval());
      if (ledger != null) {
        logger.info("issuing receipts signed with key {}; a block every {} receipts or {} ms", ledger.keyId(),
            config.ledger().blockReceipts(), config.ledger().blockInterval().toMillis());
      } else {
        logger.info("issuing no receipts: no signing key is configured");
      }
      // A beat is a transaction: at most one a second, however often the sweeper runs.
      this.cluster = new Cluster(new ClusterStore(dsl), config.host() + ":" + config.grpcPort(),
          config.sweepInterval().compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : config.sweepInterval());
      this.events = new JobEvents(cluster);
      this.metrics = new GridMetrics(registry::size, events::watchedJobs);
      if (ledger != null) {
        LedgerStore blocks = stores.ledger();
        metrics.ledgerLag(() -> {
          OffsetDateTime oldest = blocks.unsealed().oldest();
          return oldest == null ? 0 : Math.max(0, Duration.between(oldest, OffsetDateTime.now()).toMillis() / 1000.0);
        });
      }
      Sealer s = sealer;
      this.scheduler = new Scheduler(config, stores, registry, events, metrics, s == null ? n -> { } : s::issued,
          payments, cluster);
      this.miners = new Miners(config, scheduler, new MinerStore(dsl), MinerServiceImpl::revive);
      this.revocations = new Revocations(stores.keys()::inactive, config.revocationDelay());
      this.keys = new KeyCache(stores.keys()::find, config.revocationDelay(), config.staleKeyGrace(), System::nanoTime);
      this.escrowSweeper = new EscrowSweeper(payments, config.sweepInterval().multipliedBy(10));
      this.retentionSweeper = new RetentionSweeper(new RetentionStore(dsl), config.retention(), metrics);
      if (config.retention().retires()) {
        logger.info("retiring jobs finished more than {} ago, every {}", config.retention().jobs(),
            config.retention().every());
      }
      this.workflows = new WorkflowStore(dsl);
      this.executions = new ExecutionStore(dsl, receipts);
      this.engine = new WorkflowEngine(new EngineStore(dsl, receipts), new StepJobSubmitter(config, scheduler),
          config.sweepInterval());
      // A step's outcome and the next step's jobs commit together, when the engine's rules allow.
      scheduler.followStepJobsWith(engine.inline());
      this.starts = new ExecutionStarts(executions, engine);
      this.networks = new NetworkStore(dsl);
      this.networkEngine = new NetworkEngine(new NetworkRunStore(dsl), executions, config.sweepInterval());
      this.swarms = new SwarmStore(dsl);
      this.swarmReads = new SwarmReads(dsl);
      this.swarmTasks = new SwarmTaskStore(dsl, receipts);
      this.swarmEngine = new SwarmEngine(new SwarmEngineStore(dsl, receipts, config.leaseDuration()),
          new MemberJobSubmitter(config, scheduler), stores.keys()::findById, new SwarmWorkers(swarms, swarmReads),
          config.sweepInterval());
      // A member's outcome and what it decides (a consensus, once the last member's is in) commit together.
      scheduler.followMemberJobsWith(swarmEngine.inline());
      this.notificationListener = new NotificationListener(config.dbUrl(), config.dbUser(), config.dbPassword(), () -> {
        engine.wake();
        networkEngine.wake();
        swarmEngine.wake();
      }, executionEvents::changed, cluster::received, () -> {
        engine.wake();
        networkEngine.wake();
        swarmEngine.wake();
        executionEvents.changedAll();
        cluster.reconnected();
      });
      cluster.start(scheduler, events, registry);
    }

    /** Reports every service as serving (health checks). */
    void serving() {
      health.setStatus("", ServingStatus.SERVING);
      health.setStatus(JobServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(WorkerServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(MinerServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(ReceiptServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(ExplorerServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(PaymentServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(WorkflowServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
      health.setStatus(SwarmServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
    }

    /** Stops the scheduler (idempotent), revocation checks and meters. */
    @Override
    public void close() {
      cluster.close();
      notificationListener.close();
      swarmEngine.close();
      networkEngine.close();
      starts.close();
      engine.close();
      scheduler.close();
      miners.close();
      if (sealer != null) {
        sealer.close();
      }
      escrowSweeper.close();
      retentionSweeper.close();
      revocations.close();
      metrics.close();
      executor.shutdownNow();
    }
  }
}
