package net.aitbc.grid.coordinator.cluster;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Peers;
import net.aitbc.grid.coordinator.scheduler.Progress;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.store.ClusterStore;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This coordinator among the replicas that share its database. Every heartbeat it stamps its row
 * (by the database's clock) and learns how many others are alive; while there are any, it tells
 * them, by PostgreSQL notifications, what concerns them (jobs queued here that their workers may
 * run, attempts to revoke on workers they hold, changes of jobs their clients watch), hears the same
 * from them, and exchanges with them what each admitted per key. Alone, it sends nothing.
 *
 * <p>Messages are best-effort by design: each is sent after the commit it describes and may be
 * lost with its sender. What is lost is made good by the next tick or sweep (a dispatcher round, a
 * lease running out, a watcher's read after the listener reconnects), never by a wrong state.
 */
public final class Cluster implements Peers, AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Cluster.class);
  private static final int OUTBOX = 100_000;
  private static final int BATCH = 500;
  // A notification's payload is at most 8000 bytes: progress output goes in pieces this long.
  private static final int OUTPUT_PIECE = 1_800;
  private static final long WATCH_TTL_NANOS = 30_000_000_000L;
  private static final long ANNOUNCE_EVERY_NANOS = 10_000_000_000L;
  private static final Duration FORGET_SILENT = Duration.ofDays(1);

  private final ClusterStore store;
  private final UUID id;
  private final String sender;
  private final String address;
  private final Duration interval;
  private final Duration liveWithin;
  private final LinkedBlockingQueue<String> outbox = new LinkedBlockingQueue<>(OUTBOX);
  private final AtomicBoolean dispatchQueued = new AtomicBoolean();
  private final Map<UUID, Long> watchedElsewhere = new ConcurrentHashMap<>();
  private final Map<ClusterStore.Usage, Long> othersAdmitted = new HashMap<>();
  private final Map<ClusterStore.Usage, Long> sentAdmitted = new HashMap<>();
  // Whether othersAdmitted holds the totals of a first exchange (all on the heartbeat's thread).
  private boolean usageBaselined;
  private volatile int others;
  private volatile boolean running = true;
  private @Nullable Thread publisher;
  private @Nullable ScheduledExecutorService beat;
  private @Nullable Scheduler scheduler;
  private @Nullable JobEvents events;
  private @Nullable SessionRegistry registry;
  private long lastAnnounceNanos = System.nanoTime();
  private long lastForgetNanos = System.nanoTime();
  private boolean dropping;

  /**
   * A replica known to the others by a fresh id and {@code address} (for operators), with a
   * heartbeat every {@code interval}; a replica is alive while its last beat is more recent than a
   * few beats (at least five seconds).
   */
  public Cluster(ClusterStore store, String address, Duration interval) {
    this.store = requireNonNull(store, "store");
    this.id = UUID.randomUUID();
    this.sender = id.toString();
    this.address = requireNonNull(address, "address");
    this.interval = requireNonNull(interval, "interval");
    this.liveWithin = Duration.ofMillis(Math.max(5_000, interval.toMillis() * 5));
  }

  /** This replica's id. */
  public UUID id() {
    return id;
  }

  /** How many other replicas were alive at the last heartbeat. */
  public int others() {
    return others;
  }

  /** Starts beating and sending, acting on what others send through these parts. */
  public void start(Scheduler scheduler, JobEvents events, SessionRegistry registry) {
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.events = requireNonNull(events, "events");
    this.registry = requireNonNull(registry, "registry");
    beatOnce();
    this.publisher = Thread.ofPlatform().name("grid-cluster-out").daemon().start(this::publish);
    ScheduledExecutorService b = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("grid-cluster-beat").daemon().factory());
    b.scheduleWithFixedDelay(this::beatOnce, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    this.beat = b;
  }

  // ---- heartbeat

  private void beatOnce() {
    try {
      int before = others;
      others = store.heartbeat(id, address, liveWithin).size();
      if (others != before) {
        logger.info("{} other coordinator replica(s) alive on this database", others);
      }
      Scheduler s = requireNonNull(scheduler);
      s.othersAlive(others);
      if (others > 0) {
        exchangeUsage(s);
        long now = System.nanoTime();
        if (before == 0 || now - lastAnnounceNanos >= ANNOUNCE_EVERY_NANOS) {
          // Watches began while alone, or may have expired elsewhere: announce them all again.
          requireNonNull(events).watched().forEach(this::watching);
          lastAnnounceNanos = now;
        }
      }
      watchedElsewhere.values().removeIf(until -> System.nanoTime() - until > 0);
      if (System.nanoTime() - lastForgetNanos > 600_000_000_000L) {
        lastForgetNanos = System.nanoTime();
        store.forgetSilent(FORGET_SILENT);
      }
    } catch (RuntimeException e) {
      logger.warn("replica heartbeat failed, retrying next beat: {}", e.toString());
    }
  }

  private void exchangeUsage(Scheduler s) {
    Map<ClusterStore.Usage, Long> changed = new HashMap<>();
    s.admitted().forEach((usage, n) -> {
      if (!n.equals(sentAdmitted.get(usage))) {
        changed.put(usage, n);
      }
    });
    Map<ClusterStore.Usage, Long> totals = store.exchangeUsage(id, changed);
    sentAdmitted.putAll(changed);
    Map<ClusterStore.Usage, Long> charge = new HashMap<>();
    totals.forEach((usage, total) -> {
      Long seen = othersAdmitted.put(usage, total);
      // The first exchange's totals are a baseline (admitted before this replica started); a key
      // that shows up later was admitted elsewhere since, all of it (taken as a baseline too, a new
      // key's first burst through another replica went uncharged here). A total that fell lost a
      // replica that was forgotten.
      long before = seen != null ? seen : usageBaselined ? 0 : total;
      if (total > before) {
        charge.put(usage, total - before);
      }
    });
    usageBaselined = true;
    if (!charge.isEmpty()) {
      s.chargeAdmittedElsewhere(charge);
    }
  }

  // ---- messages out

  private void send(String message) {
    if (!outbox.offer(message) && !dropping) {
      dropping = true;
      logger.warn("more than {} messages for other replicas wait: dropping some (ticks and sweeps make up for them)",
          OUTBOX);
    }
  }

  private void publish() {
    List<String> batch = new ArrayList<>();
    while (running) {
      try {
        String first = outbox.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        outbox.drainTo(batch, BATCH - 1);
        if (batch.contains(dispatchMessage())) {
          dispatchQueued.set(false);
        }
        store.publish(batch);
        dropping = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        logger.warn("could not tell other replicas of {} changes: {}", batch.size(), e.toString());
      } finally {
        batch.clear();
      }
    }
  }

  private String dispatchMessage() {
    return "D\t" + sender;
  }

  @Override
  public void queued() {
    if (others > 0 && !dispatchQueued.getAndSet(true)) {
      send(dispatchMessage());
    }
  }

  @Override
  public void revoke(UUID sessionId, UUID jobId, int attempt, String reason) {
    if (others > 0) {
      send("R\t" + sender + "\t" + sessionId + "\t" + jobId + "\t" + attempt + "\t" + truncate(reason));
    }
  }

  @Override
  public void watching(UUID jobId) {
    if (others > 0) {
      send("W\t" + sender + "\t" + jobId);
    }
  }

  @Override
  public boolean watchedElsewhere(UUID jobId) {
    return others > 0 && watchedElsewhere.containsKey(jobId);
  }

  @Override
  public void changed(UUID jobId) {
    send("C\t" + sender + "\t" + jobId);
  }

  @Override
  public void progress(Progress p) {
    String head = "P\t" + sender + "\t" + p.jobId() + "\t" + p.attempt() + "\t" + p.percent() + "\t";
    String output = p.output();
    int from = 0;
    do {
      int to = Math.min(output.length(), from + OUTPUT_PIECE);
      if (to < output.length() && Character.isHighSurrogate(output.charAt(to - 1))) {
        to--;
      }
      send(head + output.substring(from, to));
      from = to;
    } while (from < output.length());
  }

  private static String truncate(String reason) {
    return reason.length() <= OUTPUT_PIECE ? reason : reason.substring(0, OUTPUT_PIECE);
  }

  // ---- messages in

  /** A message from the database's cluster channel; called on the listening thread, never blocks. */
  public void received(String payload) {
    String[] f = payload.split("\t", 7);
    if (f.length < 2 || f[1].equals(sender) || scheduler == null) {
      return;
    }
    try {
      switch (f[0]) {
        case "D" -> requireNonNull(scheduler).queuedElsewhere();
        case "W" -> watchedElsewhere.put(UUID.fromString(f[2]), System.nanoTime() + WATCH_TTL_NANOS);
        case "C" -> requireNonNull(events).changedHere(UUID.fromString(f[2]));
        case "P" -> {
          String[] p = payload.split("\t", 6);
          requireNonNull(events).progressHere(new Progress(UUID.fromString(p[2]), Integer.parseInt(p[3]),
              Double.parseDouble(p[4]), p[5]));
        }
        case "R" -> {
          String[] r = payload.split("\t", 6);
          requireNonNull(registry).find(UUID.fromString(r[2]))
              .ifPresent(s -> s.revoke(UUID.fromString(r[3]), Integer.parseInt(r[4]), r[5]));
        }
        default -> logger.debug("unknown replica message kind {}", f[0]);
      }
    } catch (RuntimeException e) {
      logger.warn("ignoring a malformed replica message: {}", e.toString());
    }
  }

  /** The listening connection (re)connected: messages may have been lost, so watchers read again. */
  public void reconnected() {
    if (events != null) {
      events.changedAllHere();
    }
    if (scheduler != null) {
      scheduler.queuedElsewhere();
    }
  }

  /** Stops beating and sending, and leaves: the others count this replica gone at once. */
  @Override
  public void close() {
    running = false;
    if (beat != null) {
      beat.shutdownNow();
    }
    if (publisher != null) {
      try {
        publisher.join(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      store.leave(id);
    } catch (RuntimeException e) {
      logger.warn("could not remove this replica's row; the others stop counting it within {}: {}", liveWithin,
          e.toString());
    }
  }
}
