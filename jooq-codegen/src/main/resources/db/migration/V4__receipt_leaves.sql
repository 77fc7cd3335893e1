-- Receipts become the ledger's leaves: each takes its leaf index when it is issued, in the
-- transaction that completes its job, so that sealing reads them in index order and writes no row
-- per leaf. Issuing locks one counter row, which keeps the indexes dense and in commit order however
-- many coordinators share the database (a transaction that rolls back gives its indexes back).

ALTER TABLE receipt ADD COLUMN leaf_idx bigint;
-- Receipts already sealed keep their leaf; those waiting follow, in the order they were issued.
UPDATE receipt SET leaf_idx = ledger_node.idx
  FROM ledger_node WHERE ledger_node.level = 0 AND ledger_node.receipt_id = receipt.receipt_id;
UPDATE receipt SET leaf_idx = waiting.idx
  FROM (SELECT receipt_unsealed.receipt_id,
               ledger_head.tree_size + row_number() OVER (ORDER BY receipt_unsealed.seq) - 1 AS idx
          FROM receipt_unsealed, ledger_head) AS waiting
 WHERE waiting.receipt_id = receipt.receipt_id;
ALTER TABLE receipt ALTER COLUMN leaf_idx SET NOT NULL;
ALTER TABLE receipt DROP CONSTRAINT receipt_pkey;
ALTER TABLE receipt ADD PRIMARY KEY (leaf_idx);
ALTER TABLE receipt ADD CONSTRAINT receipt_receipt_id_key UNIQUE (receipt_id);
-- The receipt is written in the transaction that completes its job, which exists; the per-row key
-- check cost more than the receipt's other indexes together.
ALTER TABLE receipt DROP CONSTRAINT receipt_job_id_fkey;
DROP INDEX receipt_client_created_idx;
-- A client's receipts, read newest (last issued) first by a backward scan; ascending, so that each
-- insert lands at the index's right edge.
CREATE INDEX receipt_client_leaf_idx ON receipt (client_id, leaf_idx);
-- Leaf hashes are random: a hash index keeps 4 bytes a receipt where the B-tree kept the 32 and a
-- uniqueness check (two bodies with one SHA-256 do not occur; each names its own receipt id).
ALTER TABLE receipt DROP CONSTRAINT receipt_leaf_hash_key;
CREATE INDEX receipt_leaf_hash_idx ON receipt USING hash (leaf_hash);

DROP TABLE receipt_unsealed;

-- Leaves are the receipts' own rows now: the tree keeps its perfect subtrees of levels 4, 8, ...
DELETE FROM ledger_node WHERE level = 0;
ALTER TABLE ledger_node DROP COLUMN receipt_id;

-- How many leaves were issued: the next receipt's index. One row, locked by each issuing
-- transaction, apart from ledger_head so that issuing never waits for a block being sealed.
CREATE TABLE ledger_issued (
    id      boolean PRIMARY KEY DEFAULT true CHECK (id),
    leaves  bigint  NOT NULL
);
INSERT INTO ledger_issued (leaves) SELECT count(*) FROM receipt;
