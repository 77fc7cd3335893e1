-- Signed receipts of completed jobs and the append-only ledger (an RFC 9162 Merkle tree) they are
-- sealed into, block by block.

-- One receipt per completed job, written in the transaction that completes it, never changed but
-- for its signature.
CREATE TABLE receipt (
    receipt_id  uuid        PRIMARY KEY,
    job_id      uuid        NOT NULL UNIQUE REFERENCES job (job_id),
    client_id   text        NOT NULL,
    worker_id   text        NOT NULL,
    -- The canonical JSON that is signed and hashed: the receipt without its signature, and the
    -- ledger's leaf entry.
    body        text        NOT NULL,
    -- SHA-256(0x00 || body), the leaf hash: the receipt's "transaction hash" in the explorer.
    leaf_hash   bytea       NOT NULL UNIQUE,
    -- The coordinator's Ed25519 signature of body. Ed25519 is deterministic, so it is the same
    -- whenever it is made: it is made when the receipt is first read, not on the completion path.
    signature   bytea,
    created_at  timestamptz NOT NULL
);
-- A client's receipts, newest first.
CREATE INDEX receipt_client_created_idx ON receipt (client_id, created_at DESC, receipt_id DESC);

-- Receipts waiting for a block, in the order they were issued: written with the receipt, deleted by
-- the block that seals it. Narrow, so that sealing rewrites no receipt.
CREATE TABLE receipt_unsealed (
    seq         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receipt_id  uuid        NOT NULL,
    leaf_hash   bytea       NOT NULL,
    created_at  timestamptz NOT NULL
);

-- Aligned perfect subtrees of the ledger: level k, index i covers leaves [i*2^k, (i+1)*2^k). Kept
-- at the levels that are multiples of 4 (about 1.07 rows per leaf); level 0 rows are the leaves as
-- sealed, each naming its receipt. Proofs read O(log^2 n) of these, never the receipts.
CREATE TABLE ledger_node (
    level       smallint NOT NULL,
    idx         bigint   NOT NULL,
    hash        bytea    NOT NULL,
    receipt_id  uuid,
    PRIMARY KEY (level, idx)
);
-- A receipt's leaf; at most one each.
CREATE UNIQUE INDEX ledger_node_receipt_uq ON ledger_node (receipt_id) WHERE receipt_id IS NOT NULL;

CREATE TABLE block (
    height        bigint      PRIMARY KEY CHECK (height >= 1),
    -- SHA-256 of the canonical header without its signature.
    hash          bytea       NOT NULL UNIQUE,
    prev_hash     bytea       NOT NULL,
    tree_size     bigint      NOT NULL,
    root          bytea       NOT NULL,
    receipt_count integer     NOT NULL,
    sealed_at     timestamptz NOT NULL,
    -- The coordinator's key id and the signed canonical header (with its signature), verbatim.
    key_id        text        NOT NULL,
    header        text        NOT NULL
);
-- Proofs are asked for at a block's tree size; a leaf's block is the first whose tree holds it.
CREATE UNIQUE INDEX block_tree_size_uq ON block (tree_size);

-- The ledger's head: one row, locked by whoever seals, so that blocks form one chain however many
-- coordinators share the database. The frontier (the perfect subtrees of tree_size's binary
-- decomposition, largest first) is what appending needs.
CREATE TABLE ledger_head (
    id         boolean     PRIMARY KEY DEFAULT true CHECK (id),
    height     bigint      NOT NULL,
    hash       bytea       NOT NULL,
    tree_size  bigint      NOT NULL,
    frontier   bytea[]     NOT NULL,
    sealed_at  timestamptz
);
INSERT INTO ledger_head (height, hash, tree_size, frontier) VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000', 0, '{}');

-- Each worker's Ed25519 public key, pinned at its first registration.
CREATE TABLE worker_key (
    worker_id   text        PRIMARY KEY,
    owner_id    text        NOT NULL,
    public_key  bytea       NOT NULL,
    pinned_at   timestamptz NOT NULL
);
