package net.aitbc.grid.coordinator.auth;

import static java.util.Objects.requireNonNull;

/**
 * Who is calling: the client id and role of a valid API key. Never holds the key itself.
 *
 * @param clientId the id jobs are owned by
 * @param role what the key may do
 */
public record Principal(String clientId, Role role) {
  /** Checks the values. */
  public Principal {
    requireNonNull(clientId, "clientId");
    requireNonNull(role, "role");
  }
}
