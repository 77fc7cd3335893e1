package net.aitbc.grid.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for an Ollama server (a peer we do not ship) that speaks its documented wire format:
 * {@code GET /api/tags} and a streaming {@code POST /api/generate} answering NDJSON chunks, one per
 * {@code chunkDelay}, ending with a {@code done:true} line with token counts.
 */
final class FakeOllama implements AutoCloseable {
  static final String MODEL = "slowpoke:latest";

  private final HttpServer server;
  private final List<String> chunks;
  private final Duration chunkDelay;
  private final AtomicInteger generating = new AtomicInteger();
  private final AtomicInteger mostAtOnce = new AtomicInteger();

  FakeOllama(List<String> chunks, Duration chunkDelay) throws IOException {
    this.chunks = chunks;
    this.chunkDelay = chunkDelay;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/api/tags", ex -> reply(ex, "{\"models\":[{\"name\":\"" + MODEL + "\",\"size\":1}]}"));
    server.createContext("/api/generate", this::generate);
    server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The most generations that ran at once since the last call; resets the count. */
  int mostAtOnceSinceLastAsked() {
    return mostAtOnce.getAndSet(generating.get());
  }

  private void generate(HttpExchange ex) throws IOException {
    mostAtOnce.accumulateAndGet(generating.incrementAndGet(), Math::max);
    try {
      stream(ex);
    } finally {
      generating.decrementAndGet();
    }
  }

  private void stream(HttpExchange ex) throws IOException {
    ex.getRequestBody().readAllBytes();
    ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
    ex.sendResponseHeaders(200, 0);
    try (OutputStream out = ex.getResponseBody()) {
      for (String chunk : chunks) {
        Thread.sleep(chunkDelay);
        line(out, "{\"model\":\"" + MODEL + "\",\"created_at\":\"2026-11-26T10:00:00Z\",\"response\":\"" + chunk
            + "\",\"done\":false}");
      }
      line(out, "{\"model\":\"" + MODEL + "\",\"created_at\":\"2026-11-26T10:00:01Z\",\"response\":\"\",\"done\":true,"
          + "\"done_reason\":\"stop\",\"total_duration\":1000000,\"prompt_eval_count\":4,\"eval_count\":" + chunks.size()
          + ",\"eval_duration\":900000}");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // The worker hung up (it was stopped or the job revoked).
    }
  }

  private static void line(OutputStream out, String json) throws IOException {
    out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static void reply(HttpExchange ex, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(200, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
