package net.aitbc.grid.coordinator.store;

import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;

/**
 * Every store over one database, as the coordinator's parts share them.
 *
 * @param jobs submission and reads
 * @param claims the claim
 * @param outcomes outcomes workers report
 * @param takeBacks take-back, expiry and cancel
 * @param sessions worker sessions and their leases
 * @param keys API keys
 * @param receipts receipts
 * @param ledger blocks and the Merkle tree
 * @param workerKeys workers' pinned public keys
 * @param resultCache the results of deterministic jobs
 */
public record Stores(JobStore jobs, ClaimStore claims, OutcomeStore outcomes, TakeBackStore takeBacks,
    SessionStore sessions, KeyStore keys, ReceiptStore receipts, LedgerStore ledger, WorkerKeyStore workerKeys,
    ResultCache resultCache) {

  /**
   * Every store over {@code dsl}; completions, and payments these stores release or refund, get
   * receipts when a {@code receiptMaker} is given.
   */
  public static Stores over(DSLContext dsl, @Nullable ReceiptMaker receiptMaker) {
    return over(dsl, receiptMaker, ResultCache.Policy.OFF);
  }

  /** {@link #over(DSLContext, ReceiptMaker)} with a result cache under {@code cache}. */
  public static Stores over(DSLContext dsl, @Nullable ReceiptMaker receiptMaker, ResultCache.Policy cache) {
    ResultCache results = new ResultCache(dsl, cache);
    return new Stores(new JobStore(dsl, results, receiptMaker), new ClaimStore(dsl), new OutcomeStore(dsl, receiptMaker, results),
        new TakeBackStore(dsl, receiptMaker), new SessionStore(dsl), new KeyStore(dsl), new ReceiptStore(dsl),
        new LedgerStore(dsl), new WorkerKeyStore(dsl), results);
  }
}
