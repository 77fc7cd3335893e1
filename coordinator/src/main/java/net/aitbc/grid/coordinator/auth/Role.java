package net.aitbc.grid.coordinator.auth;

import java.util.Locale;

/** What a key may do: submit and read jobs, run them, or administer the grid. */
public enum Role {
  /** Submits and reads its own jobs. */
  CLIENT,
  /** Opens a worker stream and runs jobs. */
  WORKER,
  /** Administers the grid; can also act as a client. */
  ADMIN;

  /** Parses {@code client}, {@code worker} or {@code admin}, in any case. */
  public static Role parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown role '" + text + "': expected client, worker or admin", e);
    }
  }

  /** The lower-case name used on the command line and in the database. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
