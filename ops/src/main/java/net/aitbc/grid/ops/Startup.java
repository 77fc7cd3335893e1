package net.aitbc.grid.ops;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.Backend;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Starts a long-running part so that a SIGTERM, SIGINT (Ctrl-C) or SIGHUP that comes while it is
 * still starting waits for the start to end, and then stops it cleanly.
 *
 * <p>The JVM runs every shutdown hook at once, and ONNX Runtime registers one that frees its native
 * environment: a JVM that begins its shutdown while the embedded model's session is being created
 * crashes inside onnxruntime (SIGSEGV, {@code hs_err_pid*.log}), and that creation cannot be
 * interrupted. So during the start these signals only ask it to stop (it checks between its steps
 * and gives up early); once it has ended, the part's shutdown hook is in place, the JVM's own
 * handlers are back, and the JVM exits as the signal would have made it: shutdown hooks, then the
 * status 128 + the signal's number.
 */
final class Startup {
  private static final Logger logger = LoggerFactory.getLogger(Startup.class);
  private static final List<String> STOP_SIGNALS = List.of("TERM", "INT", "HUP");

  private Startup() {}

  /** Thrown by a start that saw the stop between two steps, after closing what it had started. */
  static final class Stopped extends RuntimeException {
    Stopped(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Runs {@code start} with a check that says whether a stop was asked for, then registers a
   * shutdown hook that closes what it returned; returns it, or null if the start gave up.
   */
  static <T extends AutoCloseable> @Nullable T run(String what, Function<BooleanSupplier, T> start) {
    AtomicReference<@Nullable Signal> received = new AtomicReference<>();
    Map<Signal, SignalHandler> jvmHandlers = new LinkedHashMap<>();
    for (String name : STOP_SIGNALS) {
      Signal signal = new Signal(name);
      try {
        jvmHandlers.put(signal, Signal.handle(signal, s -> {
          if (received.compareAndSet(null, s)) {
            logger.info("stopping {} on SIG{}: waiting for the start under way to end (it cannot be interrupted)",
                what, s.getName());
          }
        }));
      } catch (IllegalArgumentException e) {
        // The JVM does not handle this one (-Xrs): it never starts a shutdown on it either.
      }
    }
    try {
      T part = start.apply(() -> received.get() != null);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> close(what, part), "grid-shutdown"));
      return part;
    } catch (Stopped e) {
      logger.info("{}", e.getMessage());
      return null;
    } finally {
      jvmHandlers.forEach(Signal::handle);
      Signal stop = received.get();
      if (stop != null) {
        // What the JVM's handler would have done: the shutdown hooks run, the status says which signal.
        System.exit(128 + stop.getNumber());
      }
    }
  }

  private static void close(String what, AutoCloseable part) {
    try {
      part.close();
    } catch (Exception e) {
      logger.warn("stopping {} failed: {}", what, e.toString());
    }
  }

  /**
   * Loads the worker's backends and starts it, unless a stop came during the load: then closes the
   * backends and throws {@link Stopped} without ever connecting.
   */
  static WorkerNode startWorker(WorkerConfig config, BooleanSupplier stopRequested) {
    List<Backend> backends = WorkerNode.loadBackends(config);
    if (stopRequested.getAsBoolean()) {
      backends.forEach(Backend::close);
      throw new Stopped("[worker=" + config.workerId() + "] stopped before connecting; its backends are closed");
    }
    return WorkerNode.start(config, backends);
  }
}
