package net.aitbc.grid.ops;

import java.nio.file.Path;
import net.aitbc.grid.transport.ClientTls;
import net.aitbc.grid.transport.ServerTls;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * TLS on the command line: {@link Client} is how a command reaches the coordinator (worker,
 * accounts; the bridge names the same settings {@code --coordinator-tls...}), and {@link #server}
 * turns a listener's {@code --tls-cert}/{@code --tls-key} into its settings.
 */
final class TlsOptions {
  private TlsOptions() {}

  /** {@code --tls}, {@code --tls-ca}, {@code --tls-cert}, {@code --tls-key}, for a client of the coordinator. */
  static final class Client {
    @Option(names = "--tls", defaultValue = "${env:AITBC_TLS:-false}",
        description = "reach the coordinator over TLS, trusting the JDK's CAs unless --tls-ca names one; implied by "
            + "--tls-ca and --tls-cert (env AITBC_TLS)")
    boolean tls;

    @Option(names = "--tls-ca", paramLabel = "PEM", defaultValue = "${env:AITBC_TLS_CA}",
        description = "the CA certificate(s) that signed the coordinator's certificate (env AITBC_TLS_CA)")
    @Nullable Path ca;

    @Option(names = "--tls-cert", paramLabel = "PEM", defaultValue = "${env:AITBC_TLS_CERT}",
        description = "a client certificate to present (mutual TLS); a worker needs no API key with one whose CN is "
            + "its owner's client id (env AITBC_TLS_CERT)")
    @Nullable Path cert;

    @Option(names = "--tls-key", paramLabel = "PEM", defaultValue = "${env:AITBC_TLS_KEY}",
        description = "the client certificate's PKCS#8 private key (env AITBC_TLS_KEY)")
    @Nullable Path key;

    /** The settings, or null for plaintext. */
    @Nullable ClientTls clientTls() {
      return client(tls, ca, cert, key);
    }
  }

  /** TLS to the coordinator when asked for or implied by a file, else null (plaintext). */
  static @Nullable ClientTls client(boolean tls, @Nullable Path ca, @Nullable Path cert, @Nullable Path key) {
    return tls || ca != null || cert != null || key != null ? new ClientTls(ca, cert, key) : null;
  }

  /**
   * A listener's TLS from its certificate, key and client CA options, or null for plaintext; throws
   * {@link IllegalArgumentException} when one is missing ({@code certOption} and {@code keyOption}
   * name them).
   */
  static @Nullable ServerTls server(@Nullable Path cert, @Nullable Path key, @Nullable Path clientCa,
      String certOption, String keyOption) {
    if (cert == null && key == null) {
      if (clientCa != null) {
        throw new IllegalArgumentException("a client CA needs TLS: give " + certOption + " and " + keyOption + " too");
      }
      return null;
    }
    if (cert == null || key == null) {
      throw new IllegalArgumentException("TLS needs both " + certOption + " and " + keyOption);
    }
    return new ServerTls(cert, key, clientCa);
  }
}
