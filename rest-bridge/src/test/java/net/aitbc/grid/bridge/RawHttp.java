package net.aitbc.grid.bridge;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * A bare HTTP/1.1 client on a socket: it writes the request bytes exactly as given (malformed ones
 * included, which {@code java.net.http} refuses to send) and reads one answer. A watchdog closes the
 * socket at the deadline, so that neither a write nor a read can hang a test.
 */
final class RawHttp implements AutoCloseable {
  /** The status of an exchange the server ended without sending a status line. */
  static final int CLOSED = -1;
  /** The status of an exchange that did not end before the deadline. */
  static final int TIMED_OUT = -2;

  private static final int MAX_HEAD = 256 * 1024;
  private static final int MAX_BODY = 64 * 1024 * 1024;

  private final int port;
  private final Duration deadline;
  private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "raw-http-watchdog");
    t.setDaemon(true);
    return t;
  });

  RawHttp(int port, Duration deadline) {
    this.port = port;
    this.deadline = deadline;
  }

  /**
   * One answer: its status ({@link #CLOSED} or {@link #TIMED_OUT} when there was none), its headers
   * with lower-case names, its body (de-chunked), how long it took, and why the body is incomplete
   * (null when it is whole).
   */
  record Answer(int status, Map<String, List<String>> headers, byte[] body, Duration took,
      @Nullable String incomplete) {
    /** The first value of a header, or null. */
    @Nullable String header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** The body as UTF-8 text. */
    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** Sends {@code request} on a new connection and reads the final (non-1xx) answer to it. */
  Answer exchange(byte[] request, boolean head) {
    long start = System.nanoTime();
    AtomicBoolean fired = new AtomicBoolean();
    try (Socket socket = new Socket()) {
      ScheduledFuture<?> timer = watchdog.schedule(() -> {
        fired.set(true);
        closeQuietly(socket);
      }, deadline.toMillis(), TimeUnit.MILLISECONDS);
      try {
        socket.connect(new InetSocketAddress("127.0.0.1", port), (int) deadline.toMillis());
        socket.setSoTimeout((int) deadline.toMillis());
        try {
          OutputStream out = socket.getOutputStream();
          out.write(request);
          out.flush();
        } catch (IOException e) {
          // The server may answer (413, 431, 400) and close before it read everything: read what it said.
        }
        return read(new BufferedInputStream(socket.getInputStream()), head, start, fired);
      } finally {
        timer.cancel(false);
      }
    } catch (IOException e) {
      return new Answer(fired.get() ? TIMED_OUT : CLOSED, Map.of(), new byte[0], since(start), e.toString());
    }
  }

  private static Answer read(InputStream in, boolean head, long start, AtomicBoolean fired) throws IOException {
    while (true) {
      String statusLine = line(in);
      if (statusLine == null) {
        return new Answer(CLOSED, Map.of(), new byte[0], since(start), null);
      }
      String[] parts = statusLine.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
        throw new IOException("not a status line: " + statusLine);
      }
      int status;
      try {
        status = Integer.parseInt(parts[1]);
      } catch (NumberFormatException e) {
        throw new IOException("not a status line: " + statusLine, e);
      }
      Map<String, List<String>> headers = new LinkedHashMap<>();
      int headBytes = 0;
      for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
        headBytes += h.length();
        if (headBytes > MAX_HEAD) {
          throw new IOException("response head too large");
        }
        int colon = h.indexOf(':');
        if (colon > 0) {
          headers.computeIfAbsent(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
              .add(h.substring(colon + 1).trim());
        }
      }
      if (status >= 100 && status < 200 && status != 101) {
        // An interim answer (100 Continue): the final one follows. 101 ends HTTP/1 on this connection.
        continue;
      }
      byte[] body;
      List<String> length = headers.get("content-length");
      List<String> encoding = headers.get("transfer-encoding");
      try {
        if (head || status == 101 || status == 204 || status == 304) {
          body = new byte[0];
        } else if (encoding != null && encoding.getLast().toLowerCase(Locale.ROOT).contains("chunked")) {
          body = chunked(in);
        } else if (length != null) {
          body = exactly(in, Integer.parseInt(length.getFirst()));
        } else {
          body = untilEof(in);
        }
      } catch (IOException | NumberFormatException e) {
        // The status came; the body did not (whole). A stream that never ends is a hang.
        return new Answer(fired.get() ? TIMED_OUT : status, headers, new byte[0], since(start),
            (fired.get() ? "no end within the deadline after status " + status + ": " : "") + e);
      }
      return new Answer(status, headers, body, since(start), null);
    }
  }

  private static byte[] chunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String size = line(in);
      if (size == null) {
        throw new IOException("connection closed inside a chunked body");
      }
      int semi = size.indexOf(';');
      int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
      if (n == 0) {
        for (String trailer = line(in); trailer != null && !trailer.isEmpty(); trailer = line(in)) {
          // Trailers are not needed.
        }
        return body.toByteArray();
      }
      if (body.size() + n > MAX_BODY) {
        throw new IOException("response body too large");
      }
      body.write(exactly(in, n));
      line(in);
    }
  }

  private static byte[] exactly(InputStream in, int n) throws IOException {
    if (n > MAX_BODY) {
      throw new IOException("response body too large");
    }
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new IOException("connection closed after " + b.length + " of " + n + " body bytes");
    }
    return b;
  }

  private static byte[] untilEof(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
      body.write(buf, 0, n);
      if (body.size() > MAX_BODY) {
        throw new IOException("response body too large");
      }
    }
    return body.toByteArray();
  }

  /** One line without its CRLF, or null at the end of the stream before any byte. */
  private static @Nullable String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        break;
      }
      if (b.size() > MAX_HEAD) {
        throw new IOException("line too long");
      }
      b.write(c);
    }
    if (c < 0 && b.size() == 0) {
      return null;
    }
    String s = b.toString(StandardCharsets.ISO_8859_1);
    return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
  }

  private static Duration since(long start) {
    return Duration.ofNanos(System.nanoTime() - start);
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // Closing is all the watchdog does; a socket already closed is fine.
    }
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
  }
}
