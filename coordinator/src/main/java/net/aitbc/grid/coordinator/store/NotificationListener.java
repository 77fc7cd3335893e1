package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Consumer;
import net.aitbc.grid.db.Routines;
import org.jooq.Configuration;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hears PostgreSQL's notifications on a connection of its own (a pooled one would be handed to
 * others between statements): a wake-up of an execution or a network run recorded by any
 * coordinator (or of a swarm task), a change of an execution, and the messages replicas send each
 * other. Reconnects when the connection fails; after every (re)connect it reports that
 * notifications may have been missed, so that the engines drain and watchers read again.
 */
public final class NotificationListener implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(NotificationListener.class);
  /** The application name of its connection, as pg_stat_activity shows it. */
  public static final String APPLICATION_NAME = "aitbc-listener";
  private static final String WAKEUP = "aitbc_execution_wakeup";
  private static final String CHANGED = "aitbc_execution_changed";
  private static final String NETWORK_WAKEUP = "aitbc_network_wakeup";
  private static final String SWARM_WAKEUP = "aitbc_swarm_wakeup";
  private static final String CLUSTER = "aitbc_cluster";
  private static final int POLL_MS = 500;
  private static final long RECONNECT_MS = 1_000;
  // Waiting for notifications sends nothing: a connection that died quietly is found by a round trip.
  private static final long PROBE_NS = 10_000_000_000L;

  private final String url;
  private final Properties credentials = new Properties();
  private final Runnable onWakeup;
  private final Consumer<UUID> onChanged;
  private final Consumer<String> onCluster;
  private final Runnable onConnected;
  private final Thread thread;
  private volatile boolean closed;

  /**
   * Starts listening on the database at {@code url}: {@code onWakeup} hears of wake-ups (of executions,
   * network runs and swarm tasks), {@code onChanged} of changed executions, {@code onCluster} of the
   * replicas' messages, {@code onConnected} of every (re)connection. They are called on the listening
   * thread and must not block.
   */
  public NotificationListener(String url, @Nullable String user, @Nullable String password, Runnable onWakeup,
      Consumer<UUID> onChanged, Consumer<String> onCluster, Runnable onConnected) {
    this.url = requireNonNull(url, "url");
    credentials.setProperty("ApplicationName", APPLICATION_NAME);
    if (user != null) {
      credentials.setProperty("user", user);
    }
    if (password != null) {
      credentials.setProperty("password", password);
    }
    this.onWakeup = requireNonNull(onWakeup, "onWakeup");
    this.onChanged = requireNonNull(onChanged, "onChanged");
    this.onCluster = requireNonNull(onCluster, "onCluster");
    this.onConnected = requireNonNull(onConnected, "onConnected");
    this.thread = Thread.ofPlatform().name("grid-listener").daemon().start(this::loop);
  }

  private void loop() {
    boolean failing = false;
    while (!closed) {
      try (Connection c = DriverManager.getConnection(url, credentials)) {
        Configuration listening = DSL.using(c, SQLDialect.POSTGRES).configuration();
        Routines.workflowListen(listening);
        Routines.clusterListen(listening);
        PGConnection pg = c.unwrap(PGConnection.class);
        if (failing) {
          logger.info("listening to notifications again");
          failing = false;
        }
        onConnected.run();
        long probe = System.nanoTime() + PROBE_NS;
        while (!closed) {
          if (System.nanoTime() - probe >= 0) {
            // Listening again to the same channels changes nothing: it is the round trip.
            Routines.workflowListen(listening);
            probe = System.nanoTime() + PROBE_NS;
          }
          PGNotification[] received = pg.getNotifications(POLL_MS);
          if (received != null) {
            for (PGNotification n : received) {
              dispatch(n);
            }
          }
        }
      } catch (SQLException | RuntimeException e) {
        if (!closed && !failing) {
          logger.warn("notifications lost ({}); reconnecting every {} ms", e.toString(), RECONNECT_MS);
          failing = true;
        }
        sleep();
      }
    }
  }

  private void dispatch(PGNotification n) {
    switch (n.getName()) {
      case WAKEUP, NETWORK_WAKEUP, SWARM_WAKEUP -> onWakeup.run();
      case CLUSTER -> onCluster.accept(n.getParameter());
      case CHANGED -> {
        try {
          onChanged.accept(UUID.fromString(n.getParameter()));
        } catch (IllegalArgumentException e) {
          logger.warn("a notification on {} names no execution: {}", CHANGED, n.getParameter());
        }
      }
      default -> logger.debug("notification on an unexpected channel: {}", n.getName());
    }
  }

  private void sleep() {
    try {
      Thread.sleep(RECONNECT_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  /** Stops listening (within one poll). */
  @Override
  public void close() {
    closed = true;
    try {
      thread.join(POLL_MS * 4L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
