-- Payment receipts: a payment that ends (released, or refunded for any reason) gets a signed receipt
-- in the transaction that ends it. It is a leaf of the ledger like a job's receipt, so it lives in
-- the same table: it takes its index from the same counter, is sealed into the same blocks and is
-- proved the same way, and nothing that seals, proves or audits the ledger tells the two apart. A
-- receipt with a payment_id is that payment's; one without is its job's.

-- No foreign key, as for job_id (V4): the receipt is written in the transaction that settles its
-- payment, under that payment's row lock; and PostgreSQL would queue the key's check for every
-- receipt inserted, job receipts with a null payment_id included, on the completion path.
ALTER TABLE receipt ADD COLUMN payment_id uuid;

-- One job receipt per job; the receipts of the job's payments name the job too.
ALTER TABLE receipt DROP CONSTRAINT receipt_job_id_key;
CREATE UNIQUE INDEX receipt_job_uq ON receipt (job_id) WHERE payment_id IS NULL;

-- A payment ends once: at most one receipt each, whatever retries. Partial, so that a job receipt
-- (the completion path) writes no entry here.
CREATE UNIQUE INDEX receipt_payment_uq ON receipt (payment_id) WHERE payment_id IS NOT NULL;

-- A refund of a job that never reached a worker names none.
ALTER TABLE receipt ALTER COLUMN worker_id DROP NOT NULL;
