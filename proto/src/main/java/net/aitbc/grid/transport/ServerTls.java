package net.aitbc.grid.transport;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The PEM files a listener serves TLS with.
 *
 * @param cert the server's PEM certificate chain
 * @param key its PKCS#8 PEM private key ({@code BEGIN PRIVATE KEY})
 * @param clientCa a PEM file of the CAs whose client certificates are accepted (mutual TLS), or
 *     null to ask for none; clients without a certificate are still served
 */
public record ServerTls(Path cert, Path key, @Nullable Path clientCa) {

  /** Checks that every file named can be read. */
  public ServerTls {
    checkReadable(cert, "the TLS certificate");
    checkReadable(key, "the TLS key");
    checkReadable(clientCa, "the client CA file");
  }

  /** Whether client certificates are asked for and checked against {@link #clientCa()}. */
  public boolean checksClientCertificates() {
    return clientCa != null;
  }

  /**
   * The gRPC server credentials: this certificate, and when a client CA is set, a request for a
   * client certificate (optional: API-key clients have none) that must chain to it.
   */
  public ServerCredentials credentials() {
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder();
    try {
      b.keyManager(cert.toFile(), key.toFile());
      if (clientCa != null) {
        b.trustManager(clientCa.toFile()).clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the TLS files: " + e.getMessage(), e);
    }
    return b.build();
  }

  static void checkReadable(@Nullable Path file, String what) {
    if (file != null && !(Files.isRegularFile(file) && Files.isReadable(file))) {
      throw new IllegalArgumentException(what + " " + file + " is not a readable file");
    }
  }
}
