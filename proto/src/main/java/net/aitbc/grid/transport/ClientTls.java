package net.aitbc.grid.transport;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * TLS towards the coordinator: which CA to trust and which client certificate, if any, to present.
 *
 * @param ca a PEM file of the CA certificate(s) to trust; null trusts the JDK's default CAs
 * @param cert a PEM certificate chain to present (mutual TLS), or null for none
 * @param key the PKCS#8 PEM private key of {@code cert}, or null for none
 */
public record ClientTls(@Nullable Path ca, @Nullable Path cert, @Nullable Path key) {

  /** Checks that the certificate and key come together and that every file named can be read. */
  public ClientTls {
    if ((cert == null) != (key == null)) {
      throw new IllegalArgumentException("a client certificate needs its private key, and a key its certificate: "
          + "give both or neither");
    }
    ServerTls.checkReadable(ca, "the CA file");
    ServerTls.checkReadable(cert, "the client certificate");
    ServerTls.checkReadable(key, "the client key");
  }

  /** TLS that trusts the JDK's default CAs and presents no certificate. */
  public static ClientTls defaultTrust() {
    return new ClientTls(null, null, null);
  }

  /** Whether a client certificate is presented. */
  public boolean presentsCertificate() {
    return cert != null;
  }

  /** The gRPC credentials; throws {@link IllegalArgumentException} when a file cannot be read. */
  public ChannelCredentials credentials() {
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    try {
      if (ca != null) {
        b.trustManager(ca.toFile());
      }
      if (cert != null && key != null) {
        b.keyManager(cert.toFile(), key.toFile());
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the TLS files: " + e.getMessage(), e);
    }
    return b.build();
  }
}
