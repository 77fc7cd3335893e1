-- Retention (issue 15): finished jobs are retired (deleted) once they are older than the
-- coordinator's job retention, so that the job table, its indexes and every sweep of it stay the size
-- of recent traffic. Receipts, payments and transfers are the ledger and stay: each keeps its own copy
-- of what it attests (a receipt's body names its job, client, worker, price and hashes), so nothing
-- of theirs needs the job row.

-- A payment names its job, but must outlive it: a key to job would pin every paid job forever (and
-- would make each retirement look for payments without an index). Jobs are retired only once the
-- payment they name is settled (RetentionStore); the job id stays in the payment as its record.
ALTER TABLE payment DROP CONSTRAINT payment_job_id_fkey;

-- A retired job's latest payment is found without its job row (PaymentStore.findByJob): a live or
-- released one through payment_job_live_uq, a refunded or failed one through this index. Partial: a
-- release writes no entry here, a refund one (its update rewrites every index of payment already).
CREATE INDEX payment_job_settled_idx ON payment (job_id, created_at DESC) WHERE status IN ('refunded', 'failed');

-- A REST miner's job list (`miner jobs`) joins its rows to job; the rows of retired jobs are dropped
-- with them, found through this index (only REST miners' assignments pay for it).
CREATE INDEX miner_job_job_idx ON miner_job (job_id);

-- The job table is rewritten three times per job and now deleted from in batches: dead tuples come
-- in quickly, so autovacuum starts after 1 % of the table changed rather than 20 % (at millions of
-- rows the default lets tens of thousands of dead versions pile up in front of the claim's index
-- scans). fillfactor 90 leaves room on each page for a row's next version: an update that changes no
-- indexed column (linking a payment) stays HOT and writes no index entry, and the state changes,
-- which are not HOT (state is in the partial indexes' predicates), still land on the same page.
ALTER TABLE job SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02, fillfactor = 90);
-- job_attempt rows go with their jobs (ON DELETE CASCADE) and are as short-lived.
ALTER TABLE job_attempt SET (autovacuum_vacuum_scale_factor = 0.02);
-- The wake-up outboxes are inserted and deleted all the time: vacuum them as soon as a few hundred
-- rows are dead, whatever their size.
ALTER TABLE execution_wakeup SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500);
ALTER TABLE swarm_wakeup SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500);
