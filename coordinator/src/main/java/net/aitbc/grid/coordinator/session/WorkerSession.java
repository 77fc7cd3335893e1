package net.aitbc.grid.coordinator.session;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.Offer;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Revocation;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connected worker stream: what the worker offers, the credits it granted, the attempts it
 * runs, and the single writer of its outbound messages. Messages wait in a queue that drains while
 * the transport is ready; the queue stays small because the worker only gets what it asked for.
 */
public final class WorkerSession {
  private static final Logger logger = LoggerFactory.getLogger(WorkerSession.class);

  private final UUID id;
  private final String workerId;
  private final Principal owner;
  private final WorkerCapabilities capabilities;
  private final Offer offer;
  // Built once: the dispatcher asks for it for every session in every round.
  private final String profile;
  private final ServerCallStreamObserver<ConnectResponse> out;

  private final Object writeLock = new Object();
  private final ArrayDeque<ConnectResponse> outbound = new ArrayDeque<>();
  private boolean closed;

  private final AtomicInteger credits = new AtomicInteger();
  private final Map<UUID, RunningAttempt> running = new ConcurrentHashMap<>();
  private final Set<CompletableFuture<?>> outcomesInFlight = ConcurrentHashMap.newKeySet();
  private volatile boolean draining;
  private volatile long lastHeartbeatNanos = System.nanoTime();
  private volatile OffsetDateTime leaseExpiresAt;

  /** A session for a registered worker; {@code out} must not be written by anyone else. */
  public WorkerSession(UUID id, String workerId, Principal owner, WorkerCapabilities capabilities,
      ServerCallStreamObserver<ConnectResponse> out, OffsetDateTime leaseExpiresAt) {
    this.id = requireNonNull(id, "id");
    this.workerId = requireNonNull(workerId, "workerId");
    this.owner = requireNonNull(owner, "owner");
    this.capabilities = requireNonNull(capabilities, "capabilities");
    this.out = requireNonNull(out, "out");
    this.leaseExpiresAt = requireNonNull(leaseExpiresAt, "leaseExpiresAt");
    this.offer = Offer.of(capabilities);
    this.profile = offer.profile();
  }

  /** The session id. */
  public UUID id() {
    return id;
  }

  /** The worker's self-chosen id. */
  public String workerId() {
    return workerId;
  }

  /** The worker key's principal. */
  public Principal owner() {
    return owner;
  }

  /** What the worker advertised. */
  public WorkerCapabilities capabilities() {
    return capabilities;
  }

  /** What it offers, for matching. */
  public Offer offer() {
    return offer;
  }

  /** Its offer's {@link Offer#profile()}: sessions with equal profiles can run the same jobs. */
  public String profile() {
    return profile;
  }

  /** Adds credits the worker granted, unless it is draining. */
  public void grant(int count) {
    if (!draining) {
      credits.addAndGet(count);
    }
  }

  /** Takes up to {@code max} credits for a claim; returns how many were taken. */
  public int reserve(int max) {
    while (true) {
      int available = credits.get();
      if (available <= 0 || draining) {
        return 0;
      }
      int take = Math.min(available, max);
      if (credits.compareAndSet(available, available - take)) {
        return take;
      }
    }
  }

  /** Gives back credits a claim did not use. */
  public void unreserve(int count) {
    if (count > 0 && !draining) {
      credits.addAndGet(count);
    }
  }

  /** Credits granted and not yet used. */
  public int credits() {
    return credits.get();
  }

  /** The worker or the coordinator is winding the session down: it gets no more jobs. */
  public void drain() {
    draining = true;
    credits.set(0);
  }

  /** Whether the session is draining. */
  public boolean draining() {
    return draining;
  }

  /** Notes a heartbeat (any message counts). */
  public void touch() {
    lastHeartbeatNanos = System.nanoTime();
  }

  /** Nanoseconds since the last heartbeat. */
  public long silentNanos() {
    return System.nanoTime() - lastHeartbeatNanos;
  }

  /** The current end of the session's lease. */
  public OffsetDateTime leaseExpiresAt() {
    return leaseExpiresAt;
  }

  /** Records that the lease was extended. */
  public void leaseRenewed(OffsetDateTime until) {
    leaseExpiresAt = until;
  }

