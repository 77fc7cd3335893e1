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
 */
public record Stores(JobStore jobs, ClaimStore claims, OutcomeStore outcomes, TakeBackStore takeBacks,
    SessionStore sessions, KeyStore keys, ReceiptStore receipts, LedgerStore ledger, WorkerKeyStore workerKeys) {

  /**
   * Every store over {@code dsl}; completions, and payments these stores release or refund, get
   * receipts when a {@code receiptMaker} is given.
   */
  public static Stores over(DSLContext dsl, @Nullable ReceiptMaker receiptMaker) {
    return new Stores(new JobStore(dsl), new ClaimStore(dsl), new OutcomeStore(dsl, receiptMaker),
        new TakeBackStore(dsl, receiptMaker), new SessionStore(dsl), new KeyStore(dsl), new ReceiptStore(dsl),
        new LedgerStore(dsl), new WorkerKeyStore(dsl));
  }
}
