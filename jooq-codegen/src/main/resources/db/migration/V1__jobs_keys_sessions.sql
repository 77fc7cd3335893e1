-- The grid's system of record. Migrations are the only source of the schema: the jOOQ classes are
-- generated from them at build time.

CREATE TYPE job_state AS ENUM ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED');

CREATE TYPE key_role AS ENUM ('client', 'worker', 'admin');

-- API keys are stored as SHA-256 hashes: the key itself is shown once, when it is created.
CREATE TABLE api_key (
    key_hash    bytea       PRIMARY KEY,
    -- The first characters of the key, so that operators can tell keys apart.
    key_prefix  text        NOT NULL,
    role        key_role    NOT NULL,
    client_id   text        NOT NULL,
    -- This key's share of the workers relative to other clients' keys (fair share).
    weight      double precision NOT NULL DEFAULT 1 CHECK (weight > 0),
    -- Submissions per second and burst of the key's token bucket; NULL takes the coordinator's
    -- default, 0 or less means unlimited.
    rate_per_sec double precision,
    burst       integer,
    -- The most queued jobs the key's client may have; NULL takes the coordinator's default.
    max_queued  integer,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- One row per worker stream. A session's lease covers all the jobs it runs: heartbeats extend it,
-- and when it runs out, its jobs go back to the queue.
CREATE TABLE worker_session (
    session_id       uuid        PRIMARY KEY,
    worker_id        text        NOT NULL,
    -- The client id of the worker key that opened the session.
    owner_id         text        NOT NULL,
    capabilities     jsonb       NOT NULL,
    connected_at     timestamptz NOT NULL,
    lease_expires_at timestamptz NOT NULL,
    closed_at        timestamptz
);

CREATE TABLE job (
    job_id       uuid        PRIMARY KEY,
    client_id    text        NOT NULL,
    -- Idempotency key given by the client; unique per client.
    request_id   text,
    type         text        NOT NULL,
    model        text,
    payload      jsonb       NOT NULL,
    -- What a worker must offer (NULL: anything). GPU names are kept without spaces or punctuation,
    -- in lower case, and match as a substring; CUDA is major * 100 + minor.
    req_gpu          text,
    req_cuda         integer,
    req_min_vram_mb  integer,
    req_models       text[],
    req_region       text,
    req_max_price    double precision,
    priority     smallint    NOT NULL DEFAULT 5 CHECK (priority BETWEEN 0 AND 9),
    -- Start tag of start-time fair queuing: jobs are handed out in tag order within a priority, and
    -- each client's tags advance by 1/weight per job, so clients share workers by weight.
    fair_tag     double precision NOT NULL DEFAULT 0,
    state        job_state   NOT NULL,
    attempt      integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL CHECK (max_attempts >= 1),
    -- The session holding the current attempt while RUNNING.
    session_id   uuid,
    worker_id    text,
    created_at   timestamptz NOT NULL,
    -- A queued job is not handed out before this time (retry backoff).
    run_after    timestamptz NOT NULL,
    started_at   timestamptz,
    finished_at  timestamptz,
    expires_at   timestamptz NOT NULL,
    result       jsonb,
    error        text,
    metrics      jsonb,
    payment_id   uuid
);

-- Every index below is paid for on each state change (a job's row is rewritten three times), so
-- each one is partial where it can be and none is kept that a query does not need.

-- Idempotency keys are unique per client; jobs without one are not in this index at all.
CREATE UNIQUE INDEX job_client_request_uq ON job (client_id, request_id) WHERE request_id IS NOT NULL;

-- The dispatcher's claim: queued jobs of a type, best priority first, then in fair-share order.
CREATE INDEX job_queued_idx ON job (type, priority DESC, fair_tag) WHERE state = 'QUEUED';
-- TTL expiry of queued jobs (running ones are few and found through the next index).
CREATE INDEX job_queued_expiry_idx ON job (expires_at) WHERE state = 'QUEUED';
-- The jobs a session runs: requeue of a lost session, reconciliation, expiry of running jobs.
CREATE INDEX job_running_session_idx ON job (session_id) WHERE state = 'RUNNING';
-- A client's history, newest first.
CREATE INDEX job_client_created_idx ON job (client_id, created_at DESC, job_id DESC);

-- Attempts that ended without completing the job (failed, lost with their worker): the history a
-- FAILED job reports. A completed attempt is described by the job row itself.
CREATE TABLE job_attempt (
    job_id      uuid        NOT NULL REFERENCES job (job_id) ON DELETE CASCADE,
    attempt     integer     NOT NULL,
    worker_id   text,
    session_id  uuid,
    started_at  timestamptz,
    ended_at    timestamptz NOT NULL,
    error       text        NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
