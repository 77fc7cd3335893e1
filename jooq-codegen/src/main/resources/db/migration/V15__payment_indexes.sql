-- Fewer index entries per paid job: every paid job writes three transfers and a payment that its
-- release rewrites, and each index of those tables is one more insertion for each (issue 10's budget).

-- The escrow's transfer id is a name-based UUID of "escrow:" and its payment id (Transfers.id), so
-- the primary key already lets a payment be escrowed once.
DROP INDEX transfer_escrows_once_uq;

-- An owner's transfers (AccountStore.transfers) are the only reads by account, and an owner's
-- accounts (client, worker_owner) are debited only by escrows and credited only by deposits, posts
-- and voids: the escrow, fee and external accounts' sides, one or two entries of every transfer,
-- were never read.
DROP INDEX transfer_debit_idx;
DROP INDEX transfer_credit_idx;
CREATE INDEX transfer_owner_debit_idx ON transfer (debit_account_id, created_at DESC) WHERE kind = 'escrow';
CREATE INDEX transfer_owner_credit_idx ON transfer (credit_account_id, created_at DESC)
    WHERE kind IN ('deposit', 'post', 'void');

-- A job's payments are found through job.payment_id, which names its latest (the only one that can be
-- live); payment_job_live_uq still keeps one live payment per job. Jobs are never deleted, so the
-- foreign key to job needs no index here.
DROP INDEX payment_job_created_idx;
