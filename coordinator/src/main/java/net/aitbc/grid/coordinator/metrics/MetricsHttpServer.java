package net.aitbc.grid.coordinator.metrics;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import net.aitbc.grid.transport.ServerTls;
import org.jspecify.annotations.Nullable;

/** Serves {@code GET /metrics} in the Prometheus text format, over HTTPS when given a TLS context. */
public final class MetricsHttpServer implements AutoCloseable {
  private final HttpServer server;

  /** Starts serving on {@code host:port} (0 picks a free port), over HTTPS with {@code tls} unless it is null. */
  public MetricsHttpServer(String host, int port, GridMetrics metrics, @Nullable SSLContext tls) {
    requireNonNull(metrics, "metrics");
    try {
      InetSocketAddress address = new InetSocketAddress(host, port);
      if (tls == null) {
        server = HttpServer.create(address, 0);
      } else {
        HttpsServer https = HttpsServer.create(address, 0);
        https.setHttpsConfigurator(new HttpsConfigurator(tls));
        server = https;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen for metrics on " + host + ":" + port, e);
    }
    server.createContext("/metrics", exchange -> {
      try (exchange) {
        if (!exchange.getRequestMethod().equals("GET")) {
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream os = exchange.getResponseBody()) {
          os.write(body);
        }
      }
    });
    server.start();
  }

  /**
   * The JDK TLS context of the gRPC listener's certificate and key, so that Prometheus scrapes over
   * HTTPS with the same trust; client certificates are not asked for here. Netty reads the PEM files,
   * as it does for gRPC.
   */
  public static SSLContext sslContext(ServerTls tls) {
    try {
      return ((JdkSslContext) SslContextBuilder.forServer(tls.cert().toFile(), tls.key().toFile())
          .sslProvider(SslProvider.JDK).build()).context();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot use " + tls.cert() + " and " + tls.key() + " for TLS: "
          + e.getMessage(), e);
    }
  }

  /** The port it listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
