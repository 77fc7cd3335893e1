package net.aitbc.grid.coordinator.auth;

import static java.util.Objects.requireNonNull;

/**
 * Who is calling: the client id, role and limits of a valid API key (or of a worker's client
 * certificate, see {@link ClientCertificates}). Never holds the key itself.
 *
 * @param clientId the id jobs are owned by
 * @param role what the key may do
 * @param keyId a stable id of the key (a prefix of its hash), for per-key limits; {@value
 *     #CERTIFICATE_PREFIX} and a prefix of the certificate's hash for a client certificate
 * @param limits what the key may use
 */
public record Principal(String clientId, Role role, String keyId, KeyLimits limits) {
  /** How the key id of a client certificate starts; a key's id is hex and never holds a colon. */
  public static final String CERTIFICATE_PREFIX = "cert:";

  /** Checks the values. */
  public Principal {
    requireNonNull(clientId, "clientId");
    requireNonNull(role, "role");
    requireNonNull(keyId, "keyId");
    requireNonNull(limits, "limits");
  }

  /** Whether a client certificate, not an API key, authenticated the call: no key to revoke or look up. */
  public boolean fromCertificate() {
    return keyId.startsWith(CERTIFICATE_PREFIX);
  }
}
