package net.aitbc.grid.ops.process;

import java.io.IOException;
import net.aitbc.grid.ops.GridMain;
import sun.misc.Signal;

/**
 * The main class of every {@link GridProcess}: exactly {@code grid <args>} (GridMain), plus a
 * thread that stops the JVM as SIGTERM would when its standard input closes. The parent holds that pipe open, so a
 * parent that dies, even by SIGKILL, never leaves a child behind holding its ports and database.
 */
public final class GridChild {
  private GridChild() {}

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
      // Stops as on SIGTERM (a graceful close), also while the command is still starting.
      Signal.raise(new Signal("TERM"));
    });
    GridMain.main(args);
  }
}
