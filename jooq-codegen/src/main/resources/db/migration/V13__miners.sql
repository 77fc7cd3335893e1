-- REST miners (MinerService, the aitbc CLI's `miner` commands): a miner is named by its owner (the
-- client id of its worker key) and its own id. Its registration outlives its sessions: a miner whose
-- session ended (silent past its lease, or the coordinator restarted) gets a new one from these
-- capabilities at its next call, until it deregisters. Sessions and leases are worker_session rows,
-- as for stream workers.
CREATE TABLE miner (
    owner_id        text        NOT NULL,
    miner_id        text        NOT NULL,
    -- WorkerCapabilities as proto JSON: what matching reads.
    capabilities    jsonb       NOT NULL,
    -- The capabilities as the miner described them, for operators.
    described       jsonb       NOT NULL,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    deregistered_at timestamptz,
    PRIMARY KEY (owner_id, miner_id)
);

-- The jobs handed to each miner (one row per job, its latest attempt there), for `miner jobs`. Only
-- REST miners write here, batched: the job table gets no index for it, which every job would pay.
CREATE TABLE miner_job (
    owner_id    text        NOT NULL,
    miner_id    text        NOT NULL,
    job_id      uuid        NOT NULL,
    attempt     integer     NOT NULL,
    assigned_at timestamptz NOT NULL,
    PRIMARY KEY (owner_id, miner_id, job_id)
);
CREATE INDEX miner_job_assigned_idx ON miner_job (owner_id, miner_id, assigned_at DESC);
