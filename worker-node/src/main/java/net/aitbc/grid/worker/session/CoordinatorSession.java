package net.aitbc.grid.worker.session;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.transport.CoordinatorChannels;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.backend.BackendRouter;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one {@code WorkerService.Connect} stream open to the coordinator for the life of the
 * worker: opens it, reopens it with backoff when it ends, and drains it on shutdown. The stream has
 * no deadline (it lives for days); transport keepalive and heartbeats tell both sides it is alive.
 */
public final class CoordinatorSession {

  private static final Logger logger = LoggerFactory.getLogger(CoordinatorSession.class);
  private static final Metadata.Key<String> API_KEY =
      Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);
  private static final Duration REGISTER_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);
  private static final String SHUTTING_DOWN = "worker shutting down";

  /** The largest message either side accepts; the coordinator's limit is the same 16 MiB. */
  static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

  private final WorkerConfig config;
  private final Register register;
  private final BackendRouter router;
  private final ManagedChannel channel;
  private final WorkerServiceGrpc.WorkerServiceStub stub;
  private final ScheduledThreadPoolExecutor scheduler;
  private final ExecutorService jobExecutor;
  private final ObjectMapper mapper = new ObjectMapper();
  private final Object lock = new Object();
  private final Backoff backoff;
  private final HoldLimit holdLimit;
  private final OutcomeSigner signer;
  private final AtomicBoolean finished = new AtomicBoolean();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private volatile @Nullable StreamSession current;
  private boolean started;
  private boolean stopping;
  private @Nullable ScheduledFuture<?> reconnect;

  /**
   * A session that will register with {@code capabilities} and the public key of {@code key}, run
   * jobs on {@code router} and sign their outcomes with {@code key} when asked; call {@link
   * #start()}.
   */
  public CoordinatorSession(
      WorkerConfig config,
      String version,
      WorkerCapabilities capabilities,
      BackendRouter router,
      SigningKey key) {
    this.config = config;
    this.router = router;
    this.register =
        Register.newBuilder()
            .setWorkerId(config.workerId())
            .setVersion(version)
            .setCapabilities(capabilities)
            .setPublicKey(ByteString.copyFrom(key.verifyingKey().raw()))
            .addAllSwarms(config.swarms())
            .build();
    // Over every address of the target (pick_first): when the coordinator in use goes away, the
    // next stream opens on the first live one.
    this.channel =
        CoordinatorChannels.forTarget(config.coordinator(), config.tls())
            .keepAliveTime(30, TimeUnit.SECONDS)
            .keepAliveWithoutCalls(true)
            // An assignment over the 4 MiB default would fail the stream on every retry of that
            // job.
            .maxInboundMessageSize(MAX_MESSAGE_BYTES)
            .userAgent("aitbc-grid-worker/" + version)
            .build();
    Metadata headers = new Metadata();
    if (config.apiKey() != null) {
      headers.put(API_KEY, config.apiKey());
    }
    this.stub =
        WorkerServiceGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    this.scheduler =
        new ScheduledThreadPoolExecutor(
            1, Thread.ofPlatform().name("worker-timer").daemon().factory());
    scheduler.setRemoveOnCancelPolicy(true);
    this.jobExecutor =
        Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("job-", 0).factory());
    this.backoff =
        new Backoff(config.reconnectMin(), config.reconnectMax(), RandomGenerator.getDefault());
    this.holdLimit = new HoldLimit(config.workerId(), config.concurrency(), config.prefetch());
    // Batches are signed on a virtual thread of their own, never on gRPC's threads.
    this.signer = new OutcomeSigner(key, config.workerId(), jobExecutor);
  }

  /** Opens the first stream in the background; later ones open by themselves. Idempotent. */
  public void start() {
    synchronized (lock) {
      if (started) {
        return;
      }
      started = true;
    }
    connect();
  }

  /** The current session id, or null while not registered. */
  public @Nullable String sessionId() {
    StreamSession s = current;
    return s == null || !s.isRegistered() ? null : s.sessionId();
  }

  /** Whether a stream is open and registered. */
  public boolean isRegistered() {
    StreamSession s = current;
    return s != null && s.isRegistered();
  }

  /** How many jobs run now. */
  public int runningJobs() {
    StreamSession s = current;
    return s == null ? 0 : s.runningJobs();
  }

  /**
   * Drains in the background: sends Draining, lets running jobs finish within the drain timeout,
   * fails what is left as retryable, closes the stream and stops reconnecting. Idempotent.
   */
  public void shutdown() {
    StreamSession s;
    synchronized (lock) {
      if (stopping) {
        return;
      }
      stopping = true;
      cancelReconnect();
      s = current;
    }
    logger.info(
        "[worker={}] shutting down: draining {} running job(s) within {} ms",
        config.workerId(),
        s == null ? 0 : s.runningJobs(),
        config.drainTimeout().toMillis());
    Thread.ofPlatform().name("worker-drain").start(() -> drain(s));
  }

  /**
   * Aborts running jobs and closes the stream at once; the coordinator requeues the jobs.
   * Idempotent.
   */
  public void shutdownNow() {
    StreamSession s;
    synchronized (lock) {
      stopping = true;
      cancelReconnect();
      s = current;
    }
    if (s != null) {
      s.cancel("worker shut down");
      s.abortJobs();
    }
    finish(true);
  }

  /** Completes once the stream is closed, the jobs have stopped and the channel is shut down. */
  public CompletableFuture<Void> termination() {
    return terminated;
  }

  private void connect() {
    synchronized (lock) {
      reconnect = null;
      if (stopping) {
        return;
      }
      // The channel keeps its own, slower reconnect backoff (up to 2 min); ours decides when to
      // try.
      if (channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
        channel.resetConnectBackoff();
      }
      StreamSession s =
          new StreamSession(
              register,
              holdLimit,
              router,
              jobExecutor,
              scheduler,
              new Listener(),
              mapper,
              signer);
      current = s;
      logger.debug("[worker={}] connecting to {}", config.workerId(), config.coordinator());
      // Under the lock, so that a shutdown sees either no stream or a started one. gRPC runs the
      // observer's callbacks on its own executor, never inside this call.
      stub.connect(s);
      s.start(REGISTER_TIMEOUT);
    }
  }

  private final class Listener implements StreamSession.Listener {
    @Override
    public void registered(StreamSession stream) {
      synchronized (lock) {
        backoff.reset();
      }
    }

    @Override
    public void ended(StreamSession stream, Status status) {
      synchronized (lock) {
        if (current == stream) {
          current = null;
        }
        if (stopping) {
          logger.debug("[worker={}] stream closed: {}", config.workerId(), status);
          return;
        }
        Status.Code code = status.getCode();
        boolean refused =
            code == Status.Code.UNAUTHENTICATED || code == Status.Code.PERMISSION_DENIED;
        Duration delay = refused ? backoff.max() : backoff.next();
        long ms = delay.toMillis();
        switch (code) {
          case OK ->
              logger.info(
                  "[worker={}] coordinator closed the stream; reconnecting in {} ms",
                  config.workerId(),
                  ms);
          case CANCELLED ->
              logger.debug(
                  "[worker={}] stream cancelled ({}); reconnecting in {} ms",
                  config.workerId(),
                  status.getDescription(),
                  ms);
          case UNAUTHENTICATED, PERMISSION_DENIED ->
              logger.error(
                  "[worker={}] coordinator refused the worker's credentials ({}: {}); retrying in {}"
                      + " ms",
                  config.workerId(),
                  code,
                  status.getDescription(),
                  ms);
          case UNAVAILABLE ->
              logger.warn(
                  "[worker={}] coordinator {} unavailable ({}); reconnecting in {} ms",
                  config.workerId(),
                  config.coordinator(),
                  status.getDescription(),
                  ms);
          default ->
              logger.warn(
                  "[worker={}] stream failed ({}: {}); reconnecting in {} ms",
                  config.workerId(),
                  code,
                  status.getDescription(),
                  ms,
                  status.getCause());
        }
        try {
          reconnect =
              scheduler.schedule(
                  CoordinatorSession.this::connect, delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
          logger.debug("[worker={}] not reconnecting: shutting down", config.workerId());
        }
      }
    }
  }

  private void drain(@Nullable StreamSession s) {
    try {
      if (s != null && s.isRegistered()) {
        s.startDraining(SHUTTING_DOWN);
        if (!s.awaitJobs(config.drainTimeout())) {
          int left = s.handBack(SHUTTING_DOWN);
          logger.warn(
              "[worker={}] drain timeout: handed {} running job(s) back", config.workerId(), left);
        }
        s.halfClose();
        // Wait for the coordinator to end the call, so that what was queued reaches it first.
        try {
          s.ended().get(CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException
            | java.util.concurrent.ExecutionException e) {
          s.cancel("coordinator did not close the stream");
        }
      } else if (s != null) {
        s.cancel(SHUTTING_DOWN);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (s != null) {
        s.cancel(SHUTTING_DOWN);
      }
    } finally {
      finish(false);
    }
  }

  private void finish(boolean now) {
    if (!finished.compareAndSet(false, true)) {
      if (now) {
        jobExecutor.shutdownNow();
        channel.shutdownNow();
      }
      return;
    }
    scheduler.shutdownNow();
    // Interrupts whatever still runs; after a drain every job has reported or been handed back.
    jobExecutor.shutdownNow();
    if (now) {
      channel.shutdownNow();
    } else {
      channel.shutdown();
    }
    Thread.ofPlatform()
        .name("worker-termination")
        .daemon()
        .start(
            () -> {
              try {
                if (!jobExecutor.awaitTermination(10, TimeUnit.SECONDS)) {
                  logger.warn("[worker={}] some job threads did not stop", config.workerId());
                }
                if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                  channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                logger.info("[worker={}] stopped", config.workerId());
                terminated.complete(null);
              }
            });
  }

  private void cancelReconnect() {
    if (reconnect != null) {
      reconnect.cancel(false);
      reconnect = null;
    }
  }
}
