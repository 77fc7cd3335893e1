package net.aitbc.grid.coordinator.auth;

import static java.util.Objects.requireNonNull;

/**
 * Who is calling: the client id, role and limits of a valid API key. Never holds the key itself.
 *
 * @param clientId the id jobs are owned by
 * @param role what the key may do
 * @param keyId a stable id of the key (a prefix of its hash), for per-key limits
 * @param limits what the key may use
 */
public record Principal(String clientId, Role role, String keyId, KeyLimits limits) {
  /** Checks the values. */
  public Principal {
    requireNonNull(clientId, "clientId");
    requireNonNull(role, "role");
    requireNonNull(keyId, "keyId");
    requireNonNull(limits, "limits");
  }
}