  /** Sends claimed jobs to the worker in one write; false when the stream is already closed. */
  public boolean assign(List<ClaimedJob> jobs) {
    Timestamp lease = timestamp(leaseExpiresAt);
    List<ConnectResponse> messages = new ArrayList<>(jobs.size());
    for (ClaimedJob job : jobs) {
      running.put(job.jobId(), new RunningAttempt(job.attempt(), job.createdAt(), job.startedAt()));
      Assignment.Builder a = Assignment.newBuilder()
          .setJobId(JobIds.format(job.jobId()))
          .setAttempt(job.attempt())
          .setLeaseExpireTime(lease)
          .setType(job.type())
          .setPayloadJson(job.payloadJson())
          .setExpireTime(timestamp(job.expiresAt()));
      if (job.model() != null) {
        a.setModel(job.model());
      }
      messages.add(ConnectResponse.newBuilder().setAssignment(a).build());
    }
    synchronized (writeLock) {
      if (closed) {
        return false;
      }
      outbound.addAll(messages);
      flushLocked();
      return true;
    }
  }

  /** The attempt of a job this session runs, if it runs it. */
  public Optional<RunningAttempt> running(UUID jobId) {
    return Optional.ofNullable(running.get(jobId));
  }

  /** Whether this session runs this attempt of the job. */
  public boolean holds(UUID jobId, int attempt) {
    RunningAttempt r = running.get(jobId);
    return r != null && r.attempt() == attempt;
  }

  /** Forgets an attempt whose outcome was recorded. */
  public void finished(UUID jobId, int attempt) {
    running.computeIfPresent(jobId, (k, r) -> r.attempt() == attempt ? null : r);
  }

  /** How many attempts the session runs. */
  public int runningCount() {
    return running.size();
  }

  /** Tracks a reported outcome until it is committed and acknowledged. */
  public void track(CompletableFuture<?> outcome) {
    outcomesInFlight.add(outcome);
    outcome.whenComplete((r, e) -> outcomesInFlight.remove(outcome));
  }

  /** Completes once every outcome reported so far is committed and acknowledged. */
  public CompletableFuture<Void> settled() {
    return CompletableFuture.allOf(outcomesInFlight.toArray(CompletableFuture[]::new)).exceptionally(e -> null);
  }

  /** Tells the worker to stop an attempt that was canceled or expired. */
  public void revoke(UUID jobId, int attempt, String reason) {
    if (running.remove(jobId) != null) {
      send(ConnectResponse.newBuilder()
          .setRevocation(Revocation.newBuilder().setJobId(JobIds.format(jobId)).setAttempt(attempt).setReason(reason))
          .build());
    }
  }

  /** Queues a message and writes what the transport takes; false once the stream is closed. */
  public boolean send(ConnectResponse message) {
    synchronized (writeLock) {
      if (closed) {
        return false;
      }
      outbound.add(message);
      flushLocked();
      return true;
    }
  }

  /** Called when the transport can take more: writes what is queued. */
  public void onReady() {
    synchronized (writeLock) {
      flushLocked();
    }
  }

  private void flushLocked() {
    while (!closed && !outbound.isEmpty() && out.isReady()) {
      out.onNext(outbound.poll());
    }
  }

  /** Marks the stream closed by the peer; true the first time. */
  public boolean markClosed() {
    synchronized (writeLock) {
      if (closed) {
        return false;
      }
      closed = true;
      outbound.clear();
      return true;
    }
  }

  /** Whether the stream has closed. */
  public boolean closed() {
    synchronized (writeLock) {
      return closed;
    }
  }

  /** Ends the stream from this side: OK completes it, anything else fails it. */
  public void end(Status status) {
    synchronized (writeLock) {
      if (closed) {
        return;
      }
      closed = true;
      outbound.clear();
      try {
        if (status.isOk()) {
          out.onCompleted();
        } else {
          out.onError(status.asRuntimeException());
        }
      } catch (RuntimeException e) {
        logger.debug("[{}] stream already gone: {}", id, e.toString());
      }
    }
  }

  private static Timestamp timestamp(OffsetDateTime t) {
    return Timestamp.newBuilder().setSeconds(t.toEpochSecond()).setNanos(t.getNano()).build();
  }

  /**
   * An attempt the session runs.
   *
   * @param attempt its number
   * @param createdAt when the job was submitted
   * @param startedAt when the attempt was handed out
   */
  public record RunningAttempt(int attempt, OffsetDateTime createdAt, OffsetDateTime startedAt) {}
}
