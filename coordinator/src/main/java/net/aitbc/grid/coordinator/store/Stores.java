package net.aitbc.grid.coordinator.store;

import org.jooq.DSLContext;

/**
 * Every store over one database, as the coordinator's parts share them.
 *
 * @param jobs submission and reads
 * @param claims the claim
 * @param outcomes outcomes workers report
 * @param takeBacks take-back, expiry and cancel
 * @param sessions worker sessions and their leases
 * @param keys API keys
 */
public record Stores(JobStore jobs, ClaimStore claims, OutcomeStore outcomes, TakeBackStore takeBacks,
    SessionStore sessions, KeyStore keys) {

  /** Every store over {@code dsl}. */
  public static Stores over(DSLContext dsl) {
    return new Stores(new JobStore(dsl), new ClaimStore(dsl), new OutcomeStore(dsl), new TakeBackStore(dsl),
        new SessionStore(dsl), new KeyStore(dsl));
  }
}
