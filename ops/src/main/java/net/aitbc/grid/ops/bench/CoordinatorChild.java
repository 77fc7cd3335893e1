package net.aitbc.grid.ops.bench;

import java.io.IOException;
import net.aitbc.grid.ops.GridMain;

/**
 * The benchmark's coordinator JVM: exactly {@code grid <args>} (GridMain), plus a thread that exits
 * the JVM when its standard input closes. The benchmark holds that pipe open, so a benchmark that
 * dies, even by SIGKILL, never leaves a coordinator behind holding its port and database.
 */
public final class CoordinatorChild {
  private CoordinatorChild() {}

  /** Runs {@code grid <args>} until the parent goes away or the JVM is stopped. */
  public static void main(String[] args) {
    Thread.ofPlatform().daemon().name("parent-watch").start(() -> {
      try {
        while (System.in.read() >= 0) {
          // Nothing is ever written; only the end of the stream matters.
        }
      } catch (IOException e) {
        // A broken pipe means the same as its end.
      }
      // Runs the coordinator's shutdown hook: a graceful close, as on SIGTERM.
      System.exit(0);
    });
    GridMain.main(args);
  }
}
