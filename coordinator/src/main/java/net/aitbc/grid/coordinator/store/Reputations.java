package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.WORKER_REPUTATION;
import static org.jooq.impl.DSL.coalesce;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.round;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import org.jooq.DSLContext;
import org.jooq.Query;

/**
 * The statements that move a worker's reputation and measured latency after a swarm decision, each
 * one upsert, so that decisions made at once on other coordinators add up.
 */
final class Reputations {
  /** The weight of a new run time in the latency's moving average. */
  private static final BigDecimal LATENCY_WEIGHT = new BigDecimal("0.3");
  private static final BigDecimal START = new BigDecimal("0.5");

  private Reputations() {}

  /**
   * Up by {@link SwarmEngineStore#GAIN} of what the reputation lacks of 1 when the worker agreed
   * with an accepted consensus, down by {@link SwarmEngineStore#LOSS} of it when it dissented.
   */
  static Query judged(DSLContext tx, String workerId, String ownerId, boolean agreed, OffsetDateTime now) {
    var r = WORKER_REPUTATION.REPUTATION;
    BigDecimal gain = SwarmEngineStore.GAIN;
    BigDecimal loss = SwarmEngineStore.LOSS;
    BigDecimal first = agreed ? START.add(gain.multiply(START)) : START.subtract(loss.multiply(START));
    return tx.insertInto(WORKER_REPUTATION)
        .set(WORKER_REPUTATION.WORKER_ID, workerId)
        .set(WORKER_REPUTATION.OWNER_ID, ownerId)
        .set(WORKER_REPUTATION.REPUTATION, first)
        .set(WORKER_REPUTATION.AGREEMENTS, agreed ? 1 : 0)
        .set(WORKER_REPUTATION.DISSENTS, agreed ? 0 : 1)
        .set(WORKER_REPUTATION.UPDATED_AT, now)
        .onConflict(WORKER_REPUTATION.WORKER_ID)
        .doUpdate()
        .set(WORKER_REPUTATION.OWNER_ID, ownerId)
        .set(r, agreed ? r.plus(inline(gain).times(inline(BigDecimal.ONE).minus(r))) : r.minus(inline(loss).times(r)))
        .set(WORKER_REPUTATION.AGREEMENTS, WORKER_REPUTATION.AGREEMENTS.plus(agreed ? 1 : 0))
        .set(WORKER_REPUTATION.DISSENTS, WORKER_REPUTATION.DISSENTS.plus(agreed ? 0 : 1))
        .set(WORKER_REPUTATION.UPDATED_AT, now);
  }

  /** A member job's run time folded into its worker's measured latency, a moving average. */
  static Query ran(DSLContext tx, String workerId, String ownerId, long runMs, OffsetDateTime now) {
    int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(0, runMs));
    var l = WORKER_REPUTATION.LATENCY_MS;
    return tx.insertInto(WORKER_REPUTATION)
        .set(WORKER_REPUTATION.WORKER_ID, workerId)
        .set(WORKER_REPUTATION.OWNER_ID, ownerId)
        .set(WORKER_REPUTATION.REPUTATION, START)
        .set(WORKER_REPUTATION.AGREEMENTS, 0)
        .set(WORKER_REPUTATION.DISSENTS, 0)
        .set(l, ms)
        .set(WORKER_REPUTATION.UPDATED_AT, now)
        .onConflict(WORKER_REPUTATION.WORKER_ID)
        .doUpdate()
        .set(l, coalesce(round(l.cast(BigDecimal.class).times(inline(BigDecimal.ONE.subtract(LATENCY_WEIGHT)))
            .plus(inline(LATENCY_WEIGHT.multiply(BigDecimal.valueOf(ms))))).cast(Integer.class), inline(ms)))
        .set(WORKER_REPUTATION.UPDATED_AT, now);
  }
}
