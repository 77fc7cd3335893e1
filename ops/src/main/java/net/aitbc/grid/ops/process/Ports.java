package net.aitbc.grid.ops.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;

/** Free TCP ports on loopback. */
public final class Ports {
  private Ports() {}

  /** A port that was free a moment ago (another process may still take it before it is bound). */
  public static int free() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
