package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;

import static org.jooq.impl.DSL.currentOffsetDateTime;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.UUID;
import org.jooq.DSLContext;
import org.jooq.types.DayToSecond;
import org.jooq.Field;
import org.jooq.JSONB;

/** Worker sessions and their leases. */
public final class SessionStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public SessionStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** Records a new session whose lease runs for {@code lease} from now, by the database's clock. */
  public void open(UUID sessionId, String workerId, String ownerId, String capabilitiesJson, Duration lease) {
    dsl.insertInto(WORKER_SESSION)
        .set(WORKER_SESSION.SESSION_ID, sessionId)
        .set(WORKER_SESSION.WORKER_ID, workerId)
        .set(WORKER_SESSION.OWNER_ID, ownerId)
        .set(WORKER_SESSION.CAPABILITIES, JSONB.valueOf(capabilitiesJson))
        .set(WORKER_SESSION.CONNECTED_AT, currentOffsetDateTime())
        .set(WORKER_SESSION.LEASE_EXPIRES_AT, leaseFromNow(lease))
        .execute();
  }

  /**
   * Extends the leases of open sessions in one statement, to {@code lease} from now by the
   * database's clock: every coordinator sweeping this table compares leases with the same clock.
   */
  public void renew(Collection<UUID> sessionIds, Duration lease) {
    if (sessionIds.isEmpty()) {
      return;
    }
    dsl.update(WORKER_SESSION)
        .set(WORKER_SESSION.LEASE_EXPIRES_AT, leaseFromNow(lease))
        .where(WORKER_SESSION.SESSION_ID.in(sessionIds).and(WORKER_SESSION.CLOSED_AT.isNull()))
        .execute();
  }

  /** Forgets sessions closed longer than {@code ago} before now; returns how many. */
  public int forgetClosed(Duration ago) {
    return dsl.deleteFrom(WORKER_SESSION)
        .where(WORKER_SESSION.CLOSED_AT.lt(currentOffsetDateTime().minus(DayToSecond.valueOf(ago))))
        .execute();
  }

  /** Closes sessions and ends their leases now, so that their jobs can be taken back at once. */
  public void close(Collection<UUID> sessionIds) {
    if (sessionIds.isEmpty()) {
      return;
    }
    dsl.update(WORKER_SESSION)
        .set(WORKER_SESSION.CLOSED_AT, currentOffsetDateTime())
        .set(WORKER_SESSION.LEASE_EXPIRES_AT, currentOffsetDateTime())
        .where(WORKER_SESSION.SESSION_ID.in(sessionIds).and(WORKER_SESSION.CLOSED_AT.isNull()))
        .execute();
  }

  private static Field<OffsetDateTime> leaseFromNow(Duration lease) {
    return currentOffsetDateTime().plus(DayToSecond.valueOf(lease));
  }
}
