package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.UUID;
import org.jooq.DSLContext;
import org.jooq.JSONB;

/** Worker sessions and their leases. */
public final class SessionStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public SessionStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** Records a new session whose lease runs until {@code leaseExpiresAt}. */
  public void open(UUID sessionId, String workerId, String ownerId, String capabilitiesJson,
      OffsetDateTime leaseExpiresAt) {
    dsl.insertInto(WORKER_SESSION)
        .set(WORKER_SESSION.SESSION_ID, sessionId)
        .set(WORKER_SESSION.WORKER_ID, workerId)
        .set(WORKER_SESSION.OWNER_ID, ownerId)
        .set(WORKER_SESSION.CAPABILITIES, JSONB.valueOf(capabilitiesJson))
        .set(WORKER_SESSION.CONNECTED_AT, OffsetDateTime.now(ZoneOffset.UTC))
        .set(WORKER_SESSION.LEASE_EXPIRES_AT, leaseExpiresAt)
        .execute();
  }

  /** Extends the leases of open sessions in one statement. */
  public void renew(Collection<UUID> sessionIds, OffsetDateTime leaseExpiresAt) {
    if (sessionIds.isEmpty()) {
      return;
    }
    dsl.update(WORKER_SESSION)
        .set(WORKER_SESSION.LEASE_EXPIRES_AT, leaseExpiresAt)
        .where(WORKER_SESSION.SESSION_ID.in(sessionIds).and(WORKER_SESSION.CLOSED_AT.isNull()))
        .execute();
  }

  /** Forgets sessions closed before {@code before}; returns how many. */
  public int forgetClosed(OffsetDateTime before) {
    return dsl.deleteFrom(WORKER_SESSION).where(WORKER_SESSION.CLOSED_AT.lt(before)).execute();
  }

  /** Closes sessions and ends their leases now, so that their jobs can be taken back at once. */
  public void close(Collection<UUID> sessionIds) {
    if (sessionIds.isEmpty()) {
      return;
    }
    OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
    dsl.update(WORKER_SESSION)
        .set(WORKER_SESSION.CLOSED_AT, now)
        .set(WORKER_SESSION.LEASE_EXPIRES_AT, now)
        .where(WORKER_SESSION.SESSION_ID.in(sessionIds).and(WORKER_SESSION.CLOSED_AT.isNull()))
        .execute();
  }
}
