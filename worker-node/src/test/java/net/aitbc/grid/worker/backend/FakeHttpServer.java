package net.aitbc.grid.worker.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/** A loopback HTTP server standing in for a model server; records what it was asked. */
final class FakeHttpServer implements AutoCloseable {

  /** One request as the server saw it. */
  record Request(String method, String path, String authorization, String body) {
    JsonNode json() {
      try {
        return new ObjectMapper().readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Answers one exchange. */
  @FunctionalInterface
  interface Handler {
    void handle(HttpExchange exchange) throws Exception;
  }

  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final HttpServer server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final CountDownLatch closed = new CountDownLatch(1);

  FakeHttpServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    // One thread per exchange: a slow stream must not hold up the next request.
    server.setExecutor(executor);
    server.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  List<Request> requests() {
    return requests;
  }

  /** The last request to {@code path}. */
  Request last(String path) {
    return requests.reversed().stream()
        .filter(r -> r.path().equals(path))
        .findFirst()
        .orElseThrow();
  }

  void on(String path, Handler handler) {
    server.createContext(
        path,
        exchange -> {
          String body =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          String auth = exchange.getRequestHeaders().getFirst("Authorization");
          requests.add(
              new Request(
                  exchange.getRequestMethod(),
                  exchange.getRequestURI().getPath(),
                  auth == null ? "" : auth,
                  body));
          try (exchange) {
            handler.handle(exchange);
          } catch (Exception e) {
            // Cut-off streams end here on purpose.
          }
        });
  }

  /** Holds a handler, as a model that has stalled, until the server closes (at most 30 s). */
  void stall() throws InterruptedException {
    closed.await(30, TimeUnit.SECONDS);
  }

  /** A complete JSON answer. */
  static void json(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  /** A chunked stream, each piece flushed on its own, ended properly. */
  static void stream(HttpExchange exchange, String contentType, List<String> pieces)
      throws IOException {
    send(exchange, contentType, 0, pieces);
  }

  /**
   * Announces a longer body than it sends, sends {@code pieces}, then closes the connection: the
   * client sees the stream break half-way, as when a model server dies mid-answer.
   */
  static void cutOff(HttpExchange exchange, String contentType, List<String> pieces)
      throws IOException {
    // Closing short of the announced length makes the server drop the connection.
    send(exchange, contentType, 1_000_000, pieces);
  }

  /** Sends {@code pieces} with a 200, each flushed on its own; {@code length} 0 means chunked. */
  private static void send(
      HttpExchange exchange, String contentType, long length, List<String> pieces)
      throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(200, length);
    OutputStream out = exchange.getResponseBody();
    for (String piece : pieces) {
      out.write(piece.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }
  }

  @Override
  public void close() {
    // Let stalled handlers go first, so none outlives the test.
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
  }
}
