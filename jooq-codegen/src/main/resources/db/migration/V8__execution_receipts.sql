-- Execution receipts: an agent workflow execution that ends (completed, failed or cancelled) gets a
-- signed receipt in the transaction that ends it, naming each of its step jobs' receipts by leaf
-- hash. It is a leaf of the ledger like a job's or a payment's receipt, so it lives in the same table:
-- the same counter gives its index, the same blocks seal it, the same proofs prove it. A receipt with
-- an execution_id is that execution's, and names no job.

-- No foreign key, as for job_id and payment_id (V4, V6): the receipt is written in the transaction
-- that ends its execution, under that execution's row lock.
ALTER TABLE receipt ADD COLUMN execution_id uuid;
ALTER TABLE receipt ALTER COLUMN job_id DROP NOT NULL;
-- A job's receipt (and its payments') names the job; an execution's names the execution instead.
ALTER TABLE receipt ADD CONSTRAINT receipt_job_or_execution CHECK ((job_id IS NULL) <> (execution_id IS NULL));

-- An execution ends once: at most one receipt each, whatever retries or restarts. Partial, so that
-- job and payment receipts write no entry here.
CREATE UNIQUE INDEX receipt_execution_uq ON receipt (execution_id) WHERE execution_id IS NOT NULL;

-- The execution's receipt, set in the transaction that ends it (null while it runs, or when the
-- coordinator that ended it had no signing key).
ALTER TABLE execution ADD COLUMN receipt_id uuid;
