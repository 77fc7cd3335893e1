package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.COORDINATOR_REPLICA;
import static net.aitbc.grid.db.Tables.KEY_USAGE;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.excluded;
import static org.jooq.impl.DSL.sum;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.db.Routines;
import org.jooq.DSLContext;
import org.jooq.types.DayToSecond;

/**
 * The coordinators that share this database: each stamps its row with the database's clock (never a
 * JVM's), and what they tell each other goes out as notifications; and how many calls each admitted
 * per key, so that rate limits hold for all of them together.
 */
public final class ClusterStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public ClusterStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * Stamps this replica as alive now and returns the other replicas stamped within {@code liveWithin}
   * of now, by the database's clock.
   */
  public List<UUID> heartbeat(UUID replicaId, String address, Duration liveWithin) {
    return dsl.transactionResult(c -> {
      DSLContext tx = c.dsl();
      tx.insertInto(COORDINATOR_REPLICA)
          .set(COORDINATOR_REPLICA.REPLICA_ID, replicaId)
          .set(COORDINATOR_REPLICA.ADDRESS, address)
          .onConflict(COORDINATOR_REPLICA.REPLICA_ID)
          .doUpdate().set(COORDINATOR_REPLICA.SEEN_AT, currentOffsetDateTime())
          .execute();
      return tx.select(COORDINATOR_REPLICA.REPLICA_ID).from(COORDINATOR_REPLICA)
          .where(COORDINATOR_REPLICA.REPLICA_ID.ne(replicaId),
              COORDINATOR_REPLICA.SEEN_AT.gt(currentOffsetDateTime().minus(DayToSecond.valueOf(liveWithin))))
          .fetch(COORDINATOR_REPLICA.REPLICA_ID);
    });
  }

  /** This replica stops: the others count it gone at once. */
  public void leave(UUID replicaId) {
    dsl.deleteFrom(COORDINATOR_REPLICA).where(COORDINATOR_REPLICA.REPLICA_ID.eq(replicaId)).execute();
  }

  /** Forgets replicas silent for longer than {@code silentFor} (killed ones never leave), and their usage. */
  public int forgetSilent(Duration silentFor) {
    return dsl.deleteFrom(COORDINATOR_REPLICA)
        .where(COORDINATOR_REPLICA.SEEN_AT.lt(currentOffsetDateTime().minus(DayToSecond.valueOf(silentFor))))
        .execute();
  }

  /** Sends these messages to every listening replica, in order, once this statement commits. */
  public void publish(List<String> payloads) {
    if (!payloads.isEmpty()) {
      Routines.clusterNotify(dsl.configuration(), payloads.toArray(String[]::new));
    }
  }

  /** Which key's calls of which kind ({@code submit} or {@code call}). */
  public record Usage(String keyId, String kind) {}

  /**
   * Records how many calls this replica has admitted so far per key and kind (cumulative) and
   * returns the same totals of every other replica, summed.
   */
  public Map<Usage, Long> exchangeUsage(UUID replicaId, Map<Usage, Long> admitted) {
    return dsl.transactionResult(c -> {
      DSLContext tx = c.dsl();
      if (!admitted.isEmpty()) {
        var insert = tx.insertInto(KEY_USAGE, KEY_USAGE.REPLICA_ID, KEY_USAGE.KEY_ID, KEY_USAGE.KIND, KEY_USAGE.ADMITTED);
        for (Map.Entry<Usage, Long> e : admitted.entrySet()) {
          insert = insert.values(replicaId, e.getKey().keyId(), e.getKey().kind(), e.getValue());
        }
        insert.onConflict(KEY_USAGE.REPLICA_ID, KEY_USAGE.KEY_ID, KEY_USAGE.KIND)
            .doUpdate().set(KEY_USAGE.ADMITTED, excluded(KEY_USAGE.ADMITTED))
            .execute();
      }
      Map<Usage, Long> others = new HashMap<>();
      tx.select(KEY_USAGE.KEY_ID, KEY_USAGE.KIND, sum(KEY_USAGE.ADMITTED)).from(KEY_USAGE)
          .where(KEY_USAGE.REPLICA_ID.ne(replicaId))
          .groupBy(KEY_USAGE.KEY_ID, KEY_USAGE.KIND)
          .forEach(r -> others.put(new Usage(r.value1(), r.value2()), r.value3().longValue()));
      return others;
    });
  }
}
