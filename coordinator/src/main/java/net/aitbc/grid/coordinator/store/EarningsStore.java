package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.inline;
import static org.jooq.impl.DSL.sum;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;

/** What the workers of an owner earned (contract §7's miner earnings): released, pending, history. */
public final class EarningsStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public EarningsStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * One currency's figures.
   *
   * @param currency the currency
   * @param earned released to the owner, net of fees, within the period
   * @param pending held in escrow for jobs the owner's workers are running now
   * @param completedJobs paid jobs released within the period
   */
  public record Totals(Currency currency, BigDecimal earned, BigDecimal pending, int completedJobs) {}

  /**
   * An owner's (or one of its workers') earnings.
   *
   * @param totals per currency that has any figure
   * @param history the released payments, newest first
   */
  public record Earnings(List<Totals> totals, List<StoredPayment> history) {}

  /**
   * The earnings of {@code ownerId}'s workers, or of its worker {@code workerId} only; released
   * within [{@code from}, {@code to}) where given; at most {@code historyLimit} payments listed.
   */
  public Earnings of(String ownerId, @Nullable String workerId, @Nullable OffsetDateTime from,
      @Nullable OffsetDateTime to, int historyLimit) {
    Condition released = PAYMENT.STATUS.eq(inline(PaymentStatus.released)).and(PAYMENT.WORKER_OWNER_ID.eq(ownerId));
    if (workerId != null) {
      released = released.and(PAYMENT.WORKER_ID.eq(workerId));
    }
    if (from != null) {
      released = released.and(PAYMENT.RELEASED_AT.ge(from));
    }
    if (to != null) {
      released = released.and(PAYMENT.RELEASED_AT.lt(to));
    }
    Map<Currency, BigDecimal> earned = new EnumMap<>(Currency.class);
    Map<Currency, Integer> jobs = new EnumMap<>(Currency.class);
    dsl.select(PAYMENT.CURRENCY, sum(PAYMENT.AMOUNT.minus(PAYMENT.FEE_AMOUNT)), count())
        .from(PAYMENT).where(released).groupBy(PAYMENT.CURRENCY)
        .forEach(r -> {
          earned.put(r.value1(), r.value2());
          jobs.put(r.value1(), r.value3());
        });
    Condition running = PAYMENT.STATUS.eq(inline(PaymentStatus.escrowed))
        .and(JOB.STATE.eq(inline(JobState.RUNNING))).and(WORKER_SESSION.OWNER_ID.eq(ownerId));
    if (workerId != null) {
      running = running.and(JOB.WORKER_ID.eq(workerId));
    }
    Map<Currency, BigDecimal> pending = new EnumMap<>(Currency.class);
    dsl.select(PAYMENT.CURRENCY, sum(PAYMENT.AMOUNT))
        .from(PAYMENT)
        .join(JOB).on(JOB.PAYMENT_ID.eq(PAYMENT.PAYMENT_ID))
        .join(WORKER_SESSION).on(WORKER_SESSION.SESSION_ID.eq(JOB.SESSION_ID))
        .where(running)
        .groupBy(PAYMENT.CURRENCY)
        .forEach(r -> pending.put(r.value1(), r.value2()));
    List<Totals> totals = new ArrayList<>();
    for (Currency c : Currency.values()) {
      if (earned.containsKey(c) || pending.containsKey(c)) {
        totals.add(new Totals(c, earned.getOrDefault(c, BigDecimal.ZERO), pending.getOrDefault(c, BigDecimal.ZERO),
            jobs.getOrDefault(c, 0)));
      }
    }
    List<StoredPayment> history = dsl.selectFrom(PAYMENT).where(released)
        .orderBy(PAYMENT.RELEASED_AT.desc(), PAYMENT.PAYMENT_ID.desc())
        .limit(historyLimit)
        .fetch(Settlements::toPayment);
    return new Earnings(totals, history);
  }
}
