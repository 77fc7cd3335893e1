package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.WORKER_KEY;

import java.util.Arrays;
import java.util.Optional;
import org.jooq.DSLContext;

/** Workers' public keys, pinned to their ids at first registration. */
public final class WorkerKeyStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public WorkerKeyStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * Pins {@code publicKey} to {@code workerId} unless a key is pinned already; returns the pinned key
   * when it is another one (the registration must be refused), empty when this key is the worker's.
   */
  public Optional<byte[]> pin(String workerId, String ownerId, byte[] publicKey) {
    dsl.insertInto(WORKER_KEY).set(WORKER_KEY.WORKER_ID, workerId).set(WORKER_KEY.OWNER_ID, ownerId)
        .set(WORKER_KEY.PUBLIC_KEY, publicKey).set(WORKER_KEY.PINNED_AT, JobStore.now())
        .onConflict(WORKER_KEY.WORKER_ID).doNothing()
        .execute();
    byte[] pinned = dsl.select(WORKER_KEY.PUBLIC_KEY).from(WORKER_KEY).where(WORKER_KEY.WORKER_ID.eq(workerId))
        .fetchSingle().value1();
    return Arrays.equals(pinned, publicKey) ? Optional.empty() : Optional.of(pinned);
  }
}
